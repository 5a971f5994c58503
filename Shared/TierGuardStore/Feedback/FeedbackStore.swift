import Foundation
import JobQueue
import Postgres

/// The answer to an accepted item: 201 applied, 202 kept pending (unknown customer), 200 a replay
/// of an earlier item with that item's first answer. The body holds ids and states, never free text.
public struct FeedbackOutcome: Sendable, Equatable {
    public var status: Int
    public var body: String
    public init(status: Int, body: String) { self.status = status; self.body = body }
}

/// Stores feedback items. Every function runs inside the caller's transaction on a session the
/// caller owns (a `PostgresConnection`'s thread), so an item, its receipt and its coalesced
/// `score_customer` job commit together or not at all; the HTTP answer is sent after the commit.
public enum FeedbackStore {
    /// Idempotent submission: claims the (kind, key) receipt first. A concurrent duplicate waits on
    /// the receipt's row lock and then sees it, so one item is stored once whatever the timing.
    /// The same key with a different item is refused (409 `idempotency-conflict`).
    public static func submit(_ session: PostgresSession, _ item: FeedbackItem, source: String) throws -> FeedbackOutcome {
        let hash = item.requestHash
        // One round trip claims the key and tells whether the item's customer is in the archive.
        let claim = try session.query(PostgresQuery("""
            INSERT INTO feedback_receipts (kind, key, request_hash, status, body, source)
            VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT (kind, key) DO NOTHING
            RETURNING EXISTS (SELECT 1 FROM customers WHERE customer_id = $5)
            """, name: "FeedbackSQL.claimReceipt").binding(item.kind.rawValue, item.key, hash, source, item.customerID))
        if claim.count == 0 {
            let rows = try session.query(PostgresQuery(
                "SELECT request_hash, body FROM feedback_receipts WHERE kind = $1 AND key = $2",
                name: "FeedbackSQL.readReceipt").binding(item.kind.rawValue, item.key))
            guard let row = rows.first(where: { _ in true }) else {
                throw FeedbackProblem(409, "idempotency-conflict", "Try again", "a concurrent submission of this key did not commit")
            }
            guard try row.decode(String.self, column: "request_hash") == hash else {
                throw FeedbackProblem.field(409, "idempotency-conflict", "Idempotency key reused",
                                            field: keyField(item.kind), reason: "already used for a different \(item.kind.rawValue)")
            }
            return FeedbackOutcome(status: 200, body: try row.decode(String.self, column: "body"))
        }
        let outcome = try applyOrPark(session, item, source: source,
                                      customerKnown: item.customerID == nil ? nil : try claim[0].decode(Bool.self, at: 0))
        try session.execute(PostgresQuery(
            "UPDATE feedback_receipts SET status = $3, body = $4 WHERE kind = $1 AND key = $2",
            name: "FeedbackSQL.finishReceipt").binding(item.kind.rawValue, item.key, outcome.status, outcome.body))
        return outcome
    }

    static func keyField(_ kind: FeedbackKind) -> String {
        switch kind {
        case .survey: "survey_id"
        case .complaint: "complaint_id"
        case .complaintEvent: "event_id"
        case .visit: "visit_id"
        case .preference: "preference_id"
        case .alertFeedback: "alert_id"
        }
    }

    /// Applies the item, or parks it in `feedback_pending` when its customer is not in the archive.
    /// `customerKnown`: already looked up by the caller for items that name their customer.
    static func applyOrPark(_ session: PostgresSession, _ item: FeedbackItem, source: String,
                            customerKnown: Bool? = nil) throws -> FeedbackOutcome {
        let customer: String
        switch item.payload {
        case .complaintEvent(let event):
            if let owner = try scalar(session, PostgresQuery("SELECT customer_id FROM complaints WHERE complaint_id = $1",
                                                             name: "FeedbackSQL.complaintCustomer").binding(event.complaintID)) {
                customer = owner
            } else if let parked = try scalar(session, PostgresQuery(
                "SELECT customer_id FROM feedback_pending WHERE kind = 'complaint' AND key = $1",
                name: "FeedbackSQL.pendingComplaintCustomer").binding(event.complaintID)) {
                return try park(session, item, customer: parked, source: source)
            } else {
                throw FeedbackProblem.field(404, "unknown-complaint", "Unknown complaint", field: "complaint_id", reason: "no such complaint")
            }
        case .alertFeedback(let feedback):
            guard let owner = try scalar(session, PostgresQuery("SELECT customer_id FROM alerts WHERE id = $1",
                                                                name: "FeedbackSQL.alertCustomer").binding(feedback.alertID)) else {
                throw FeedbackProblem.field(404, "unknown-alert", "Unknown alert", field: "alert_id", reason: "no such alert")
            }
            customer = owner
        default:
            customer = item.customerID ?? ""
        }
        let known = try customerKnown ?? (scalar(session, PostgresQuery("SELECT customer_id FROM customers WHERE customer_id = $1",
                                                                        name: "FeedbackSQL.customerExists").binding(customer)) != nil)
        guard known else { return try park(session, item, customer: customer, source: source) }
        let body = try apply(session, item, customer: customer, source: source)
        return FeedbackOutcome(status: 201, body: body)
    }

