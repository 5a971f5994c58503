import Foundation
import Postgres
import ServiceKit
import Testing
import TestSupport
import TierGuardStore

/// PIPL arts. 55–56: `RetentionPurge` deletes scoring and audit records older than the period (≥ 3 years)
/// in bounded batches and records what it deleted; the audit table's append-only triggers keep refusing
/// everything else.
@Suite struct RetentionPurgeTests {
    static func database() throws -> (TestDatabase, PostgresSession) {
        let db = try TestDatabase.create(migrations: TierGuardSchema.migrations(), prefix: "ret")
        return (db, try db.session())
    }

    /// `count` score rows for `customer`, scored `age` ago (minus i minutes for the i-th), ids ascending.
    /// Each row has its own signals, value and recommendations documents and points at the customer's one
    /// suitability document (`suitability`), as rows reusing an unchanged document do (migration 0016).
    static func scores(_ s: PostgresSession, _ customer: String, age: String, count: Int = 1, suitability: Int64) throws {
        try s.execute(PostgresQuery("""
            WITH g AS (SELECT g, nextval('score_documents_id_seq') AS sig, nextval('score_documents_id_seq') AS val,
                              nextval('score_documents_id_seq') AS rec FROM generate_series(1, $3) g),
            docs AS (INSERT INTO score_documents (id, customer_id, body)
                     SELECT d, $1, '[]' FROM g CROSS JOIN LATERAL (VALUES (sig), (val), (rec)) v(d))
            INSERT INTO customer_score_rows (customer_id, business_date, policy_version, catalog_version, tier, is_provisional,
                aum_fen, mtd_sum_fen, mtd_days,
                m3_month, m3_sum_fen, m3_days, m3_before_first, m2_month, m2_sum_fen, m2_days, m2_before_first,
                m1_month, m1_sum_fen, m1_days, m1_before_first, watch_months, signals_doc, signal_codes, value_doc,
                contribution_fen, retention_probability, recommendations_doc, suitability_doc, scored_at)
            SELECT $1, DATE '2022-01-31', 'p1', 'c1', 'gold', false, 1, 1, 1,
                   DATE '2021-10-01', 31, 31, false, DATE '2021-11-01', 30, 30, false, DATE '2021-12-01', 31, 31, false,
                   0, sig, '{}', val, 0, 0.1, rec, $4, now() - $2::interval - make_interval(mins => $3 - g)
            FROM g
            """).binding(customer, age, count, suitability))
    }

    /// A customer's suitability document, shared by all its rows in these tests.
    static func suitabilityDocument(_ s: PostgresSession, _ customer: String) throws -> Int64 {
        try s.query(PostgresQuery("INSERT INTO score_documents (customer_id, body) VALUES ($1, '[]') RETURNING id")
            .binding(customer))[0].decode(Int64.self, at: 0)
    }

    static func count(_ s: PostgresSession, _ sql: StaticString, _ binds: String...) throws -> Int {
        try s.query(PostgresQuery(sql).binding(binds.map { $0.postgresBind }))[0].decode(Int.self, at: 0)
    }

