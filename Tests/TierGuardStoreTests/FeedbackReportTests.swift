import Foundation
import Postgres
import ServiceKit
import TestSupport
import Testing
import TierGuardStore

@Suite struct FeedbackReportTests {
    /// Four downgrade_risk alerts in March 2026 and one in February (outside the window), business
    /// date 10 April 2026:
    ///
    /// | alert | raised | projected | lead | RM did | tier history | outcome | useful |
    /// | C1 | 03-10 | 04-01 | 22 | retained | no downgrade | kept | yes |
    /// | C2 | 03-12 | 04-01 | 20 | no visit | downgrade 04-01 | downgraded | no |
    /// | C3 | 03-20 | 05-01 | 42 | committed_deposit | — | pending (BD < 05-01) | — |
    /// | C4 | 03-25 | 04-01 | 7 | declined | downgrade 04-01 | downgraded | — |
    /// | C5 | 02-20 | 03-01 | — | — | — | outside the window | — |
    ///
    /// Median lead of 7, 20, 22, 42 = (20 + 22) / 2 = 21 days; marked useful 1 of 4 = 25 %, 2 with feedback.
    @Test func retentionReportOnAHandBuiltScenario() async throws {
        let h = try await FeedbackHarness(customers: ["C1", "C2", "C3", "C4", "C5"])
        defer { Task { await h.shutdown() } }
        try await h.execute("""
            INSERT INTO balances (account_id, as_of, customer_id, balance_fen, content_hash, first_batch_id, last_batch_id)
            VALUES ('A1', '2026-04-10', 'C1', 100, '\\x00', 0, 0);
            INSERT INTO alerts (id, customer_id, kind, dedup_key, business_date, first_business_date, cooldown_until, payload, first_raised_at) VALUES
              (1, 'C1', 'downgrade_risk', 'downgrade_risk:C1:2026-04-01:gold', '2026-03-10', '2026-03-10', '2026-03-17', '{}', '2026-03-10T08:00:00+08'),
              (2, 'C2', 'downgrade_risk', 'downgrade_risk:C2:2026-04-01:gold', '2026-03-12', '2026-03-12', '2026-03-19', '{}', '2026-03-12T08:00:00+08'),
              (3, 'C3', 'downgrade_risk', 'downgrade_risk:C3:2026-05-01:gold', '2026-03-20', '2026-03-20', '2026-03-27', '{}', '2026-03-20T08:00:00+08'),
              (4, 'C4', 'downgrade_risk', 'downgrade_risk:C4:2026-04-01:gold', '2026-03-25', '2026-03-25', '2026-04-01', '{}', '2026-03-25T08:00:00+08'),
              (5, 'C5', 'downgrade_risk', 'downgrade_risk:C5:2026-03-01:gold', '2026-02-20', '2026-02-20', '2026-02-27', '{}', '2026-02-20T08:00:00+08');
            INSERT INTO customer_tier_history (customer_id, effective_on, from_tier, to_tier, kind, deciding_month, floor_fen, reason, policy_version) VALUES
              ('C2', '2026-04-01', 'platinum', 'gold', 'downgrade', '2026-03-01', 0, 'test', 'v1'),
              ('C4', '2026-04-01', 'platinum', 'gold', 'downgrade', '2026-03-01', 0, 'test', 'v1');
            """)
        for (visit, customer, alert, outcome) in [("V1", "C1", 1, "retained"), ("V3", "C3", 3, "committed_deposit"), ("V4", "C4", 4, "declined")] {
            let amount = outcome == "committed_deposit" ? ",\"amount\":\"100000\"" : ""
            let answer = try await h.post("/v1/visits", """
                {"visit_id":"\(visit)","customer_id":"\(customer)","rm_id":"RM1","visited_at":"2026-03-28T10:00:00+08:00",
                 "method":"phone","outcome":"\(outcome)","alert_id":\(alert)\(amount)}
                """)
            #expect(answer.status == 201)
        }
        #expect(try await h.post("/v1/alert-feedback", #"{"alert_id":1,"useful":true,"reason_code":"timely"}"#).status == 201)
        #expect(try await h.post("/v1/alert-feedback", #"{"alert_id":2,"useful":false,"reason_code":"already_known"}"#).status == 201)
        #expect(try await h.post("/v1/alert-feedback", #"{"alert_id":99,"useful":false,"reason_code":"x"}"#).status == 404)

        let report = try await h.connection.withSession { s in
            try RetentionReport.load(s, from: PostgresDate(year: 2026, month: 3, day: 1), to: PostgresDate(year: 2026, month: 3, day: 31))
        }
        #expect(report.alerts == 4)
        #expect(report.medianLeadDays == 21)
        #expect(report.markedUseful == 1)
        #expect(report.withFeedback == 2)
        #expect(report.usefulShare == 0.25)
        let groups = Dictionary(uniqueKeysWithValues: report.groups.map { ($0.rmAction, $0) })
        #expect(groups["no_visit"].map { [$0.alerts, $0.kept, $0.downgraded, $0.pending] } == [1, 0, 1, 0])
        #expect(groups["retained"].map { [$0.alerts, $0.kept, $0.downgraded, $0.pending] } == [1, 1, 0, 0])
        #expect(groups["committed_deposit"].map { [$0.alerts, $0.kept, $0.downgraded, $0.pending] } == [1, 0, 0, 1])
        #expect(groups["declined"].map { [$0.alerts, $0.kept, $0.downgraded, $0.pending] } == [1, 0, 1, 0])
        #expect(groups["not_reached"]?.alerts == 0)
        #expect(groups["retained"]?.keptShare == 1.0)
        #expect(report.table.contains("median lead time alert → projected date: 21.0 days"))
        #expect(report.json.contains("\"useful_share\" : 0.25"))
    }

