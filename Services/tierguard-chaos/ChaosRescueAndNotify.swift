import Foundation
import JobQueue
import Postgres
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `pg-restart-during-rescue`: PostgreSQL stopped while a rescue sweep with hundreds of expired
/// leases is inside its transaction, three rounds (`-m immediate`, `-m immediate`, `-m fast`), at
/// 15 %, 30 % and 45 % of the progress.
///
/// Each round:
/// 1. waits until the workers hold at least 100 claimed (`running`) jobs;
/// 2. stops replacing workers, SIGKILLs all of them, and waits until every `running` lease has
///    expired (lease 5 s; at most 15 s), so no sweep has run yet and the first sweep finds them all
///    (`rescue_expired.sql` takes up to 1,000 rows per statement);
/// 3. lets the replacements start, polls `pg_stat_activity` (no sleep between polls) for the rescue
///    statement, active or idle in its transaction, and at the first sight of it stops the server.
///    The replacements run their first maintenance tick (heartbeat, then rescue) as they start.
///
/// How the server is stopped: the driver sends the postmaster the signal `pg_ctl stop -m MODE` sends
/// (`immediate` = SIGQUIT, `fast` = SIGINT) itself, because going through pg.sh first forks bash,
/// `runuser` and `pg_ctl`, while the sweep's transaction lasts a few milliseconds; it then waits for
/// the postmaster to exit and starts it again with `pg.sh start`, which is the rest of
/// `pg_ctl restart`. If the sweep is not seen within 15 s the round restarts anyway and says so.
///
/// Evidence that the stop landed inside the sweep: the number of `running` jobs with an expired
/// lease, read by the driver as soon as the server is back (before the workers' reconnect backoff
/// lets them sweep again). Equal to the number before means the sweep's transaction was rolled back;
/// the next sweep after the restart rescues them (attempt 2). A scenario in which no round landed
/// fails, since it would not have tested what it is named for.
///
/// Worker restarts beyond the 12 kills are replacements that were still connecting when the server
/// went down ("the database system is shutting down"): `JobWorker.start` fails, the process exits
/// 1 and the supervisor starts another, as systemd or Kubernetes would.
enum RescueRestart {
    static let modes = ["immediate", "immediate", "fast"]

    static let running = PostgresQuery(
        "SELECT count(*) FILTER (WHERE lease_expires_at >= now()), count(*) FROM tg_jobs WHERE state = 'running'",
        name: "RescueRestart.running")
    static let expiredRunning = PostgresQuery(
        "SELECT count(*) FROM tg_jobs WHERE state = 'running' AND lease_expires_at < now()",
        name: "RescueRestart.expiredRunning")
    /// The rescue statement (Shared/JobQueue/SQL/Statements/rescue_expired.sql) by its opening, which
    /// `track_activity_query_size` (1 kB) never cuts.
    static let sweep = PostgresQuery("""
        SELECT pid, state, (extract(epoch FROM clock_timestamp() - xact_start) * 1000)::float8
        FROM pg_stat_activity
        WHERE pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')
          AND query LIKE 'WITH expired AS (%' AND query LIKE '%lease_expires_at < now()%'
        """, name: "RescueRestart.sweep")

    static func fault(_ run: ChaosRun) throws {
        let session = try run.cluster.session("tierguard-chaos-operator")
        defer { session.close() }
        var landed = 0
        for (index, mode) in modes.enumerated() {
            run.waitForProgress(Double(index + 1) * 0.15)
            if try round(index + 1, mode: mode, run, session) { landed += 1 }
        }
        if landed == 0 { run.fail("no restart landed inside a rescue sweep") }
        run.note("\(landed) of \(modes.count) restarts inside a sweep")
    }

