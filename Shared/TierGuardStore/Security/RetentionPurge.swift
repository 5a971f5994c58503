import Foundation
import JobQueue
import Postgres
import ServiceKit

/// PIPL arts. 55–56 retention purge of scoring and audit records (issue 11).
///
/// Rules, stated once here:
/// - Period: `TIERGUARD_RETENTION_YEARS`, default 3, and never less than 3 (the legal minimum): a shorter
///   value is a configuration error (exit 78) and `RetentionPurge.run` refuses it (`PeriodTooShort`).
///   The cutoff is computed by the database clock: `now() - make_interval(years => N)`.
/// - What goes, per table, rows strictly older than the cutoff:
///   - `customer_scores` (which also hold the suitability decisions, document `suitability`) by `scored_at`,
///     except each customer's newest row, which is its current score: the rows of `customer_score_rows`,
///     and with each batch the `score_documents` no remaining row of the customer points at (recorded
///     as table `score_documents`);
///   - `customer_tier_history` by `effective_on` (Asia/Shanghai date of the cutoff), except each customer's
///     latest change, which is the tier in force. The scorer re-derives history from balances, so a change
///     whose balances are still in the archive comes back on the next scoring; the archive's own retention
///     governs that;
///   - `alerts` by `resolved_at`, resolved alerts only (an open alert is a live condition);
///   - `pii_access_audit` by `accessed_at`, only through the `SECURITY DEFINER` function
///     `pii_access_audit_purge` (0007_retention.sql), the one narrow exception to its append-only triggers:
///     the function and the trigger each refuse anything younger than 3 years.
/// - Bounded: at most `batchSize` (default 1,000) rows per transaction, oldest first, until a batch comes
///   back short; a run never holds locks on more than one batch.
/// - Recorded: one `retention_purges` row (table, rows, cutoff, time, login) per table that lost any row.
/// - Scheduled: the scorer's periodic job `retention_purge` at `TIERGUARD_RETENTION_CRON` (default 03:15
///   Asia/Shanghai, before the 06:30 rescore), once per tick across replicas.
public enum RetentionPurge {
    public static let minimumYears = 3
    public static let defaultYears = 3
    public static let defaultBatchSize = 1_000
    public static let jobKind = "retention_purge"

    public static let yearsVariable = ConfigVariable(
        "TIERGUARD_RETENTION_YEARS", default: String(defaultYears),
        "years scores, tier history, resolved alerts and PII access audit rows are kept (PIPL arts. 55-56; at least 3)")
    public static let cronVariable = ConfigVariable(
        "TIERGUARD_RETENTION_CRON", default: "15 3 * * *", "cron (Asia/Shanghai) of the daily retention purge")
    public static var configVariables: [ConfigVariable] { [yearsVariable, cronVariable] }

    /// A period shorter than the legal minimum.
    public struct PeriodTooShort: Error, CustomStringConvertible {
        public let years: Int
        public var description: String {
            "retention period \(years) year(s) refused: scores, suitability decisions and audit rows are kept at least "
            + "\(RetentionPurge.minimumYears) years (PIPL arts. 55-56); set TIERGUARD_RETENTION_YEARS to \(RetentionPurge.minimumYears) or more"
        }
    }

    /// What one run deleted.
    public struct Summary: Sendable, Equatable {
        public var cutoff: Date
        /// Rows deleted per table (every table listed, 0 included).
        public var rows: [String: Int]
        /// Transactions (batches) used per table.
        public var batches: [String: Int]
    }

    /// The periodic job for a worker's `periodicJobs` (queue `scorer`, one per tick).
    public static func periodicJob(cron: String) throws -> PeriodicJob {
        try PeriodicJob(name: jobKind, cron: cron,
                        job: NewJob(queue: "scorer", kind: jobKind, priority: 8, maxAttempts: 3, uniqueKey: jobKind))
    }

    /// Reads and checks `TIERGUARD_RETENTION_YEARS`.
    public static func years(_ config: EnvironmentConfig) throws -> Int {
        let years = try config.int(yearsVariable.name, in: 0...100)
        guard years >= minimumYears else { throw PeriodTooShort(years: years) }
        return years
    }

    static let cutoffQuery = PostgresQuery("SELECT now() - make_interval(years => $1::int)", name: "RetentionSQL.cutoff")