    @Test func ndjsonLoadKeepsEveryLineAppliedPendingOrRejected() async throws {
        let h = try await FeedbackHarness()
        defer { Task { await h.shutdown() } }
        let lines = [
            #"{"type":"survey","survey_id":"S1","customer_id":"C1","kind":"nps","score":9,"touchpoint":"mobile","answered_at":"2026-03-02T10:00:00Z"}"#,
            #"{"type":"survey","survey_id":"S2","customer_id":"C1","kind":"nps","score":9,"touchpoint":"mobile","answered_at":"2026-03-02T10:00:00Z","extra":1}"#,
            "",
            #"{"type":"visit","visit_id":"V1","customer_id":"C9","rm_id":"RM1","visited_at":"2026-03-03T10:00:00+08:00","method":"wecom","outcome":"not_reached"}"#,
            #"{"type":"gossip"}"#,
            #"{"type":"survey","survey_id":"S1","customer_id":"C1","kind":"nps","score":9,"touchpoint":"mobile","answered_at":"2026-03-02T10:00:00Z"}"#,
        ]
        let data = Data(lines.joined(separator: "\n").utf8)
        let summary = try await h.connection.withSession { s in try FeedbackLoader.load(s, fileName: "feedback.ndjson", data: data) }
        #expect(summary.applied == 1 && summary.pending == 1 && summary.replayed == 1 && summary.rejected == 2)
        #expect(try await h.string("SELECT string_agg(line_number || ':' || field, ',' ORDER BY line_number) FROM ingest_rejects") == "2:extra,5:type")
    }

    @Test func retentionPurgeBlanksFreeTextAndKeepsTheFacts() async throws {
        let h = try await FeedbackHarness()
        defer { Task { await h.shutdown() } }
        #expect(try await h.post("/v1/surveys", """
            {"survey_id":"OLD","customer_id":"C1","kind":"csat","score":1,"touchpoint":"branch","answered_at":"2020-01-02T10:00:00Z","comment":"旧"}
            """).status == 201)
        #expect(try await h.post("/v1/surveys", FeedbackAPITests.survey).status == 201)
        let cutoff = Date().addingTimeInterval(-Double(FeedbackRetention.defaultDays) * 86_400)
        let counts = try await h.connection.withSession { s in try FeedbackRetention.purge(s, olderThan: cutoff, batchSize: 1) }
        #expect(counts["feedback_surveys"] == 1)
        #expect(try await h.count("SELECT count(*) FROM feedback_surveys WHERE comment IS NULL AND comment_purged_at IS NOT NULL AND score = 1") == 1)
        #expect(try await h.count("SELECT count(*) FROM feedback_surveys WHERE comment IS NOT NULL") == 1)
        #expect(try await h.count("SELECT rows_purged FROM feedback_purges WHERE table_name = 'feedback_surveys'") == 1)
    }
}
