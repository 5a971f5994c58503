import Foundation
import JobQueue
import Postgres

/// The complaint clock of 《银行业保险业消费投诉处理管理办法》, counted in calendar days from
/// `received_on`, the Asia/Shanghai day of receipt:
/// - a decision and its notice are due by received_on + 15 (`initialDays`);
/// - a first extension (a complex case: reason, approver, complainant notified) moves it to + 30;
/// - a second extension (senior approval, complainant notified) moves it to + 60 (`maximumDays`);
/// - never beyond + 60: a third extension is refused, as is one without `approved_by` or
///   `customer_notified_at` (422 `extension-refused`).
/// The clock stops when the complainant is `informed`. Alerts: 3 days before the deadline in force
/// (`warningDays`) and on its breach, one each per complaint and deadline, through the notifier.
public enum ComplaintClock {
    public static let initialDays = 15
    public static let extendedDays = [30, 60]
    public static let maximumDays = 60
    public static let warningDays = 3

    struct Result { var state: String; var dueOn: String }

    /// Applies one state change to a complaint locked `FOR UPDATE`; refuses transitions the
    /// regulation's order does not allow (409 `invalid-transition`).
    static func applyEvent(_ session: PostgresSession, _ e: FeedbackItem.ComplaintEvent, source: String) throws -> Result {
        let rows = try session.query(PostgresQuery("""
            SELECT state, named_staff_id, handler_id, extensions, received_on::text AS received_on, decision_due_on::text AS due
            FROM complaints WHERE complaint_id = $1 FOR UPDATE
            """, name: "ComplaintSQL.lock").binding(e.complaintID))
        guard rows.count == 1 else {
            throw FeedbackProblem.field(404, "unknown-complaint", "Unknown complaint", field: "complaint_id", reason: "no such complaint")
        }
        let row = rows[0]
        let state = try row.decode(String.self, column: "state")
        let named = try row.decode(String?.self, column: "named_staff_id")
        let extensions = try row.decode(Int.self, column: "extensions")
        let receivedOn = try row.decode(String.self, column: "received_on")
        var due = try row.decode(String.self, column: "due")
        func refuse(_ allowed: [String]) -> FeedbackProblem {
            FeedbackProblem.field(409, "invalid-transition", "Invalid complaint state change", field: "type",
                                  reason: "\(e.type) is not allowed in state \(state) (allowed from: \(allowed.joined(separator: ", ")))")
        }
        let open = ["received", "acknowledged", "extended"]
        var newState = state
        switch e.type {
        case "assigned":
            guard state != "closed" else { throw refuse(["received", "acknowledged", "extended", "decided", "informed"]) }
            if e.handlerID == named { throw FeedbackStore.recusal() }
            try session.execute(PostgresQuery("UPDATE complaints SET handler_id = $2, updated_at = now() WHERE complaint_id = $1",
                                              name: "ComplaintSQL.assign").binding(e.complaintID, e.handlerID))
        case "acknowledged":
            guard state == "received" else { throw refuse(["received"]) }
            if let handler = e.handlerID, handler == named { throw FeedbackStore.recusal() }
            newState = "acknowledged"
            try session.execute(PostgresQuery("""
                UPDATE complaints SET state = 'acknowledged', acknowledged_at = $2::timestamptz,
                       handler_id = coalesce($3, handler_id), updated_at = now() WHERE complaint_id = $1
                """, name: "ComplaintSQL.acknowledge").binding(e.complaintID, e.occurredAt, e.handlerID))
        case "extended":
            guard open.contains(state) else { throw refuse(open) }
            var missing: [FeedbackProblem.FieldError] = []
            if e.approvedBy == nil { missing.append(.init(field: "approved_by", reason: "an extension needs the approver")) }
            if e.customerNotifiedAt == nil {
                missing.append(.init(field: "customer_notified_at", reason: "an extension needs the time the complainant was notified"))
            }
            if !missing.isEmpty {
                throw FeedbackProblem(422, "extension-refused", "Extension refused",
                                      "an extension needs an approver and the time the complainant was notified", errors: missing)
            }
            guard extensions < extendedDays.count else {
                throw FeedbackProblem.field(422, "extension-refused", "Extension refused", field: "type",
                                            reason: "the deadline is already received_on + \(maximumDays) days (\(due)); it can never pass \(maximumDays) days")
            }
            let days = extendedDays[extensions]
            newState = "extended"
            let updated = try session.query(PostgresQuery("""
                UPDATE complaints SET state = 'extended', extensions = extensions + 1,
                       extended_due_on = CASE WHEN extensions = 0 THEN received_on + $2::int ELSE extended_due_on END,
                       final_due_on = CASE WHEN extensions = 1 THEN received_on + $2::int ELSE final_due_on END,
                       decision_due_on = received_on + $2::int, updated_at = now()
                WHERE complaint_id = $1 RETURNING decision_due_on::text
                """, name: "ComplaintSQL.extend").binding(e.complaintID, days))
            due = try updated[0].decode(String.self, at: 0)
            _ = receivedOn
        case "decided":
            guard open.contains(state) else { throw refuse(open) }
            newState = "decided"
            try session.execute(PostgresQuery("""
                UPDATE complaints SET state = 'decided', decided_at = $2::timestamptz, decision = $3, updated_at = now()
                WHERE complaint_id = $1
                """, name: "ComplaintSQL.decide").binding(e.complaintID, e.occurredAt, e.decision))
        case "informed":
            guard state == "decided" else { throw refuse(["decided"]) }
            newState = "informed"
            try session.execute(PostgresQuery("""
                UPDATE complaints SET state = 'informed', informed_at = $2::timestamptz, updated_at = now() WHERE complaint_id = $1
                """, name: "ComplaintSQL.inform").binding(e.complaintID, e.occurredAt))
            try resolveAlerts(session, e.complaintID)
        case "closed":
            guard state == "informed" else { throw refuse(["informed"]) }
            newState = "closed"
            try session.execute(PostgresQuery("""
                UPDATE complaints SET state = 'closed', closed_at = $2::timestamptz, close_cause = $3, corrective_action = $4,
                       updated_at = now() WHERE complaint_id = $1
                """, name: "ComplaintSQL.close").binding(e.complaintID, e.occurredAt, e.causeCode, e.correctiveAction))
            try resolveAlerts(session, e.complaintID)
        default:
            throw refuse([])
        }
        try session.execute(PostgresQuery("""
            INSERT INTO complaint_events (event_id, complaint_id, type, occurred_at, approved_by, customer_notified_at, reason,
                                          handler_id, due_on_after, source)
            VALUES ($1, $2, $3, $4::timestamptz, $5, $6::timestamptz, $7, $8, $9::date, $10)
            """, name: "ComplaintSQL.insertEvent").binding(e.eventID, e.complaintID, e.type, e.occurredAt, e.approvedBy,
                                                            e.customerNotifiedAt, e.reason, e.handlerID, due, source))
        return Result(state: newState, dueOn: due)
    }

