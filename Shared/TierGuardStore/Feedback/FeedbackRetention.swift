import Foundation
import Postgres

/// PIPL purge of free text: after the retention period (`TIERGUARD_FEEDBACK_RETENTION_DAYS`,
/// default 1095 days = 3 years, the record-keeping floor of PIPL arts. 55–56) survey comments,
/// complaint descriptions and decisions, extension reasons and visit notes are blanked (NULL);
/// ids, scores, states, dates and amounts stay, so reports still add up. Pending items older than
/// the cutoff lose their free-text fields too.
public enum FeedbackRetention {
    public static let defaultDays = 1095

    /// Blanks free text recorded before `olderThan`, `batchSize` rows per statement until none is
    /// left, and records one `feedback_purges` row per table that had any. Returns rows per table.
    @discardableResult
    public static func purge(_ session: PostgresSession, olderThan cutoff: Date, batchSize: Int = 1000) throws -> [String: Int] {
        let statements: [(String, PostgresQuery)] = [
            ("feedback_surveys", PostgresQuery("""
                UPDATE feedback_surveys SET comment = NULL, comment_purged_at = now()
                WHERE survey_id IN (SELECT survey_id FROM feedback_surveys WHERE comment IS NOT NULL AND answered_at < $1 LIMIT $2)
                """, name: "RetentionSQL.surveys")),
            ("complaints", PostgresQuery("""
                UPDATE complaints SET description = NULL, decision = NULL, description_purged_at = now()
                WHERE complaint_id IN (SELECT complaint_id FROM complaints
                                       WHERE (description IS NOT NULL OR decision IS NOT NULL) AND received_at < $1 LIMIT $2)
                """, name: "RetentionSQL.complaints")),
            ("complaint_events", PostgresQuery("""
                UPDATE complaint_events SET reason = NULL
                WHERE event_id IN (SELECT event_id FROM complaint_events WHERE reason IS NOT NULL AND occurred_at < $1 LIMIT $2)
                """, name: "RetentionSQL.events")),
            ("rm_visits", PostgresQuery("""
                UPDATE rm_visits SET note = NULL, note_purged_at = now()
                WHERE visit_id IN (SELECT visit_id FROM rm_visits WHERE note IS NOT NULL AND visited_at < $1 LIMIT $2)
                """, name: "RetentionSQL.visits")),
            ("feedback_pending", PostgresQuery("""
                UPDATE feedback_pending SET item = item - 'comment' - 'description' - 'decision' - 'reason' - 'note'
                WHERE (kind, key) IN (SELECT kind, key FROM feedback_pending
                                      WHERE received_at < $1 AND item ?| array['comment','description','decision','reason','note'] LIMIT $2)
                """, name: "RetentionSQL.pending")),
        ]
        var counts: [String: Int] = [:]
        for (table, statement) in statements {
            var total = 0
            while true {
                let n = try session.withTransaction { s in try s.execute(statement.binding(cutoff, batchSize)) }
                total += n
                if n < batchSize { break }
            }
            counts[table] = total
            if total > 0 {
                try session.execute(PostgresQuery(
                    "INSERT INTO feedback_purges (table_name, rows_purged, cutoff) VALUES ($1, $2, $3)",
                    name: "RetentionSQL.record").binding(table, total, cutoff))
            }
        }
        return counts
    }
}