    /// One batch of old score rows and, in the same statement, the documents no remaining row of their
    /// customer points at (a document is reused by later rows while unchanged, migration 0016). Every
    /// part of one statement sees the same snapshot, so the deleted rows are excluded by id. Returns
    /// the rows and the documents deleted.
    static let purgeScores = PostgresQuery("""
        WITH gone AS (
            DELETE FROM customer_score_rows WHERE id IN (
                SELECT s.id FROM customer_score_rows s
                WHERE s.scored_at < $1
                  AND EXISTS (SELECT 1 FROM customer_score_rows n WHERE n.customer_id = s.customer_id AND n.id > s.id)
                ORDER BY s.id LIMIT $2)
            RETURNING id, customer_id, warning_doc, signals_doc, value_doc, recommendations_doc, suitability_doc),
        orphans AS (
            DELETE FROM score_documents d
            USING (SELECT DISTINCT g.customer_id, v.doc FROM gone g
                   CROSS JOIN LATERAL (VALUES (g.warning_doc), (g.signals_doc), (g.value_doc), (g.recommendations_doc),
                                              (g.suitability_doc)) v(doc)
                   WHERE v.doc IS NOT NULL) x
            WHERE d.id = x.doc
              AND NOT EXISTS (SELECT 1 FROM customer_score_rows r
                              WHERE r.customer_id = x.customer_id AND r.id NOT IN (SELECT id FROM gone)
                                AND x.doc IN (r.warning_doc, r.signals_doc, r.value_doc, r.recommendations_doc, r.suitability_doc))
            RETURNING 1)
        SELECT (SELECT count(*) FROM gone)::int, (SELECT count(*) FROM orphans)::int
        """, name: "RetentionSQL.scores")
    static let purgeHistory = PostgresQuery("""
        DELETE FROM customer_tier_history WHERE (customer_id, effective_on) IN (
            SELECT h.customer_id, h.effective_on FROM customer_tier_history h
            WHERE h.effective_on < ($1::timestamptz AT TIME ZONE 'Asia/Shanghai')::date
              AND EXISTS (SELECT 1 FROM customer_tier_history n
                          WHERE n.customer_id = h.customer_id AND n.effective_on > h.effective_on)
            ORDER BY h.effective_on LIMIT $2)
        """, name: "RetentionSQL.history")
    static let purgeAlerts = PostgresQuery("""
        DELETE FROM alerts WHERE id IN (
            SELECT id FROM alerts WHERE state = 'resolved' AND resolved_at < $1 ORDER BY id LIMIT $2)
        """, name: "RetentionSQL.alerts")
    static let purgeAudit = PostgresQuery("SELECT pii_access_audit_purge($1, $2)", name: "RetentionSQL.audit")
    static let record = PostgresQuery(
        "INSERT INTO retention_purges (table_name, rows_purged, cutoff) VALUES ($1, $2, $3)", name: "RetentionSQL.record")

    /// Purges everything older than `years` (≥ 3) before the database clock's now.
    @discardableResult
    public static func run(_ session: PostgresSession, years: Int = defaultYears,
                           batchSize: Int = defaultBatchSize) throws -> Summary {
        guard years >= minimumYears else { throw PeriodTooShort(years: years) }
        precondition((1...10_000).contains(batchSize), "batch size 1…10000")
        let cutoff = try session.query(cutoffQuery.binding(years))[0].decode(Date.self, at: 0)
        var summary = Summary(cutoff: cutoff, rows: [:], batches: [:])
        /// Runs `batch` (rows deleted by one transaction) until a batch comes back short.
        func drain(_ batch: () throws -> Int) throws -> (total: Int, batches: Int) {
            var total = 0, batches = 0
            while true {
                let n = try batch()
                total += n
                batches += 1
                if n < batchSize { return (total, batches) }
            }
        }
        func recordPurge(_ table: String, _ drained: (total: Int, batches: Int)) throws {
            if drained.total > 0 { try session.execute(Self.record.binding(table, drained.total, cutoff)) }
            summary.rows[table] = drained.total
            summary.batches[table] = drained.batches
        }
        var documents = 0
        let scores = try drain {
            let (rows, orphans) = try session.withTransaction { s in
                let row = try s.query(purgeScores.binding(cutoff, batchSize))[0]
                return (try row.decode(Int.self, at: 0), try row.decode(Int.self, at: 1))
            }
            documents += orphans
            return rows
        }
        try recordPurge("customer_scores", scores)
        try recordPurge("score_documents", (documents, scores.batches))
        for (table, statement) in [("customer_tier_history", purgeHistory), ("alerts", purgeAlerts)] {
            try recordPurge(table, try drain { try session.withTransaction { s in try s.execute(statement.binding(cutoff, batchSize)) } })
        }
        // The function records each of its batches itself (one retention_purges row per batch).
        let audit = try drain {
            try session.withTransaction { s in try s.query(purgeAudit.binding(cutoff, batchSize))[0].decode(Int.self, at: 0) }
        }
        summary.rows["pii_access_audit"] = audit.total
        summary.batches["pii_access_audit"] = audit.batches
        return summary
    }
}