    static func resolveAlerts(_ session: PostgresSession, _ complaintID: String) throws {
        try session.execute(PostgresQuery("""
            UPDATE alerts SET state = 'resolved', resolved_at = now()
            WHERE state = 'open' AND kind IN ('complaint_due_soon', 'complaint_breach') AND payload->>'complaint_id' = $1
            """, name: "ComplaintSQL.resolveAlerts").binding(complaintID))
    }

    /// Raises what is due on `today` (a calendar day; the caller passes the Asia/Shanghai date):
    /// `complaint_due_soon` when today ≥ deadline − 3 and ≤ deadline, `complaint_breach` when
    /// today > deadline, for every complaint whose clock runs (not informed or closed). Each alert is
    /// raised once per complaint and deadline (dedup key `<kind>:<complaint>:<deadline>`), in the
    /// `alerts` table with a `notify_alert` job (queue notifier, unique key `alert:<id>`) in the
    /// caller's transaction. Returns the ids raised.
    @discardableResult
    public static func raiseDue(_ session: PostgresSession, today: PostgresDate) throws -> [Int64] {
        let rows = try session.query(PostgresQuery("""
            WITH due AS (
                SELECT c.complaint_id, c.customer_id, c.decision_due_on, c.extensions,
                       CASE WHEN $1::date > c.decision_due_on THEN 'complaint_breach' ELSE 'complaint_due_soon' END AS kind
                FROM complaints c
                WHERE c.state IN ('received', 'acknowledged', 'extended', 'decided')
                  AND $1::date >= c.decision_due_on - $2::int
            ), fresh AS (
                SELECT d.*, d.kind || ':' || d.complaint_id || ':' || d.decision_due_on AS dedup_key FROM due d
                WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.dedup_key = d.kind || ':' || d.complaint_id || ':' || d.decision_due_on)
            )
            INSERT INTO alerts (customer_id, kind, dedup_key, business_date, first_business_date, cooldown_until, payload)
            SELECT customer_id, kind, dedup_key, $1::date, $1::date, $1::date,
                   jsonb_build_object('complaint_id', complaint_id, 'deadline', decision_due_on, 'extensions', extensions,
                                      'days_left', decision_due_on - $1::date)
            FROM fresh
            RETURNING id
            """, name: "ComplaintSQL.raiseDue").binding(today, warningDays))
        let ids = try rows.map { try $0.decode(Int64.self, at: 0) }
        try JobEnqueuer.enqueue(session, ids.map {
            NewJob(queue: "notifier", kind: "notify_alert", argsJSON: "{\"alert_id\":\($0)}", uniqueKey: "alert:\($0)")
        })
        return ids
    }
}
