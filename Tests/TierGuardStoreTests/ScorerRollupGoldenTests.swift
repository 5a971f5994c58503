import Foundation
import Postgres
import ServiceKit
import TestSupport
import Testing
import TierGuardModel
import TierGuardStore

/// The monthly rollups (`balance_month_rollups`, `ScoringRollups`) give exactly the figures of the
/// raw daily balances: every score field compared, on every business date of a range, for hand-made
/// edge cases and a seeded random book, before and after late data, corrections and deletions.
@Suite struct ScorerRollupGoldenTests {
    static let settings = ScoringSettings()

    /// Loads the customers both ways on `bd` and expects equal scores; returns how many balances
    /// the rollup load handed to the model (to show it read fewer).
    @discardableResult
    static func expectSameScores(_ s: PostgresSession, _ ids: [String], on bd: CalendarDate,
                                 sourceLocation: SourceLocation = #_sourceLocation) throws -> (raw: Int, rolled: Int) {
        let loader = ArchiveLoader()
        let raw = try loader.load(s, customerIds: ids, businessDate: bd)
        let rolled = try loader.load(s, customerIds: ids, businessDate: bd,
                                     rollupLookbackDays: ScoringRollups.lookbackDays(settings.policy))
        #expect(raw.count == rolled.count, sourceLocation: sourceLocation)
        for (r, q) in zip(raw, rolled) {
            let a = CustomerScore.compute(r, businessDate: bd, policy: settings.policy, catalog: settings.catalog)
            let b = CustomerScore.compute(q, businessDate: bd, policy: settings.policy, catalog: settings.catalog)
            #expect(a == b, "\(r.customer.customerId) on \(bd)", sourceLocation: sourceLocation)
        }
        return (raw.reduce(0) { $0 + $1.balances.count }, rolled.reduce(0) { $0 + $1.balances.count })
    }

    static func rollup(_ s: PostgresSession, _ account: String, _ month: String) throws -> [Int64]? {
        let rows = try s.query(PostgresQuery("""
            SELECT first_day - DATE '1970-01-01', last_day - DATE '1970-01-01', last_fen, sum_fen
            FROM balance_month_rollups WHERE account_id = $1 AND month = $2::date
            """).binding(account, month))
        guard rows.count > 0 else { return nil }
        return try (0..<4).map { try rows[0].decode(Int64.self, at: $0) }
    }

