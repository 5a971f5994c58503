import Foundation
import JobQueue
import Postgres
import TierGuardModel

/// The 08:30 morning digest: one message per RM (and per fallback branch route) gathering the
/// non-urgent alerts `waiting` for it, ranked by money at risk (AUM × retention-risk probability),
/// at most `policy.dailyBudget` (15) of them; the rest stay `waiting` for tomorrow and the digest
/// says how many. Each digest is a `pending` notification (subject `digest:<rm>:<day>`, so a second
/// run the same day builds nothing twice) plus a `send_notification` job, all in one transaction.
public enum DigestBuilder {
    public struct Summary: Sendable, Equatable {
        public var digests: Int
        public var included: Int
        public var stillWaiting: Int
        public var digestIds: [Int64]
    }

    static let ranked = PostgresQuery("""
        SELECT id, alert_id, rm_id, channel, target FROM (
            SELECT id, alert_id, rm_id, channel, target,
                   row_number() OVER (PARTITION BY rm_id, channel ORDER BY money_at_risk_fen DESC, id) AS rank
            FROM notifications WHERE state = 'waiting' AND digest_id IS NULL
        ) r WHERE rank <= $1
        ORDER BY rm_id, channel, rank
        """, name: "DigestBuilder.ranked")
    static let waitingCounts = PostgresQuery("""
        SELECT rm_id, channel, count(*) FROM notifications WHERE state = 'waiting' AND digest_id IS NULL
        GROUP BY rm_id, channel
        """, name: "DigestBuilder.waitingCounts")
    static let insertDigest = PostgresQuery("""
        INSERT INTO notifications (subject, rm_id, channel, target, state, title, body)
        VALUES ($1, $2, $3, $4, 'pending', $5, $6)
        ON CONFLICT (subject, rm_id, channel) DO NOTHING
        RETURNING id
        """, name: "DigestBuilder.insertDigest")
    static let attach = PostgresQuery("""
        UPDATE notifications SET digest_id = $1, updated_at = clock_timestamp() WHERE id = ANY($2::bigint[])
        """, name: "DigestBuilder.attach")

    /// Builds the digests of local day `day` and enqueues their sends.
    public static func build(session: PostgresSession, policy: NotifyPolicy, day: CalendarDate) throws -> Summary {
        try session.withTransaction { tx in
            struct Key: Hashable { var rm: String; var channel: String }
            var totals: [Key: Int] = [:]
            for row in try tx.query(waitingCounts) {
                totals[Key(rm: try row.decode(String.self, at: 0), channel: try row.decode(String.self, at: 1))] =
                    try row.decode(Int.self, at: 2)
            }
            var groups: [(key: Key, target: String, ids: [Int64], alerts: [Int64])] = []
            for row in try tx.query(ranked.binding(policy.dailyBudget)) {
                let key = Key(rm: try row.decode(String.self, at: 2), channel: try row.decode(String.self, at: 3))
                if groups.last?.key != key { groups.append((key, try row.decode(String.self, at: 4), [], [])) }
                groups[groups.count - 1].ids.append(try row.decode(Int64.self, at: 0))
                if let alert = try row.decode(Int64?.self, at: 1) { groups[groups.count - 1].alerts.append(alert) }
            }
            let facts = try AlertFacts.load(tx, ids: groups.flatMap(\.alerts))
            var summary = Summary(digests: 0, included: 0, stillWaiting: 0, digestIds: [])
            var jobs: [NewJob] = []
            for group in groups {
                let waiting = (totals[group.key] ?? group.ids.count) - group.ids.count
                let message = NotifyMessage.digest(day: day, alerts: group.alerts.compactMap { facts[$0] }, waiting: waiting)
                let inserted = try tx.query(insertDigest.binding("digest:\(group.key.rm):\(day)", group.key.rm, group.key.channel,
                                                                 group.target, message.title, message.text))
                guard inserted.count == 1 else { continue }
                let digestId = try inserted[0].decode(Int64.self, at: 0)
                _ = try tx.execute(attach.binding(digestId, group.ids))
                jobs.append(try NewJob(queue: AlertNotifier.queue, kind: NotifyJobs.sendNotification,
                                   args: NotifyJobs.NotificationArgs(notification_id: digestId),
                                   uniqueKey: "notification:\(digestId)"))
                summary.digests += 1
                summary.included += group.ids.count
                summary.stillWaiting += waiting
                summary.digestIds.append(digestId)
            }
            if !jobs.isEmpty { _ = try JobEnqueuer.enqueue(tx, jobs) }
            return summary
        }
    }
}

/// The notifier's job kinds and their arguments (queue `notifier`).
public enum NotifyJobs {
    /// `{"alert_id": N}`, enqueued by the scorer with each new alert.
    public static let notifyAlert = "notify_alert"
    /// `{"notification_id": N}`: a digest, escalation, SMS or an operator's retry.
    public static let sendNotification = "send_notification"
    /// Periodic, 08:30 Asia/Shanghai: `DigestBuilder.build`.
    public static let sendDigests = "send_digests"
    /// Periodic, daily: `RMTaskPlanner.run`.
    public static let rmTasksDaily = "rm_tasks_daily"
    /// Periodic, 09:00 Asia/Shanghai: `BirthdayGreetings.schedule`.
    public static let birthdaySMS = "birthday_sms"

    public struct AlertArgs: Codable, Sendable { public var alert_id: Int64 }
    public struct NotificationArgs: Codable, Sendable {
        public var notification_id: Int64
        public init(notification_id: Int64) { self.notification_id = notification_id }
    }
}