    @Test func purgeDeletesOnlyRowsOlderThanTheCutoffInBoundedBatchesAndRecordsIt() throws {
        let (_, s) = try Self.database()
        defer { s.close() }
        // Scores: A has 2,500 rows 4 years old, 3 rows 35 months old, and its current row (1 year);
        // B has a single 5-year-old row, its current score, which stays.
        let suitabilityA = try Self.suitabilityDocument(s, "A"), suitabilityB = try Self.suitabilityDocument(s, "B")
        try Self.scores(s, "A", age: "4 years", count: 2_500, suitability: suitabilityA)
        try Self.scores(s, "A", age: "2 years 11 months", count: 3, suitability: suitabilityA)
        try Self.scores(s, "A", age: "1 year", suitability: suitabilityA)
        try Self.scores(s, "B", age: "5 years", suitability: suitabilityB)
        // Tier history: A's 2019 and 2020 changes go, its latest (in force) stays; B's only row stays.
        try s.execute("""
            INSERT INTO customer_tier_history (customer_id, effective_on, from_tier, to_tier, kind, deciding_month, floor_fen,
                                               reason, policy_version)
            VALUES ('A', DATE '2019-01-01', NULL, 'gold', 'initial', DATE '2018-12-01', 1, 'r', 'p1'),
                   ('A', DATE '2020-01-01', 'gold', 'platinum', 'upgrade', DATE '2019-12-01', 1, 'r', 'p1'),
                   ('A', (now() - interval '1 year')::date, 'platinum', 'gold', 'downgrade', DATE '2019-12-01', 1, 'r', 'p1'),
                   ('B', DATE '2018-01-01', NULL, 'gold', 'initial', DATE '2017-12-01', 1, 'r', 'p1')
            """)
        // Alerts: resolved 4 years ago goes; resolved a year ago and open since 5 years stay.
        try s.execute("""
            INSERT INTO alerts (customer_id, kind, dedup_key, state, business_date, first_business_date, cooldown_until,
                                payload, first_raised_at, resolved_at)
            VALUES ('A', 'inactive', 'inactive:A:1', 'resolved', DATE '2021-01-01', DATE '2021-01-01', DATE '2021-01-08', '{}',
                    now() - interval '5 years', now() - interval '4 years'),
                   ('A', 'inactive', 'inactive:A:2', 'resolved', DATE '2025-01-01', DATE '2025-01-01', DATE '2025-01-08', '{}',
                    now() - interval '2 years', now() - interval '1 year'),
                   ('B', 'inactive', 'inactive:B', 'open', DATE '2021-01-01', DATE '2021-01-01', DATE '2021-01-08', '{}',
                    now() - interval '5 years', NULL)
            """)
        // Audit: two rows 4 years old go (through the SECURITY DEFINER function), one recent row stays.
        try s.execute("""
            INSERT INTO pii_access_audit (operator, accessed_at, customer_ids, reason, command)
            VALUES ('ops.li', now() - interval '4 years', ARRAY['A'], 'complaint 1', 'customer show'),
                   ('ops.li', now() - interval '3 years 2 days', ARRAY['B'], 'complaint 2', 'customer show'),
                   ('ops.li', now() - interval '2 years', ARRAY['A'], 'complaint 3', 'customer show')
            """)

        let summary = try RetentionPurge.run(s)
        // The purged rows' own documents go (3 each); the suitability document the kept rows still point at stays.
        #expect(summary.rows == ["customer_scores": 2_500, "score_documents": 7_500, "customer_tier_history": 2, "alerts": 1,
                                 "pii_access_audit": 2])
        // 2,500 rows at 1,000 per transaction: 1,000 + 1,000 + 500 (a short batch ends the table).
        #expect(summary.batches["customer_scores"] == 3)
        #expect(summary.batches["customer_tier_history"] == 1)

        #expect(try Self.count(s, "SELECT count(*) FROM customer_scores WHERE customer_id = 'A'") == 4)
        #expect(try Self.count(s, "SELECT count(*) FROM customer_scores WHERE customer_id = 'A' AND scored_at < now() - interval '3 years'") == 0)
        #expect(try Self.count(s, "SELECT count(*) FROM customer_scores WHERE customer_id = 'B'") == 1)
        #expect(try Self.count(s, "SELECT count(*) FROM score_documents WHERE customer_id = 'A'") == 4 * 3 + 1)
        #expect(try Self.count(s, "SELECT count(*) FROM score_documents WHERE customer_id = 'B'") == 3 + 1)
        // Every kept row still finds every document it points at.
        #expect(try Self.count(s, "SELECT count(*) FROM customer_scores WHERE signals IS NULL OR value IS NULL OR recommendations IS NULL OR suitability IS NULL") == 0)
        #expect(try Self.count(s, "SELECT count(*) FROM customer_tier_history WHERE customer_id = 'A'") == 1)
        #expect(try Self.count(s, "SELECT count(*) FROM customer_tier_history WHERE customer_id = 'B'") == 1)
        #expect(try Self.count(s, "SELECT count(*) FROM alerts WHERE dedup_key IN ('inactive:A:2', 'inactive:B')") == 2)
        #expect(try Self.count(s, "SELECT count(*) FROM alerts") == 2)
        #expect(try Self.count(s, "SELECT count(*) FROM pii_access_audit") == 1)
        #expect(try Self.count(s, "SELECT count(*) FROM pii_access_audit WHERE reason = 'complaint 3'") == 1)

        // The record: one row per table, with the count and the run's cutoff (now() - 3 years, database clock).
        let records = try s.query("""
            SELECT table_name || ' ' || rows_purged, cutoff, purged_at, cutoff BETWEEN now() - interval '3 years' - interval '1 minute'
                                                                         AND now() - interval '3 years'
            FROM retention_purges ORDER BY table_name
            """)
        #expect(try records.map { try $0.decode(String.self, at: 0) }
            == ["alerts 1", "customer_scores 2500", "customer_tier_history 2", "pii_access_audit 2", "score_documents 7500"])
        for row in records {
            #expect(abs(try row.decode(Date.self, at: 1).timeIntervalSince(summary.cutoff)) < 0.001)
            #expect(try row.decode(Bool.self, at: 3))
        }

        // A second run finds nothing and records nothing.
        let again = try RetentionPurge.run(s)
        #expect(again.rows.values.allSatisfy { $0 == 0 })
        #expect(try Self.count(s, "SELECT count(*) FROM retention_purges") == 5)
    }

    @Test func aPeriodShorterThanThreeYearsIsRefused() throws {
        let (_, s) = try Self.database()
        defer { s.close() }
        try s.execute("""
            INSERT INTO pii_access_audit (operator, accessed_at, customer_ids, reason, command)
            VALUES ('ops.li', now() - interval '30 months', ARRAY['A'], 'complaint 1', 'customer show'),
                   ('ops.li', now() - interval '4 years', ARRAY['A'], 'complaint 2', 'customer show')
            """)
        #expect(throws: RetentionPurge.PeriodTooShort.self) { try RetentionPurge.run(s, years: 2) }
        let config = ServiceConfig(service: "t", variables: RetentionPurge.configVariables)
        #expect(throws: RetentionPurge.PeriodTooShort.self) {
            try RetentionPurge.years(config.resolve(environment: ["TIERGUARD_RETENTION_YEARS": "2"]))
        }
        #expect(try RetentionPurge.years(config.resolve(environment: [:])) == 3)
        #expect(try RetentionPurge.years(config.resolve(environment: ["TIERGUARD_RETENTION_YEARS": "5"])) == 5)

        // The database refuses too: the function's own floor, and the trigger's age check.
        func sqlState(_ body: () throws -> Void) -> String? {
            do { try body(); return nil } catch let error as PostgresError { return error.sqlState } catch { return "other" }
        }
        #expect(sqlState { _ = try s.query("SELECT pii_access_audit_purge(now() - interval '2 years', 1000)") } == "22023")
        #expect(sqlState { _ = try s.query("SELECT pii_access_audit_purge(now() - interval '3 years', 0)") } == "22023")
        // Outside the function a DELETE is refused even for a 4-year-old row; with the flag forged by hand,
        // a row younger than 3 years is still refused.
        #expect(sqlState { try s.execute("DELETE FROM pii_access_audit WHERE accessed_at < now() - interval '3 years'") } == "42501")
        #expect(sqlState {
            try s.withTransaction { t in
                _ = try t.query("SELECT set_config('tierguard.audit_purge', 'on', true)")
                try t.execute("DELETE FROM pii_access_audit WHERE accessed_at > now() - interval '3 years'")
            }
        } == "42501")
        #expect(sqlState { try s.execute("UPDATE pii_access_audit SET reason = 'x'") } == "42501")
        #expect(try Self.count(s, "SELECT count(*) FROM pii_access_audit") == 2)
        #expect(try Self.count(s, "SELECT count(*) FROM retention_purges") == 0)

        // The scorer refuses the setting at start-up (configuration error, 78) before touching the database.
        let scorer = try ServiceProcess.run("tierguard-scorer", ["run"], environment: [
            "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none", "TIERGUARD_RETENTION_YEARS": "2", "TIERGUARD_HTTP_PORT": "0"],
            timeout: 30)
        #expect(scorer.status == 78, "\(scorer.stderr)")
        #expect(scorer.stderr.contains("at least 3 years"))
    }
}