    @Test func edgeCasesGiveTheRawFiguresOnEveryBusinessDate() throws {
        let (_, s) = try ScorerFixture.database()
        defer { s.close() }
        let f = ScorerFixture(session: s)
        // G1: first balance mid-month (2025-10-10), carried across Nov (no balance) into Dec; negative in Dec.
        try f.customer("G1")
        try f.account("G1-D", customer: "G1")
        try f.balance("G1-D", customer: "G1", "2025-10-10", 100_000_00)
        try f.balance("G1-D", customer: "G1", "2025-10-20", -5_000_00)
        try f.balance("G1-D", customer: "G1", "2025-10-25", 60_000_000_00)
        try f.balance("G1-D", customer: "G1", "2025-12-05", -1_00)
        try f.balance("G1-D", customer: "G1", "2026-01-03", 7_000_000_00)
        // G2: one account closed mid-month before the window (2025-11-15), one closed inside the
        // window (2026-01-20), a loan whose first balance (2025-09-28) is the customer's first.
        try f.customer("G2")
        try f.account("G2-A", customer: "G2", closed: "2025-11-15")
        try f.account("G2-B", customer: "G2", product: "wealth", closed: "2026-01-20")
        try f.account("G2-L", customer: "G2", product: "loan")
        try f.balance("G2-L", customer: "G2", "2025-09-28", 900_000_000_00)
        try f.balance("G2-A", customer: "G2", "2025-10-01", 80_000_000_00)
        try f.balance("G2-A", customer: "G2", "2025-11-02", 81_000_000_00)
        try f.balance("G2-B", customer: "G2", "2025-10-31", 20_000_000_00)
        try f.balance("G2-B", customer: "G2", "2025-12-31", 3_000_000_00)
        try f.balance("G2-L", customer: "G2", "2026-01-10", 800_000_000_00)
        // G3: dense daily balances stepping down (a downgrade warning), plus a credit card.
        try f.customer("G3")
        try f.account("G3-D", customer: "G3")
        try f.account("G3-C", customer: "G3", product: "credit_card")
        let start = CalendarDate("2025-10-01")!
        for d in 0..<110 {
            try f.balance("G3-D", customer: "G3", start.adding(days: d).description, d < 70 ? 60_000_000_00 : 45_000_000_00)
            if d % 10 == 0 { try f.balance("G3-C", customer: "G3", start.adding(days: d).description, -2_000_000_00) }
        }
        let ids = ["G1", "G2", "G3"]

        // The rollup rows themselves, by hand: G1-D in October: 100,000.00 × 10 days (10th–19th),
        // −5,000.00 counts 0 for 5 days (20th–24th), 60,000,000.00 × 7 days (25th–31st), the last balance.
        #expect(try Self.rollup(s, "G1-D", "2025-10-01") == [
            Int64(CalendarDate("2025-10-10")!.dayNumber), Int64(CalendarDate("2025-10-25")!.dayNumber),
            60_000_000_00, 100_000_00 * 10 + 60_000_000_00 * 7])
        // December: −1 on the 5th counts 0 through the 31st, and carries −1.
        #expect(try Self.rollup(s, "G1-D", "2025-12-01")?.suffix(2) == [-1_00, 0])
        #expect(try Self.rollup(s, "G1-D", "2025-11-01") == nil)

        var rawTotal = 0, rolledTotal = 0
        for bd in (0..<75).map({ CalendarDate("2025-12-01")!.adding(days: $0) }) {
            let (raw, rolled) = try Self.expectSameScores(s, ids, on: bd)
            rawTotal += raw
            rolledTotal += rolled
        }
        #expect(rolledTotal < rawTotal)

        // Late data for an old month, a correction and a deletion: the triggers recompute those months.
        try f.balance("G1-D", customer: "G1", "2025-11-17", 9_000_000_00)
        try f.balance("G3-D", customer: "G3", "2025-10-05", -3_00)
        try s.execute(PostgresQuery("DELETE FROM balances WHERE account_id = 'G2-B' AND as_of = '2025-10-31'"))
        #expect(try Self.rollup(s, "G1-D", "2025-11-01") == [
            Int64(CalendarDate("2025-11-17")!.dayNumber), Int64(CalendarDate("2025-11-17")!.dayNumber),
            9_000_000_00, 9_000_000_00 * 14])
        #expect(try Self.rollup(s, "G2-B", "2025-10-01") == nil)
        // Each row's stored balances (0019) are exactly its account-month's, in order, after those edits too.
        #expect(try s.query(PostgresQuery("""
            SELECT count(*)::int FROM balance_month_rollups r
            WHERE NOT EXISTS (
                SELECT 1 FROM (
                    SELECT array_agg(b.as_of - DATE '1970-01-01' ORDER BY b.as_of) AS days, array_agg(b.balance_fen ORDER BY b.as_of) AS fens
                    FROM balances b WHERE b.customer_id = r.customer_id AND b.account_id = r.account_id
                      AND b.as_of >= r.month AND b.as_of < (r.month + interval '1 month')::date) m
                WHERE m.days = r.as_of_days AND m.fens = r.balance_fens)
            """))[0].decode(Int.self, at: 0) == 0)
        #expect(try s.query(PostgresQuery("""
            SELECT array_to_string(balance_fens, ',') FROM balance_month_rollups WHERE account_id = 'G1-D' AND month = '2025-10-01'
            """))[0].decode(String.self, at: 0) == "10000000,-500000,6000000000")
        for bd in ["2025-12-01", "2026-01-01", "2026-01-31", "2026-02-01", "2026-02-14"].map({ CalendarDate($0)! }) {
            try Self.expectSameScores(s, ids, on: bd)
        }

        // A month last written before migration 0019 and older than what it filled has no arrays: a chunk
        // whose window reaches it reads `balances` instead, with the same figures.
        try s.execute(PostgresQuery("UPDATE balance_month_rollups SET as_of_days = NULL, balance_fens = NULL WHERE month = '2026-01-01'"))
        for bd in ["2026-01-05", "2026-01-31", "2026-02-03"].map({ CalendarDate($0)! }) {
            try Self.expectSameScores(s, ids, on: bd)
        }
        // A balance written in that month fills its account's arrays again.
        try f.balance("G1-D", customer: "G1", "2026-01-20", 1_00)
        #expect(try s.query(PostgresQuery("""
            SELECT cardinality(as_of_days) FROM balance_month_rollups WHERE account_id = 'G1-D' AND month = '2026-01-01'
            """))[0].decode(Int.self, at: 0) == 2)
        try Self.expectSameScores(s, ids, on: CalendarDate("2026-01-31")!)
    }

    @Test func aSeededBookGivesTheRawFigures() throws {
        let (_, s) = try ScorerFixture.database()
        defer { s.close() }
        try ScorerPathsTests.seed(ScorerFixture(session: s), customers: 40)
        let ids = try s.query(PostgresQuery("SELECT customer_id FROM customers ORDER BY customer_id")).map { try $0.decode(String.self, at: 0) }
        // The seed runs 2025-01-01 … 2025-04-10 with closures on 2025-03-1x.
        for bd in stride(from: 20, through: 100, by: 4).map({ CalendarDate("2025-01-01")!.adding(days: $0) }) {
            try Self.expectSameScores(s, ids, on: bd)
        }
    }

    /// Migration 0019 fills the arrays of the last three months only (from two months before the latest
    /// balance's month): older rows keep NULL arrays, and scoring an old business date still gives the raw
    /// figures (the loader reads `balances` for such a chunk).
    @Test func migration0019FillsTheRecentMonthsAndOldDatesStayExact() throws {
        let (db, all) = try ScorerFixture.databaseBefore(migration: 19)
        let s = try db.session()
        defer { s.close() }
        let f = ScorerFixture(session: s)
        try f.customer("M1")
        try f.account("M1-D", customer: "M1")
        let start = CalendarDate("2025-09-10")!
        for d in stride(from: 0, to: 140, by: 3) {  // 2025-09-10 … 2026-01-25
            try f.balance("M1-D", customer: "M1", start.adding(days: d).description, 50_000_000_00 + Int64(d) * 1_000_00)
        }
        try Migrator.migrate(s, all)
        let filled = try s.query(PostgresQuery("""
            SELECT month::text || ':' || (as_of_days IS NOT NULL)::text FROM balance_month_rollups WHERE account_id = 'M1-D' ORDER BY month
            """)).map { try $0.decode(String.self, at: 0) }
        #expect(filled == ["2025-09-01:false", "2025-10-01:false", "2025-11-01:true", "2025-12-01:true", "2026-01-01:true"])
        for bd in ["2025-10-05", "2025-11-03", "2025-12-31", "2026-01-25"].map({ CalendarDate($0)! }) {
            try Self.expectSameScores(s, ["M1"], on: bd)
        }
    }

    @Test func rebuildGivesTheRowsTheTriggersKeep() throws {
        let (_, s) = try ScorerFixture.database()
        defer { s.close() }
        try ScorerPathsTests.seed(ScorerFixture(session: s), customers: 15)
        let query = PostgresQuery("SELECT (to_jsonb(r))::text FROM balance_month_rollups r ORDER BY customer_id, account_id, month")
        let kept = try s.query(query).map { try $0.decode(String.self, at: 0) }
        try ScoringRollups.rebuild(s)
        #expect(try s.query(query).map { try $0.decode(String.self, at: 0) } == kept)
        #expect(kept.count > 15)
    }
}
