import Foundation
import Postgres
import Testing
import TestSupport
import TierGuardStore

/// PIPL art. 24 through real `tierguardctl` processes: `profiling ID --refuse --reason` records the refusal
/// through the preference path, and a rescore then drops product recommendations but keeps service
/// alerts; `customer explain ID` says why, in plain Chinese, with the figures and the policy version.
@Suite struct ProfilingCommandTests {
    /// The golden downgrade case (ScorerGoldenTests): 白金 on BD 2025-03-02, warning for 2025-04-01 → 金卡,
    /// gap ⌈(50,000,000 × 31 − 75,000,001) / 29⌉ − 30,000,001 = 20,862,068 fen; plus a CSAT of 2, which
    /// raises the `dissatisfied` service alert.
    static func seed(_ s: PostgresSession) throws {
        let f = ScorerFixture(session: s)
        try f.customer("C1", opened: "2024-11-01")
        try f.account("A1", customer: "C1")
        try f.balance("A1", customer: "C1", "2024-12-01", 60_000_000)
        try f.balance("A1", customer: "C1", "2025-01-01", 45_000_000)
        try f.balance("A1", customer: "C1", "2025-03-02", 30_000_001)
        try f.transaction("T1", account: "A1", customer: "C1", "2025-03-01T10:00:00+08:00", 100, category: "deposit")
        try s.execute("""
            INSERT INTO feedback_surveys (survey_id, customer_id, kind, score, touchpoint, answered_at, source)
            VALUES ('S1', 'C1', 'csat', 2, 'branch', '2025-02-27T15:00:00+08:00', 'test')
            """)
    }

    static func latestRecommendationKinds(_ s: PostgresSession) throws -> [String] {
        try s.query("""
            SELECT r->>'kind' || ':' || (r->>'code') FROM customer_scores cs, jsonb_array_elements(cs.recommendations) r
            WHERE cs.id = (SELECT max(id) FROM customer_scores WHERE customer_id = 'C1') ORDER BY (r->>'rank')::int
            """).map { try $0.decode(String.self, at: 0) }
    }

    static func openAlerts(_ s: PostgresSession) throws -> [String] {
        try s.query("SELECT kind FROM alerts WHERE customer_id = 'C1' AND state = 'open' ORDER BY kind")
            .map { try $0.decode(String.self, at: 0) }
    }

    @Test func refusingProfilingDropsProductRecommendationsAndKeepsServiceAlerts() throws {
        let db = try TestDatabase.create(migrations: TierGuardSchema.migrations(), prefix: "art24")
        let s = try db.session()
        defer { s.close() }
        try Self.seed(s)
        let env = ["DATABASE_URL": db.url, "TIERGUARD_OPERATOR": "ops.zhao"]

        let first = try ServiceProcess.run("tierguardctl", ["rescore", "C1"], environment: env)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try Self.latestRecommendationKinds(s).contains { $0.hasPrefix("product:") })
        let alertsBefore = try Self.openAlerts(s)
        #expect(alertsBefore.contains("dissatisfied") && alertsBefore.contains("downgrade_risk"), "\(alertsBefore)")

        // No reason, both flags, or neither: usage errors, nothing written.
        for arguments in [["profiling", "C1", "--refuse"], ["profiling", "C1", "--refuse", "--reason", "  "],
                          ["profiling", "C1", "--refuse", "--allow", "--reason", "x"], ["profiling", "C1", "--reason", "x"]] {
            let refused = try ServiceProcess.run("tierguardctl", arguments, environment: env)
            #expect(refused.status == 64, "\(arguments): \(refused.stderr)")
        }
        let unknown = try ServiceProcess.run("tierguardctl", ["profiling", "C9", "--refuse", "--reason", "柜台书面申请"], environment: env)
        #expect(unknown.status == 1 && unknown.stderr.contains("not in the archive"), "\(unknown.stderr)")
        #expect(try s.query("SELECT count(*) FROM preference_events")[0].decode(Int.self, at: 0) == 0)

