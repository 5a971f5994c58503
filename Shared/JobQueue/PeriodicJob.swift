import Foundation
import Postgres

/// A job enqueued on a cron schedule, exactly once per tick however many replicas run it.
///
/// Every maintenance tick (about 1 s) each replica reads the database clock, computes the latest
/// fire time at or before it, and in ONE transaction inserts `(name, tick_at)` into
/// `tg_periodic_ticks` with `ON CONFLICT DO NOTHING` and, only if its row went in, enqueues `job`.
/// The primary key decides which replica wins; the loser's transaction enqueues nothing.
/// Missed ticks (all replicas down) are not backfilled: only the latest one is enqueued.
public struct PeriodicJob: Sendable {
    public let name: String
    public let schedule: CronSchedule
    public let job: NewJob

    /// `PeriodicJob(name: "nightly-rescore", cron: "30 8 * * *", job: …)`: 08:30 Beijing time daily.
    public init(name: String, cron: String, timeZone: String = "Asia/Shanghai", job: NewJob) throws {
        self.name = name
        self.schedule = try CronSchedule(cron, timeZone: timeZone)
        self.job = job
    }

    /// Enqueues the latest tick at or before `now` (database clock) unless some replica already did.
    /// Returns the tick when this call enqueued it.
    @discardableResult
    public func enqueueLatestTick(_ session: PostgresSession, now: Date) throws -> Date? {
        guard let tick = schedule.latest(atOrBefore: now) else { return nil }
        let epoch = tick.timeIntervalSince1970
        return try session.withTransaction { session in
            guard try session.execute(JobSQL.insertTick.binding(name, epoch)) == 1 else { return nil }
            if try JobEnqueuer.enqueue(session, [job]) == 1 {
                try session.execute(JobSQL.setTickJob.binding(name, epoch))
            }
            return tick
        }
    }
}