    static func park(_ session: PostgresSession, _ item: FeedbackItem, customer: String, source: String) throws -> FeedbackOutcome {
        try session.execute(PostgresQuery("""
            INSERT INTO feedback_pending (kind, key, customer_id, item, source) VALUES ($1, $2, $3, $4::jsonb, $5)
            ON CONFLICT (kind, key) DO NOTHING
            """, name: "FeedbackSQL.park").binding(item.kind.rawValue, item.key, customer, FeedbackJSON.canonical(item.object), source))
        return FeedbackOutcome(status: 202, body: answer(["status": "pending", "kind": item.kind.rawValue,
                                                          keyField(item.kind): item.key, "customer_id": customer]))
    }

    /// The job that makes the scorer look at the customer again, coalesced per customer.
    static func scoreJob(_ customer: String) -> NewJob {
        NewJob(queue: "scorer", kind: "score_customer", argsJSON: answer(["customer_id": customer]), uniqueKey: "score:\(customer)")
    }

    /// Applies a known customer's item and enqueues its `score_customer` job; returns the 201 body.
    static func apply(_ session: PostgresSession, _ item: FeedbackItem, customer: String, source: String) throws -> String {
        var fields: [String: String] = ["status": "accepted", "kind": item.kind.rawValue, keyField(item.kind): item.key,
                                        "customer_id": customer]
        switch item.payload {
        case .survey(let s):
            try session.execute(PostgresQuery("""
                INSERT INTO feedback_surveys (survey_id, customer_id, kind, score, touchpoint, answered_at, comment, source)
                VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7, $8)
                """, name: "FeedbackSQL.insertSurvey").binding(s.surveyID, s.customerID, s.kind, s.score, s.touchpoint,
                                                               s.answeredAt, s.comment, source))
        case .complaint(let c):
            if let handler = c.handlerID, handler == c.namedStaffID { throw recusal() }
            let rows = try session.query(PostgresQuery("""
                INSERT INTO complaints (complaint_id, customer_id, received_at, received_on, channel, category, severity,
                                        description, named_staff_id, handler_id, initial_due_on, decision_due_on, source)
                SELECT $1, $2, $3::timestamptz, d, $4, $5, $6, $7, $8, $9, d + 15, d + 15, $10
                FROM (SELECT ($3::timestamptz AT TIME ZONE 'Asia/Shanghai')::date AS d) r
                RETURNING received_on::text, decision_due_on::text
                """, name: "FeedbackSQL.insertComplaint").binding(c.complaintID, c.customerID, c.receivedAt, c.channel,
                                                                  c.category, c.severity, c.description, c.namedStaffID,
                                                                  c.handlerID, source))
            let row = rows[0]
            fields["state"] = "received"
            fields["received_on"] = try row.decode(String.self, column: "received_on")
            fields["decision_due_on"] = try row.decode(String.self, column: "decision_due_on")
        case .complaintEvent(let e):
            let result = try ComplaintClock.applyEvent(session, e, source: source)
            fields["complaint_id"] = e.complaintID
            fields["state"] = result.state
            fields["decision_due_on"] = result.dueOn
        case .visit(let v):
            try session.execute(PostgresQuery("""
                INSERT INTO rm_visits (visit_id, customer_id, rm_id, visited_at, method, outcome, amount_fen, alert_id, task_id, note, source)
                VALUES ($1, $2, $3, $4::timestamptz, $5, $6, $7, $8, $9, $10, $11)
                """, name: "FeedbackSQL.insertVisit").binding(v.visitID, v.customerID, v.rmID, v.visitedAt, v.method, v.outcome,
                                                              v.amountFen, v.alertID, v.taskID, v.note, source))
            // The matching open task: the one named; else the open tasks of the alert named; else the
            // customer's open tasks assigned to this RM.
            let closed = try session.query(PostgresQuery("""
                UPDATE rm_tasks SET status = 'done', closed_at = now()
                WHERE status = 'open' AND customer_id = $1
                  AND CASE WHEN $2::bigint IS NOT NULL THEN id = $2::bigint
                           WHEN $3::bigint IS NOT NULL THEN alert_id = $3::bigint
                           ELSE rm_id = $4 END
                RETURNING id
                """, name: "FeedbackSQL.closeTasks").binding(v.customerID, v.taskID, v.alertID, v.rmID))
            let ids = try closed.map { try $0.decode(Int64.self, column: "id") }.sorted()
            if !ids.isEmpty {
                try session.execute(PostgresQuery("UPDATE rm_visits SET closed_task_ids = $2::bigint[] WHERE visit_id = $1",
                                                  name: "FeedbackSQL.visitTasks").binding(v.visitID, ids))
            }
            fields["closed_task_ids"] = ids.map(String.init).joined(separator: ",")
        case .preference(let p):
            try session.execute(PostgresQuery("""
                INSERT INTO preference_events (preference_id, customer_id, marketing_opt_out, automated_profiling_refused, channel, source, recorded_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz)
                """, name: "FeedbackSQL.insertPreference").binding(p.preferenceID, p.customerID, p.marketingOptOut,
                                                                   p.automatedProfilingRefused, p.channel, source, p.recordedAt))
            // A flag changes only when this statement is not older than the one that set it.
            try session.execute(PostgresQuery("""
                INSERT INTO customer_preferences AS cp (customer_id, marketing_opt_out_recorded, automated_profiling_refused, source, recorded_at)
                VALUES ($1, coalesce($2::boolean, false), coalesce($3::boolean, false), $4, $5::timestamptz)
                ON CONFLICT (customer_id) DO UPDATE SET
                    marketing_opt_out_recorded = CASE WHEN $2::boolean IS NOT NULL AND EXCLUDED.recorded_at >= cp.recorded_at
                                                      THEN $2::boolean ELSE cp.marketing_opt_out_recorded END,
                    automated_profiling_refused = CASE WHEN $3::boolean IS NOT NULL AND EXCLUDED.recorded_at >= cp.recorded_at
                                                       THEN $3::boolean ELSE cp.automated_profiling_refused END,
                    source = CASE WHEN EXCLUDED.recorded_at >= cp.recorded_at THEN EXCLUDED.source ELSE cp.source END,
                    recorded_at = greatest(cp.recorded_at, EXCLUDED.recorded_at)
                """, name: "FeedbackSQL.upsertPreference").binding(p.customerID, p.marketingOptOut, p.automatedProfilingRefused,
                                                                   p.channel + "/" + source, p.recordedAt))
        case .alertFeedback(let f):
            try session.execute(PostgresQuery("""
                INSERT INTO alert_feedback (alert_id, customer_id, useful, reason_code, rm_id, source) VALUES ($1, $2, $3, $4, $5, $6)
                """, name: "FeedbackSQL.insertAlertFeedback").binding(f.alertID, customer, f.useful, f.reasonCode, f.rmID, source))
        }
        try JobEnqueuer.enqueue(session, [scoreJob(customer)])
        return answer(fields)
    }

    static func recusal() -> FeedbackProblem {
        FeedbackProblem.field(409, "recusal", "Recusal (回避) violated", field: "handler_id",
                              reason: "the handler must not be the staff member the complaint names")
    }

    static func scalar(_ session: PostgresSession, _ query: PostgresQuery) throws -> String? {
        let rows = try session.query(query)
        return rows.count == 0 ? nil : try rows[0].decode(String?.self, at: 0)
    }

    /// A small JSON object of strings, keys sorted.
    static func answer(_ fields: [String: String]) -> String {
        FeedbackJSON.canonical(fields.mapValues { FeedbackJSON.string($0) })
    }
}