        let refuse = try ServiceProcess.run("tierguardctl", ["profiling", "C1", "--refuse", "--reason", "柜台书面申请"], environment: env)
        #expect(refuse.status == 0, "\(refuse.stderr)")
        #expect(refuse.stdout.contains("拒绝自动化决策画像"))
        #expect(try s.query("""
            SELECT automated_profiling_refused AND NOT marketing_opt_out_recorded AND source = 'operator/tierguardctl/ops.zhao'
            FROM customer_preferences WHERE customer_id = 'C1'
            """)[0].decode(Bool.self, at: 0))
        #expect(try s.query("""
            SELECT channel || ' ' || reason || ' ' || automated_profiling_refused || ' ' || (marketing_opt_out IS NULL)
            FROM preference_events WHERE customer_id = 'C1'
            """).map { try $0.decode(String.self, at: 0) } == ["operator 柜台书面申请 true true"])
        // The same coalesced score_customer job any preference enqueues.
        #expect(try s.query("SELECT count(*) FROM tg_jobs WHERE kind = 'score_customer' AND unique_key = 'score:C1'")[0]
            .decode(Int.self, at: 0) == 1)

        let second = try ServiceProcess.run("tierguardctl", ["rescore", "C1"], environment: env)
        #expect(second.status == 0, "\(second.stderr)")
        let kinds = try Self.latestRecommendationKinds(s)
        #expect(!kinds.isEmpty && kinds.allSatisfy { $0.hasPrefix("service:") }, "\(kinds)")
        #expect(kinds.contains("service:satisfaction_callback"))
        #expect(try Self.openAlerts(s) == alertsBefore, "service alerts are kept")

        // Consent again: products come back on the next scoring.
        let allow = try ServiceProcess.run("tierguardctl", ["profiling", "C1", "--allow", "--reason", "客户来电撤回"], environment: env)
        #expect(allow.status == 0, "\(allow.stderr)")
        _ = try ServiceProcess.run("tierguardctl", ["rescore", "C1"], environment: env)
        #expect(try Self.latestRecommendationKinds(s).contains { $0.hasPrefix("product:") })
    }

    @Test func explainPrintsPlainChineseWithTheFiguresAndThePolicyVersion() throws {
        let db = try TestDatabase.create(migrations: TierGuardSchema.migrations(), prefix: "art24")
        let s = try db.session()
        defer { s.close() }
        try Self.seed(s)
        try s.execute("""
            INSERT INTO customer_preferences (customer_id, automated_profiling_refused, source, recorded_at)
            VALUES ('C1', true, 'test', now())
            """)
        let env = ["DATABASE_URL": db.url]
        let explained = try ServiceProcess.run("tierguardctl", ["customer", "explain", "C1"], environment: env)
        #expect(explained.status == 0, "\(explained.stderr)")
        let text = explained.stdout
        #expect(text.contains("客户 C1（张**）在业务日期 2025-03-02 的自动化评估说明"), "\(text)")
        #expect(text.contains("策略版本 builtin-2026.1"))
        #expect(text.contains("一、等级：白金"))
        #expect(text.contains("二、降级预警：预计 2025-04-01 由白金降为金卡。"))
        // Gap 20,862,068 fen; AUM on BD 30,000,001 fen; month-to-date 月日均 ⌊75,000,001 / 2⌋ = 37,500,000 fen.
        #expect(text.contains("自 2025-03-03 起一次性存入 ¥208,620.68 并保持，可避免此次降级"))
        #expect(text.contains("业务日期资产 ¥300,000.01"))
        #expect(text.contains("本月至今 ¥375,000.00（2 天）"))
        #expect(text.contains("客户已拒绝自动化决策画像：不推荐产品，保留服务提醒（PIPL 第 24 条）"))
        #expect(!text.contains("张三丰"), "the name is masked")
        #expect(!text.contains("11010519900307002X"))
        // Explaining writes nothing.
        #expect(try s.query("SELECT count(*) FROM customer_scores")[0].decode(Int.self, at: 0) == 0)

        let missing = try ServiceProcess.run("tierguardctl", ["customer", "explain", "C404"], environment: env)
        #expect(missing.status == 1 && missing.stdout.contains("not in the archive"))
    }
}
