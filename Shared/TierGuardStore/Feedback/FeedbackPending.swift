import Foundation
import Postgres

/// Items kept because their customer was not in the archive yet.
public enum FeedbackPending {
    /// Applies, in arrival order, every pending item whose customer is now in the archive, each in
    /// its own savepoint with its `score_customer` job; an item the store refuses stays pending with
    /// `last_error` (a problem code, never a value). Call inside a transaction after each ingest
    /// batch, or periodically. Returns how many were applied.
    @discardableResult
    public static func applyArrived(_ session: PostgresSession, limit: Int = 10_000) throws -> Int {
        let rows = try session.query(PostgresQuery("""
            SELECT p.kind, p.key, p.customer_id, p.item::text AS item, p.source
            FROM feedback_pending p JOIN customers c ON c.customer_id = p.customer_id
            ORDER BY p.received_at, CASE p.kind WHEN 'complaint' THEN 0 ELSE 1 END, p.key
            LIMIT $1
            """, name: "FeedbackSQL.arrived").binding(limit))
        var applied = 0
        for row in rows {
            let kindText = try row.decode(String.self, column: "kind"), key = try row.decode(String.self, column: "key")
            let customer = try row.decode(String.self, column: "customer_id"), source = try row.decode(String.self, column: "source")
            let text = try row.decode(String.self, column: "item")
            do {
                guard let kind = FeedbackKind(rawValue: kindText) else { continue }
                let item = try FeedbackItem.parse(kind, try FeedbackJSON.object(Array(text.utf8)))
                try session.withTransaction { s in
                    _ = try FeedbackStore.apply(s, item, customer: customer, source: source)
                    try s.execute(PostgresQuery("DELETE FROM feedback_pending WHERE kind = $1 AND key = $2",
                                                name: "FeedbackSQL.unpark").binding(kindText, key))
                }
                applied += 1
            } catch let problem as FeedbackProblem {
                try session.execute(PostgresQuery("UPDATE feedback_pending SET last_error = $3 WHERE kind = $1 AND key = $2",
                                                  name: "FeedbackSQL.pendingError").binding(kindText, key, problem.code))
            }
        }
        return applied
    }
}
