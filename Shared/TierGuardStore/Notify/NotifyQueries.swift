import Foundation
import JobQueue
import Postgres
import TierGuardModel

/// What `tierguardctl notify` shows and does: failed notifications and their retry, alerts that
/// reached no RM (unrouted), and the alerts waiting beyond each RM's daily budget.
public enum NotifyQueries {
    public struct FailedRow: Sendable, Equatable {
        public var id: Int64
        public var alertId: Int64?
        public var rmId: String
        public var channel: String
        public var reason: String
        public var attempts: Int
        public var updatedAt: String
    }

    public static func failed(_ session: PostgresSession, limit: Int = 100) throws -> [FailedRow] {
        try session.query(PostgresQuery("""
            SELECT id, alert_id, rm_id, channel, coalesce(reason, ''), attempts, to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS TZ')
            FROM notifications WHERE state = 'failed' ORDER BY updated_at DESC, id DESC LIMIT $1
            """, name: "NotifyQueries.failed").binding(limit)).map {
            FailedRow(id: try $0.decode(Int64.self, at: 0), alertId: try $0.decode(Int64?.self, at: 1),
                      rmId: try $0.decode(String.self, at: 2), channel: try $0.decode(String.self, at: 3),
                      reason: try $0.decode(String.self, at: 4), attempts: try $0.decode(Int.self, at: 5),
                      updatedAt: try $0.decode(String.self, at: 6))
        }
    }

    public struct RetryError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Puts failed notification `id` back to `pending` (reason kept in `reason` as `retry: …`) and
    /// enqueues `send_notification` for it, in one transaction. A failed urgent alert keeps its id,
    /// so a webhook receiver still dedupes.
    public static func retry(_ session: PostgresSession, id: Int64, reason: String) throws {
        try session.withTransaction { tx in
            let updated = try tx.execute(PostgresQuery("""
                UPDATE notifications SET state = 'pending', reason = 'retry: ' || $2, updated_at = clock_timestamp()
                WHERE id = $1 AND state = 'failed'
                """, name: "NotifyQueries.retry").binding(id, reason))
            guard updated == 1 else { throw RetryError(description: "notification \(id) is not failed") }
            _ = try JobEnqueuer.enqueue(tx, try NewJob(queue: AlertNotifier.queue, kind: NotifyJobs.sendNotification,
                                                       args: NotifyJobs.NotificationArgs(notification_id: id)))
        }
    }

    public struct UnroutedRow: Sendable, Equatable {
        public var notificationId: Int64
        public var alertId: Int64
        public var customerId: String
        public var rmId: String
        public var state: String
        public var reason: String?
    }

    /// Alerts whose customer's RM is unknown or inactive: sent to a branch fallback, or suppressed.
    public static func unrouted(_ session: PostgresSession, limit: Int = 200) throws -> [UnroutedRow] {
        try session.query(PostgresQuery("""
            SELECT id, alert_id, customer_id, rm_id, state, reason FROM notifications
            WHERE alert_id IS NOT NULL AND (rm_id LIKE 'branch:%' OR reason IN ('no_route', 'rm_inactive'))
            ORDER BY id DESC LIMIT $1
            """, name: "NotifyQueries.unrouted").binding(limit)).map {
            UnroutedRow(notificationId: try $0.decode(Int64.self, at: 0), alertId: try $0.decode(Int64.self, at: 1),
                        customerId: try $0.decode(String.self, at: 2), rmId: try $0.decode(String.self, at: 3),
                        state: try $0.decode(String.self, at: 4), reason: try $0.decode(String?.self, at: 5))
        }
    }

    public struct WaitingRow: Sendable, Equatable {
        public var rmId: String
        public var waiting: Int
        /// How many the next digest leaves out (waiting − budget, at least 0).
        public var beyondBudget: Int
        public var moneyAtRisk: Fen
    }

    /// Per RM: non-urgent alerts waiting for a digest, and how many exceed the daily budget.
    public static func waiting(_ session: PostgresSession, budget: Int) throws -> [WaitingRow] {
        try session.query(PostgresQuery("""
            SELECT rm_id, count(*), coalesce(sum(money_at_risk_fen), 0)::bigint FROM notifications
            WHERE state = 'waiting' AND digest_id IS NULL GROUP BY rm_id ORDER BY count(*) DESC, rm_id
            """, name: "NotifyQueries.waiting")).map {
            let count = try $0.decode(Int.self, at: 1)
            return WaitingRow(rmId: try $0.decode(String.self, at: 0), waiting: count, beyondBudget: max(0, count - budget),
                              moneyAtRisk: Fen(try $0.decode(Int64.self, at: 2)))
        }
    }
}
