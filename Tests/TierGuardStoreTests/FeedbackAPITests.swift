import Foundation
import Postgres
import ServiceKit
import TestSupport
import Testing
import TierGuardStore

@Suite struct FeedbackAPITests {
    static let survey = """
        {"survey_id":"S1","customer_id":"C1","kind":"csat","score":2,"touchpoint":"branch",
         "answered_at":"2026-03-02T10:00:00+08:00","comment":"排队太久"}
        """

    @Test func surveyIsAcceptedReplayedOnceAndRefusedWithNamedFields() async throws {
        let h = try await FeedbackHarness()
        defer { Task { await h.shutdown() } }
        let first = try await h.post("/v1/surveys", Self.survey)
        #expect(first.status == 201)
        #expect(first.json["survey_id"] as? String == "S1")
        #expect(first.text.contains("排队") == false)  // free text never echoed
        let replay = try await h.post("/v1/surveys", Self.survey)
        #expect(replay.status == 200)
        #expect(replay.text == first.text)
        #expect(try await h.count("SELECT count(*) FROM feedback_surveys") == 1)
        #expect(try await h.count("SELECT count(*) FROM tg_jobs WHERE kind = 'score_customer' AND unique_key = 'score:C1'") == 1)
        // The one-statement path (FeedbackSurveyFastPath) writes the job JobEnqueuer would, and the receipt's answer.
        #expect(try await h.count("""
            SELECT count(*) FROM tg_jobs WHERE queue = 'scorer' AND args->>'customer_id' = 'C1' AND priority = 5
              AND max_attempts = 20 AND state = 'available' AND attempt = 0
            """) == 1)
        #expect(try await h.count("SELECT count(*) FROM feedback_receipts WHERE key = 'S1' AND status = 201") == 1)

        let unknown = try await h.post("/v1/surveys", """
            {"survey_id":"S2","customer_id":"C1","kind":"csat","score":4,"touchpoint":"branch",
             "answered_at":"2026-03-02T10:00:00+08:00","colour":"red"}
            """)
        #expect(unknown.status == 422)
        #expect(unknown.contentType.hasPrefix("application/problem+json"))
        #expect(unknown.fields == ["colour"])
        #expect(unknown.json["title"] != nil && unknown.json["detail"] != nil && unknown.json["status"] as? Int == 422)

        let bad = try await h.post("/v1/surveys", """
            {"survey_id":"S3","customer_id":"C1","kind":"csat","score":6,"touchpoint":"branch","answered_at":"2026-03-02T10:00:00"}
            """)
        #expect(bad.status == 422)
        #expect(Set(bad.fields) == ["score", "answered_at"])
        let boolScore = try await h.post("/v1/surveys", """
            {"survey_id":"S3","customer_id":"C1","kind":"nps","score":true,"touchpoint":"branch","answered_at":"2026-03-02T10:00:00Z"}
            """)
        #expect(boolScore.fields == ["score"])

        let conflict = try await h.post("/v1/surveys", Self.survey.replacingOccurrences(of: "\"score\":2", with: "\"score\":3"))
        #expect(conflict.status == 409)
        #expect(conflict.problemType == "idempotency-conflict")
        #expect(try await h.count("SELECT count(*) FROM feedback_surveys") == 1)
    }

    @Test func unknownCustomerIsKeptPendingAndAppliedWhenItArrives() async throws {
        let h = try await FeedbackHarness(customers: [])
        defer { Task { await h.shutdown() } }
        let parked = try await h.post("/v1/surveys", Self.survey)
        #expect(parked.status == 202)
        #expect(parked.json["status"] as? String == "pending")
        #expect(try await h.post("/v1/surveys", Self.survey).status == 200)
        #expect(try await h.count("SELECT count(*) FROM feedback_pending") == 1)
        #expect(try await h.count("SELECT count(*) FROM feedback_surveys") == 0)
        try await h.addCustomer("C1")
        let applied = try await h.connection.withTransaction { s in try FeedbackPending.applyArrived(s) }
        #expect(applied == 1)
        #expect(try await h.count("SELECT count(*) FROM feedback_pending") == 0)
        #expect(try await h.count("SELECT count(*) FROM feedback_surveys WHERE customer_id = 'C1'") == 1)
        #expect(try await h.count("SELECT count(*) FROM tg_jobs WHERE unique_key = 'score:C1'") == 1)
    }

    @Test func tokensScopesMediaTypeAndSizeAreChecked() async throws {
        let h = try await FeedbackHarness()
        defer { Task { await h.shutdown() } }
        let none = try await h.post("/v1/surveys", Self.survey, token: nil)
        #expect(none.status == 401)
        #expect(none.contentType.hasPrefix("application/problem+json"))
        #expect(try await h.post("/v1/surveys", Self.survey, token: "tok-wrong").status == 401)
        let visit = """
            {"visit_id":"V1","customer_id":"C1","rm_id":"RM1","visited_at":"2026-03-03T10:00:00+08:00","method":"phone","outcome":"retained"}
            """
        let forbidden = try await h.post("/v1/visits", visit, token: "tok-surveys")
        #expect(forbidden.status == 403)
        #expect(forbidden.problemType == "forbidden")
        #expect(try await h.post("/v1/surveys", Self.survey, token: "tok-surveys").status == 201)
        #expect(try await h.post("/v1/surveys", Self.survey, contentType: "text/plain").status == 415)
        let big = "{\"survey_id\":\"S9\",\"comment\":\"" + String(repeating: "x", count: 70_000) + "\"}"
        #expect(try await h.post("/v1/surveys", big).status == 413)
        #expect(try await h.post("/v1/surveys", "{not json").status == 400)
        #expect(try await h.count("SELECT count(*) FROM feedback_surveys") == 1)
    }

    static func complaint(_ id: String, receivedAt: String, named: String? = nil, handler: String? = nil) -> String {
        var text = "{\"complaint_id\":\"\(id)\",\"customer_id\":\"C1\",\"received_at\":\"\(receivedAt)\",\"channel\":\"branch\","
            + "\"category\":\"fees\",\"severity\":\"medium\",\"description\":\"收费不透明\""
        if let named { text += ",\"named_staff_id\":\"\(named)\"" }
        if let handler { text += ",\"handler_id\":\"\(handler)\"" }
        return text + "}"
    }

    static func event(_ id: String, _ complaint: String, _ type: String, _ extra: String = "") -> String {
        "{\"event_id\":\"\(id)\",\"complaint_id\":\"\(complaint)\",\"type\":\"\(type)\",\"occurred_at\":\"2026-03-05T09:00:00+08:00\"\(extra)}"
    }

    static let extensionFields = ",\"approved_by\":\"SENIOR1\",\"reason\":\"复杂\",\"customer_notified_at\":\"2026-03-05T10:00:00+08:00\""

    @Test func complaintClockKeeps15And30And60DayDeadlinesAndRefusesMore() async throws {
        let h = try await FeedbackHarness()
        defer { Task { await h.shutdown() } }
        // 23:30 in Shanghai on 1 March: the day of receipt is 1 March, decision due 16 March.
        let k1 = try await h.post("/v1/complaints", Self.complaint("K1", receivedAt: "2026-03-01T23:30:00+08:00"))
        #expect(k1.status == 201)
        #expect(k1.json["received_on"] as? String == "2026-03-01")
        #expect(k1.json["decision_due_on"] as? String == "2026-03-16")
        // 16:30 UTC on 1 March is 00:30 on 2 March in Shanghai: due 17 March.
        let k2 = try await h.post("/v1/complaints", Self.complaint("K2", receivedAt: "2026-03-01T16:30:00Z"))
        #expect(k2.json["received_on"] as? String == "2026-03-02")
        #expect(k2.json["decision_due_on"] as? String == "2026-03-17")

        let noApprover = try await h.post("/v1/complaint-events", Self.event("E1", "K1", "extended", ",\"reason\":\"复杂\""))
        #expect(noApprover.status == 422)
        #expect(noApprover.problemType == "extension-refused")
        #expect(Set(noApprover.fields) == ["approved_by", "customer_notified_at"])

        let ext1 = try await h.post("/v1/complaint-events", Self.event("E2", "K1", "extended", Self.extensionFields))
        #expect(ext1.status == 201)
        #expect(ext1.json["decision_due_on"] as? String == "2026-03-31")  // 1 March + 30
        #expect(try await h.post("/v1/complaint-events", Self.event("E2", "K1", "extended", Self.extensionFields)).status == 200)
        let ext2 = try await h.post("/v1/complaint-events", Self.event("E3", "K1", "extended", Self.extensionFields))
        #expect(ext2.json["decision_due_on"] as? String == "2026-04-30")  // 1 March + 60
        let ext3 = try await h.post("/v1/complaint-events", Self.event("E4", "K1", "extended", Self.extensionFields))
        #expect(ext3.status == 422)
        #expect(ext3.problemType == "extension-refused")
        #expect(try await h.string("SELECT decision_due_on::text FROM complaints WHERE complaint_id = 'K1'") == "2026-04-30")
        #expect(try await h.count("SELECT extensions FROM complaints WHERE complaint_id = 'K1'") == 2)

        // Alerts: K2 (due 17 March) warns from 14 March; K1 (due 30 April) from 27 April.
        func raise(_ day: Int, _ month: Int) async throws -> Int {
            try await h.connection.withTransaction { s in
                try ComplaintClock.raiseDue(s, today: PostgresDate(year: 2026, month: month, day: day)).count
            }
        }
        #expect(try await raise(13, 3) == 0)
        #expect(try await raise(14, 3) == 1)
        #expect(try await raise(17, 3) == 0)  // same deadline, already raised
        #expect(try await raise(18, 3) == 1)  // K2 breached
        #expect(try await h.count("SELECT count(*) FROM alerts WHERE kind = 'complaint_breach' AND payload->>'complaint_id' = 'K2'") == 1)
        #expect(try await raise(26, 4) == 0)
        #expect(try await raise(27, 4) == 1)
        #expect(try await raise(1, 5) == 1)  // K1 breached
        #expect(try await h.count("SELECT count(*) FROM tg_jobs WHERE kind = 'notify_alert' AND queue = 'notifier'") == 4)

        // Order: informed before decided is refused; decided → informed → closed stops the clock.
        #expect(try await h.post("/v1/complaint-events", Self.event("E5", "K2", "informed")).status == 409)
        #expect(try await h.post("/v1/complaint-events", Self.event("E6", "K2", "decided", ",\"decision\":\"退费\"")).status == 201)
        #expect(try await h.post("/v1/complaint-events", Self.event("E7", "K2", "informed")).status == 201)
        let closed = try await h.post("/v1/complaint-events",
                                      Self.event("E8", "K2", "closed", ",\"cause_code\":\"FEE_DISCLOSURE\",\"corrective_action\":\"更新收费公示\""))
        #expect(closed.json["state"] as? String == "closed")
        #expect(try await h.count("SELECT count(*) FROM alerts WHERE payload->>'complaint_id' = 'K2' AND state = 'open'") == 0)
        let closedExtension = try await h.post("/v1/complaint-events", Self.event("E9", "K2", "extended", Self.extensionFields))
        #expect(closedExtension.status == 409)
    }

    @Test func aHandlerNeverHandlesAComplaintAboutThemselves() async throws {
        let h = try await FeedbackHarness()
        defer { Task { await h.shutdown() } }
        let same = try await h.post("/v1/complaints", Self.complaint("K1", receivedAt: "2026-03-01T10:00:00+08:00", named: "S9", handler: "S9"))
        #expect(same.status == 409)
        #expect(same.problemType == "recusal")
        #expect(same.fields == ["handler_id"])
        #expect(try await h.post("/v1/complaints", Self.complaint("K1", receivedAt: "2026-03-01T10:00:00+08:00", named: "S9")).status == 201)
        let assign = try await h.post("/v1/complaint-events", Self.event("E1", "K1", "assigned", ",\"handler_id\":\"S9\""))
        #expect(assign.status == 409)
        #expect(assign.problemType == "recusal")
        #expect(try await h.post("/v1/complaint-events", Self.event("E2", "K1", "assigned", ",\"handler_id\":\"S2\"")).status == 201)
        #expect(try await h.string("SELECT handler_id FROM complaints WHERE complaint_id = 'K1'") == "S2")
        #expect(try await h.count("SELECT count(*) FROM customer_effective_preferences WHERE has_open_complaint") == 1)
    }

    @Test func aVisitClosesItsOpenTaskAndRecordsTheOutcome() async throws {
        let h = try await FeedbackHarness(customers: ["C1", "C2"])
        defer { Task { await h.shutdown() } }
        try await h.execute("""
            INSERT INTO rm_tasks (rm_id, customer_id, kind, due_on, alert_id) VALUES
              ('RM1', 'C1', 'follow_up', '2026-03-10', 41), ('RM1', 'C1', 'birthday', '2026-03-20', NULL),
              ('RM1', 'C2', 'follow_up', '2026-03-10', 42)
            """)
        let visit = """
            {"visit_id":"V1","customer_id":"C1","rm_id":"RM1","visited_at":"2026-03-03T10:00:00+08:00","method":"in_person",
             "outcome":"committed_deposit","amount":"500000.00","alert_id":41,"note":"客户同意追加"}
            """
        let first = try await h.post("/v1/visits", visit)
        #expect(first.status == 201)
        #expect(first.json["closed_task_ids"] as? String == "1")
        #expect(try await h.post("/v1/visits", visit).status == 200)
        #expect(try await h.string("SELECT string_agg(id || ':' || status, ',' ORDER BY id) FROM rm_tasks") == "1:done,2:open,3:open")
        #expect(try await h.count("SELECT amount_fen FROM rm_visits WHERE visit_id = 'V1'") == 50_000_000)
        let missingAmount = try await h.post("/v1/visits", visit.replacingOccurrences(of: "\"amount\":\"500000.00\",", with: "")
            .replacingOccurrences(of: "V1", with: "V2"))
        #expect(missingAmount.fields == ["amount"])
    }

    @Test func aRecordedRefusalOfMarketingOutlivesALaterFeedThatSaysNothing() async throws {
        let h = try await FeedbackHarness()
        defer { Task { await h.shutdown() } }
        let refuse = """
            {"preference_id":"P1","customer_id":"C1","channel":"mobile","recorded_at":"2026-03-05T10:00:00+08:00","marketing_opt_out":true}
            """
        #expect(try await h.post("/v1/preferences", refuse).status == 201)
        // The feed says false (customers.marketing_opt_out): the refusal stands.
        #expect(try await h.count("SELECT count(*) FROM customer_effective_preferences WHERE marketing_opt_out") == 1)
        // A consent recorded earlier than the refusal does not lift it; a later one does.
        let older = refuse.replacingOccurrences(of: "P1", with: "P2").replacingOccurrences(of: "true", with: "false")
            .replacingOccurrences(of: "03-05", with: "03-01")
        #expect(try await h.post("/v1/preferences", older).status == 201)
        #expect(try await h.count("SELECT count(*) FROM customer_effective_preferences WHERE marketing_opt_out") == 1)
        let later = older.replacingOccurrences(of: "P2", with: "P3").replacingOccurrences(of: "03-01", with: "03-09")
        #expect(try await h.post("/v1/preferences", later).status == 201)
        #expect(try await h.count("SELECT count(*) FROM customer_effective_preferences WHERE marketing_opt_out") == 0)
    }
}