    /// One round; true when the stop landed inside the sweep (seen, and rolled back).
    static func round(_ number: Int, mode: String, _ run: ChaosRun, _ session: PostgresSession) throws -> Bool {
        var deadline = monotonicSeconds() + 20
        while monotonicSeconds() < deadline {
            if try session.query(running)[0].decode(Int.self, at: 1) >= 100 { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        run.workers.hold(true)
        let killed = run.workers.signalAll(SIGKILL)
        deadline = monotonicSeconds() + 15
        var expired = 0
        while monotonicSeconds() < deadline {
            let row = try session.query(running)[0]
            expired = try row.decode(Int.self, at: 1)
            if try row.decode(Int.self, at: 0) == 0 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        run.workers.hold(false)
        let released = monotonicSeconds()
        var seen: (pid: Int32, state: String, milliseconds: Double)?
        while seen == nil && monotonicSeconds() - released < 15 {
            let rows = try session.query(sweep)
            if rows.count > 0 {
                let row = rows[0]
                seen = (try row.decode(Int32.self, at: 0), try row.decode(String.self, at: 1), try row.decode(Double.self, at: 2))
            }
        }
        let postmaster = try run.cluster.postmasterPID()
        kill(postmaster, mode == "immediate" ? SIGQUIT : SIGINT)
        let signalled = monotonicSeconds()
        deadline = signalled + 60
        while kill(postmaster, 0) == 0 && monotonicSeconds() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let exited = monotonicSeconds() - signalled
        try run.cluster.ensureRunning()
        let down = monotonicSeconds() - signalled
        let after = try session.query(expiredRunning)[0].decode(Int.self, at: 0)
        let landed = seen != nil && after > 0
        var text = "round \(number) (\(mode)): \(killed.count) workers killed, their \(expired) running jobs' leases expired, "
        if let seen {
            text += String(format: "sweep seen (%@, %.0f ms into its transaction, %.1f s after replacements were allowed)",
                           seen.state, seen.milliseconds, signalled - released)
        } else {
            text += "sweep NOT seen within 15 s"
        }
        text += String(format: ", postmaster exited in %.2f s, back after %.2f s, %d still running with an expired lease",
                       exited, down, after)
        run.note(text)
        return landed
    }
}

/// `notify-delay` (invariant 6): how late an idle worker starts a job whose NOTIFY was lost.
///
/// One worker process (not the usual four: with four, each polling on its own phase, the nearest
/// poll would hide the bound this measures) of 4 handlers, idle on an empty queue, then 20 samples
/// of each kind, one job at a time, 0.2–1.2 s apart at random so the enqueue falls anywhere in the
/// poll cycle:
/// - (a) `listen-dead`: the worker's LISTEN backend is terminated (`pg_terminate_backend`) and gone
///   before the job is enqueued, so the NOTIFY reaches no listener while the worker reconnects;
/// - (b) `notify-suppressed`: the job is inserted in a transaction with `SET LOCAL
///   session_replication_role = replica`, so the `tg_jobs_notify` trigger does not fire; a probe
///   connection listening on the channel shows that no notification was sent.
/// Delay = the handler's `start` row (`chaos_events.at`, database clock) minus `clock_timestamp()`
/// read as the enqueue transaction's last statement, just before COMMIT (so it includes the commit).
///
/// Bound asserted on the maximum of each kind: poll interval 1 s (`JobWorkerConfiguration`'s default,
/// which the chaos worker keeps) + detection 0.2 s (the listen loop sleeps 0.2 s after an error,
/// then reconnects at once) + a margin of 0.5 s (the claim statement, the handler's start record and
/// scheduling on a 2-core machine shared with builds) = 1.7 s. The claim loop polls on its own
/// connection whatever the listener's state, so the poll alone bounds both kinds.
enum NotifyDelay {
    static let samples = 20
    static let pollInterval = 1.0
    static let detection = 0.2
    static let margin = 0.5
    static var bound: Double { pollInterval + detection + margin }
    static let workerApplication = "tierguard-chaos-worker"

    static let listeners = PostgresQuery("""
        SELECT pid FROM pg_stat_activity WHERE application_name = 'tierguard-chaos-worker' AND query LIKE 'LISTEN%'
        """, name: "NotifyDelay.listeners")
    /// Materialized first: PostgreSQL does not promise the order in which it evaluates AND-ed
    /// conditions, and `pg_terminate_backend` must only ever see the worker's LISTEN backend.
    static let terminate = PostgresQuery("""
        WITH listening AS MATERIALIZED (
            SELECT pid FROM pg_stat_activity
            WHERE application_name = 'tierguard-chaos-worker' AND query LIKE 'LISTEN%')
        SELECT pid FROM listening WHERE pg_terminate_backend(pid)
        """, name: "NotifyDelay.terminate")
    static let alive = PostgresQuery(
        "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])", name: "NotifyDelay.alive")
    static let lastJob = PostgresQuery(
        "SELECT max(id), extract(epoch FROM clock_timestamp())::float8 FROM tg_jobs", name: "NotifyDelay.lastJob")
    static let started = PostgresQuery(
        "SELECT extract(epoch FROM min(at))::float8 FROM chaos_events WHERE job_id = $1 AND event = 'start'",
        name: "NotifyDelay.started")

    static func run(_ session: PostgresSession, _ run: ChaosRun) throws {
        let pool = ChaosWorkerPool(url: run.cluster.url, processes: 1, concurrency: run.options.concurrency, logDir: run.cluster.dir)
        defer { pool.stopAll() }
        try pool.supervise()
        try waitForListener(session, pool)
        let probe = try run.cluster.session("tierguard-chaos-probe")
        defer { probe.close() }
        try probe.listen(JobWorkerConfiguration.channel(queue: ChaosDriver.queue))

        var listenDead: [Double] = [], suppressed: [Double] = []
        var terminated = 0, notified = (listenDead: 0, suppressed: 0), timeouts = 0
        for _ in 0..<samples {
            try waitForListener(session, pool)
            Thread.sleep(forTimeInterval: Double.random(in: 0.2...1.2))
            let pids = try session.query(terminate).map { try $0.decode(Int32.self, at: 0) }
            terminated += pids.count
            let gone = monotonicSeconds() + 2
            while try session.query(alive.binding(pids))[0].decode(Int.self, at: 0) > 0 && monotonicSeconds() < gone {
                Thread.sleep(forTimeInterval: 0.002)
            }
            if let delay = try sample(session, pool, suppressNotify: false) { listenDead.append(delay) } else { timeouts += 1 }
            notified.listenDead += try drain(probe)
        }
        for _ in 0..<samples {
            try waitForListener(session, pool)
            Thread.sleep(forTimeInterval: Double.random(in: 0.2...1.2))
            if let delay = try sample(session, pool, suppressNotify: true) { suppressed.append(delay) } else { timeouts += 1 }
            notified.suppressed += try drain(probe)
        }
        run.total.withLock { $0 = 2 * samples }
        let figures = "listen-dead: \(summary(listenDead)) (\(terminated) LISTEN backends terminated, \(notified.listenDead) NOTIFYs reached the probe); "
            + "notify-suppressed: \(summary(suppressed)) (\(notified.suppressed) NOTIFYs reached the probe); "
            + String(format: "bound %.1f s = poll %.1f + detection %.1f + margin %.1f", bound, pollInterval, detection, margin)
        run.note(figures)
        if timeouts > 0 { run.fail("\(timeouts) jobs not started within 10 s") }
        if let worst = listenDead.max(), worst > bound { run.fail(String(format: "listen-dead max %.3f s > %.1f s", worst, bound)) }
        if let worst = suppressed.max(), worst > bound { run.fail(String(format: "notify-suppressed max %.3f s > %.1f s", worst, bound)) }
        if notified.suppressed > 0 { run.fail("\(notified.suppressed) NOTIFYs sent although suppressed") }
        if terminated < samples { run.fail("only \(terminated) LISTEN backends terminated in \(samples) samples") }
    }

    /// Enqueues one `noop` job and waits for its handler to start; the delay in seconds, or nil after 10 s.
    static func sample(_ session: PostgresSession, _ pool: ChaosWorkerPool, suppressNotify: Bool) throws -> Double? {
        let (id, committed) = try session.withTransaction { session -> (Int64, Double) in
            if suppressNotify { try session.execute(PostgresQuery("SET LOCAL session_replication_role = replica")) }
            _ = try JobEnqueuer.enqueue(session, [NewJob(queue: ChaosDriver.queue, kind: "noop")])
            let row = try session.query(lastJob)[0]
            return (try row.decode(Int64.self, at: 0), try row.decode(Double.self, at: 1))
        }
        let deadline = monotonicSeconds() + 10
        while monotonicSeconds() < deadline {
            if let start = try session.query(started.binding(id))[0].decode(Double?.self, at: 0) { return start - committed }
            try pool.supervise()
            Thread.sleep(forTimeInterval: 0.01)
        }
        return nil
    }

    /// Waits (at most 30 s) until the worker's LISTEN connection is up.
    static func waitForListener(_ session: PostgresSession, _ pool: ChaosWorkerPool) throws {
        let deadline = monotonicSeconds() + 30
        while monotonicSeconds() < deadline {
            try pool.supervise()
            if try session.query(listeners).count > 0 { return }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw ChaosError(description: "the worker's LISTEN connection did not come up within 30 s")
    }

    /// Notifications the probe received since the last call.
    static func drain(_ probe: PostgresSession) throws -> Int {
        var count = 0
        var timeout = 0.05
        while try probe.waitForNotification(timeout: timeout) != nil {
            count += 1
            timeout = 0
        }
        return count
    }

    static func summary(_ delays: [Double]) -> String {
        guard !delays.isEmpty else { return "no samples" }
        let sorted = delays.sorted()
        func rank(_ p: Double) -> Double { sorted[max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1)] }
        return String(format: "n=%d p50 %.0f ms, p90 %.0f ms, max %.0f ms", sorted.count, rank(0.5) * 1000, rank(0.9) * 1000, sorted.last! * 1000)
    }
}
