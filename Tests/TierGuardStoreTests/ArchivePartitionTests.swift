import Foundation
import Postgres
import TestSupport
import Testing
import TierGuardStore

/// The month-partitioned archive (0010 migration): feeds land in their months, a txn_id stays unique
/// across months, and dropping old months keeps every figure of the months kept.
@Suite struct ArchivePartitionTests {
    /// Rows per partition, `balances_202411:1` …, in name order: the default partitions always, month
    /// partitions when they hold rows (ingest makes every month between a feed's first and last day).
    static func layout(_ session: PostgresSession) throws -> [String] {
        try session.query(PostgresQuery("""
            SELECT name || ':' || n FROM (
                SELECT c.relname AS name, (xpath('/row/n/text()',
                       query_to_xml(format('SELECT count(*) AS n FROM %I', c.relname), false, true, '')))[1]::text::int AS n
                FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent IN ('balances'::regclass, 'transactions'::regclass)) p
            WHERE n > 0 OR name LIKE '%default'
            ORDER BY name
            """)).map { try $0.decode(String.self, at: 0) }
    }

    /// Each account's balance carried to every day from `first` to the business date by the rule "latest
    /// end-of-day balance on or before d" (0 before the first), as `A1 2025-01-01 700` lines.
    static func dailyBalances(_ session: PostgresSession, from first: String) throws -> [String] {
        try session.query(PostgresQuery("""
            SELECT a.account_id || ' ' || d::date || ' ' ||
                   coalesce((SELECT b.balance_fen FROM balances b WHERE b.account_id = a.account_id AND b.as_of <= d::date
                             ORDER BY b.as_of DESC LIMIT 1), 0)
            FROM accounts a, generate_series($1::date, tierguard_business_date(), interval '1 day') d
            ORDER BY a.account_id, d
            """).binding(first)).map { try $0.decode(String.self, at: 0) }
    }

    @Test func feedsLandInTheirMonthsAndDroppingOldMonthsKeepsEveryKeptDay() throws {
        let (_, session) = try IngestTests.database()
        defer { session.close() }
        let feed = [
            IngestTests.customer("C1"), IngestTests.account("A1", customer: "C1"), IngestTests.account("A2", customer: "C1"),
            // A1 has one balance, long ago: every later day carries it.
            IngestTests.balance("A1", "2024-11-15", "7.00"),
            // A2 has one in the dropped range and one on the first day kept (a real one wins over the carry).
            IngestTests.balance("A2", "2024-12-31", "3.00"), IngestTests.balance("A2", "2025-01-01", "4.00"),
            IngestTests.balance("A2", "2026-03-31", "5.00"),
            IngestTests.transaction("T-OLD", account: "A1", at: "2024-11-20T10:00:00+08:00"),
            IngestTests.transaction("T-NEW", account: "A1", at: "2026-03-31T10:00:00+08:00"),
        ]
        #expect(try IngestTests.ingest(session, feed).accepted == 9)
        #expect(try Self.layout(session) == [
            "balances_202411:1", "balances_202412:1", "balances_202501:1", "balances_202603:1", "balances_default:0",
            "transactions_202411:1", "transactions_202603:1", "transactions_default:0",
        ])

        // A correction moves a transaction to another month; txn_id stays unique.
        let moved = try IngestTests.ingest(session, [IngestTests.transaction("T-NEW", account: "A1", at: "2026-02-27T10:00:00+08:00")])
        #expect(moved.accepted == 1)
        #expect(try IngestTests.count(session, "SELECT count(*) FROM transactions WHERE txn_id = 'T-NEW' AND booked_on = '2026-02-27'") == 1)
        #expect(try IngestTests.count(session, "SELECT count(*) FROM transactions WHERE txn_id = 'T-NEW'") == 1)
        #expect(try IngestTests.count(session, "SELECT count(*) FROM transactions_202602") == 1)

        // Business date 2026-03-31: keep_from may be 2025-02-01 at the latest.
        let before = try Self.dailyBalances(session, from: "2025-01-01")
        #expect(before.count == 2 * 455)
        for (keepFrom, rule) in [("2025-03-01", "too recent"), ("2025-01-15", "first day of a month")] {
            do {
                _ = try session.query(PostgresQuery("SELECT * FROM tierguard_drop_archive_months($1, 'ops-li', 'test')").binding(keepFrom))
                Issue.record("keep_from \(keepFrom) was accepted")
            } catch let error as PostgresError {
                #expect(error.message.contains(rule), "\(error.message)")
            }
        }
        let dropped = try session.query(PostgresQuery("""
            SELECT partition_name || ':' || rows_dropped FROM tierguard_drop_archive_months('2025-01-01', 'ops-li', 'retention 2025')
            ORDER BY 1
            """)).map { try $0.decode(String.self, at: 0) }
        // A feed spanning at most 50 years gets every month of its span (empty ones too).
        #expect(dropped == ["public.balances_202411:1", "public.balances_202412:1", "public.transactions_202411:1",
                            "public.transactions_202412:0"])
        #expect(try Self.dailyBalances(session, from: "2025-01-01") == before)
        // A1's 7.00 was carried onto 2025-01-01; A2's real balance there was kept.
        let kept = try session.query(PostgresQuery(
            "SELECT account_id || ' ' || as_of || ' ' || balance_fen FROM balances WHERE as_of = '2025-01-01' ORDER BY 1"))
            .map { try $0.decode(String.self, at: 0) }
        #expect(kept == ["A1 2025-01-01 700", "A2 2025-01-01 400"])
        #expect(try IngestTests.count(session, "SELECT count(*) FROM transactions WHERE txn_id = 'T-OLD'") == 0)
        #expect(try IngestTests.count(session, "SELECT count(*) FROM transactions WHERE txn_id = 'T-NEW'") == 1)
        #expect(try IngestTests.count(session, """
            SELECT count(*) FROM archive_retention_log
            WHERE keep_from = '2025-01-01' AND operator = 'ops-li' AND reason = 'retention 2025'
              AND carried_forward = CASE table_name WHEN 'balances' THEN 1 ELSE 0 END
            """) == 4)
        #expect(try IngestTests.count(session, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'balances'::regclass") == 16)
    }

    @Test func aRowOfAMonthWithoutPartitionWaitsInTheDefaultAndMovesWhenTheMonthIsMade() throws {
        let (_, session) = try IngestTests.database()
        defer { session.close() }
        _ = try IngestTests.ingest(session, [IngestTests.customer("C1"), IngestTests.account("A1", customer: "C1")])
        // A writer other than ingest (a repair script, a benchmark) inserts straight into the parent.
        try session.execute(PostgresQuery("""
            INSERT INTO balances (account_id, as_of, customer_id, balance_fen, content_hash, first_batch_id, last_batch_id)
            VALUES ('A1', '2026-05-31', 'C1', 100, '\\x00', 1, 1)
            """))
        #expect(try Self.layout(session) == ["balances_default:1", "transactions_default:0"])
        _ = try IngestTests.ingest(session, [IngestTests.balance("A1", "2026-05-30", "2.00")])
        #expect(try Self.layout(session) == ["balances_202605:2", "balances_default:0", "transactions_default:0"])
    }
}
