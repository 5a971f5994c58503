import Foundation
import Postgres
import Testing
import TestSupport
import TierGuardStore

/// Migration 0016 moves the documents of every existing score row into `score_documents`: read through
/// the view `customer_scores`, each row must say exactly what the table said before, column for column.
@Suite struct ScoreDocumentsMigrationTests {
    static let everyColumn = """
        SELECT id, customer_id, business_date, policy_version, catalog_version, tier, is_provisional, first_balance_date,
               aum_fen, mtd_sum_fen, mtd_days, m3_month, m3_sum_fen, m3_days, m3_before_first, m2_month, m2_sum_fen, m2_days,
               m2_before_first, m1_month, m1_sum_fen, m1_days, m1_before_first, watch_months, warning_date, warning_from_tier,
               warning_to_tier, warning_gap_fen, warning_extra_daily_fen, warning, signals, signal_codes, value,
               contribution_fen, retention_probability, recommendations, suitability, content_hash, scored_at, history_hash
        FROM customer_scores ORDER BY id
        """

    @Test func existingRowsReadTheSameThroughTheView() throws {
        let (db, all) = try ScorerFixture.databaseBefore(migration: 16)
        let session = try db.session()
        defer { session.close() }
        // Rows as the scorer wrote them before 0016: documents inline, one without a warning.
        try session.execute(PostgresQuery("""
            INSERT INTO customer_scores (customer_id, business_date, policy_version, catalog_version, tier, is_provisional,
                first_balance_date, aum_fen, mtd_sum_fen, mtd_days, m3_month, m3_sum_fen, m3_days, m3_before_first,
                m2_month, m2_sum_fen, m2_days, m2_before_first, m1_month, m1_sum_fen, m1_days, m1_before_first, watch_months,
                warning_date, warning_from_tier, warning_to_tier, warning_gap_fen, warning_extra_daily_fen, warning, signals,
                signal_codes, value, contribution_fen, retention_probability, recommendations, suitability, content_hash,
                history_hash)
            VALUES
              ('C1', '2026-03-14', 'p1', 'c1', 'platinum', false, '2025-12-15', 61000000, 854000000, 14, '2025-12-01', 0, 31, true,
               '2026-01-01', 1891000000, 31, false, '2026-02-01', 1708000000, 28, false, 0, '2026-05-01', 'platinum', 'gold',
               11446009, 11446098, '{"gap": 11446009, "date": "2026-05-01", "to_tier": "gold"}',
               '[{"code": "sudden_drop", "reason": "日均下降：¥1.00", "figures": {"ratio": 0.55}}]', '{sudden_drop}',
               '{"activity": {"recency_days": 3}, "retention": {"probability": 0.18242552380635635}}', 22779002, 0.18242552380635635,
               '[{"code": "top_up_average_balance", "rank": 1, "reason": "补足日均"}]',
               '[{"product": "FUND-EQUITY", "allowed": true, "product_risk": "R4", "customer_risk": "C4"}]', 42, 7),
              ('C2', '2026-03-14', 'p1', 'c1', 'standard', true, NULL, 0, 0, 14, '2025-12-01', 0, 31, true,
               '2026-01-01', 0, 31, true, '2026-02-01', 0, 28, true, 0, NULL, NULL, NULL, NULL, NULL, NULL,
               '[]', '{}', '{"activity": {"recency_days": null}}', 0, 0.0474, '[]', '[]', NULL, NULL),
              ('C1', '2026-03-15', 'p1', 'c1', 'platinum', false, '2025-12-15', 61000000, 915000000, 15, '2025-12-01', 0, 31, true,
               '2026-01-01', 1891000000, 31, false, '2026-02-01', 1708000000, 28, false, 0, NULL, NULL, NULL, NULL, NULL, NULL,
               '[]', '{}', '{"activity": {"recency_days": 4}}', 22779002, 0.0474, '[]',
               '[{"product": "FUND-EQUITY", "allowed": true, "product_risk": "R4", "customer_risk": "C4"}]', 43, 7)
            """))
        func snapshot() throws -> [String] {
            try session.query(PostgresQuery(unsafeSQL: "SELECT t::text FROM (\(Self.everyColumn)) t")).map { try $0.decode(String.self, at: 0) }
        }
        let rowsBefore = try snapshot()
        let statusBefore = try session.query(PostgresQuery("SELECT s::text FROM customer_status s ORDER BY customer_id"))
            .map { try $0.decode(String.self, at: 0) }
        #expect(rowsBefore.count == 3)

        try Migrator.migrate(session, all)
        #expect(try snapshot() == rowsBefore)
        #expect(try session.query(PostgresQuery("SELECT s::text FROM customer_status s ORDER BY customer_id"))
            .map { try $0.decode(String.self, at: 0) } == statusBefore)
        // Every moved document belongs to its row's customer, carries no hash (the next scoring writes new
        // ones), and only C2's and the second C1 row's missing warnings are missing.
        let moved = try session.query(PostgresQuery("""
            SELECT count(*) FILTER (WHERE d.customer_id <> r.customer_id),
                   count(*),
                   (SELECT count(*) FROM customer_score_rows WHERE warning_doc IS NULL),
                   (SELECT count(*) FROM customer_score_rows
                    WHERE num_nonnulls(warning_hash, signals_hash, value_hash, recommendations_hash, suitability_hash) > 0)
            FROM customer_score_rows r JOIN score_documents d
              ON d.id IN (r.warning_doc, r.signals_doc, r.value_doc, r.recommendations_doc, r.suitability_doc)
            """))[0]
        #expect(try moved.decode(Int.self, at: 0) == 0)
        #expect(try moved.decode(Int.self, at: 1) == 3 * 4 + 1)
        #expect(try moved.decode(Int.self, at: 2) == 2)
        #expect(try moved.decode(Int.self, at: 3) == 0)
    }
}
