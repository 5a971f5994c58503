import Foundation
import JobQueue
import Postgres
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Settings of one run (`--jobs`, `--processes`, `--concurrency`, `--seconds`).
struct ChaosOptions: Sendable {
    /// Jobs enqueued per scenario (half `noop`, half `effect`).
    var jobs = 20_000
    var processes = 4
    /// Handlers per process.
    var concurrency = 4
    /// How long the queue may take to drain after the last fault, before the scenario fails.
    var seconds = 90.0
    var port = 55_480
}

/// What one scenario measured; one line of output.
struct ChaosResult: Sendable {
    var name: String
    var jobs = 0
    /// Committed jobs not in a terminal state at the end (invariant 1).
    var lost = 0
    /// Pairs of attempts of one job where the later started before the earlier ended while the
    /// earlier's lease was still valid (invariant 2).
    var overlaps = 0
    /// Effect rows beyond one per job (invariant 4), plus completed `effect` jobs with no effect row.
    var duplicateEffects = 0
    var missingEffects = 0
    /// Jobs whose final attempt is ≥ 2 (at-least-once re-runs).
    var reruns = 0
    var elapsed = 0.0
    var notes: [String] = []
    var failures: [String] = []
    var skipped: String?

    var passed: Bool { skipped != nil || (failures.isEmpty && lost == 0 && overlaps == 0 && duplicateEffects == 0 && missingEffects == 0) }

    var line: String {
        if let skipped { return "\(name.padding(toLength: 24, withPad: " ", startingAt: 0)) SKIPPED: \(skipped)" }
        var text = "\(name.padding(toLength: 24, withPad: " ", startingAt: 0)) jobs=\(jobs) lost=\(lost) overlaps=\(overlaps) "
            + "dup_effects=\(duplicateEffects) missing_effects=\(missingEffects) reruns=\(reruns) "
            + String(format: "elapsed=%.1fs ", elapsed) + (passed ? "PASS" : "FAIL")
        let extra = notes + failures
        if !extra.isEmpty { text += "  (" + extra.joined(separator: "; ") + ")" }
        return text
    }
}

/// One scenario in flight: its cluster, its workers and the progress the fault thread schedules on.
///
/// Faults are placed at points of progress (a fraction of the jobs finished), not at wall-clock times,
/// so each one lands under load whatever the machine's speed; a fault that waits longer than 60 s for
/// its point fires anyway.
final class ChaosRun: Sendable {
    let cluster: ChaosCluster
    let workers: ChaosWorkerPool
    let options: ChaosOptions
    let finished = Mutex(0)
    let total = Mutex(0)
    let notes = Mutex<[String]>([])
    /// Scenario-specific failures found while the scenario runs (pg-restart-during-rescue, notify-delay).
    let failures = Mutex<[String]>([])
    let began = monotonicSeconds()

    init(cluster: ChaosCluster, workers: ChaosWorkerPool, options: ChaosOptions) {
        self.cluster = cluster
        self.workers = workers
        self.options = options
    }

    func note(_ text: String) { notes.withLock { $0.append(text) } }
    func fail(_ text: String) { failures.withLock { $0.append(text) } }

    /// Waits until `fraction` of the enqueued jobs are terminal (at most `timeout` seconds).
    func waitForProgress(_ fraction: Double, timeout: Double = 60) {
        let deadline = monotonicSeconds() + timeout
        while monotonicSeconds() < deadline {
            let (done, all) = (finished.withLock { $0 }, total.withLock { $0 })
            if all > 0 && Double(done) >= fraction * Double(all) { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }
}

/// A fault and how to set up for it.
struct ChaosScenario: Sendable {
    var name: String
    var summary: String
    /// Part of `tierguard-chaos ci`.
    var isFast = false
    /// Extra jobs enqueued with the normal ones.
    var extraJobs: [NewJob] = []
    /// Extra environment for the workers (libfaketime).
    var workerEnvironment: @Sendable (_ slot: Int) throws -> [String: String] = { _ in [:] }
    /// Why the scenario cannot run here, or nil.
    var skipReason: @Sendable () -> String? = { nil }
    /// Runs on its own thread while the queue drains.
    var fault: @Sendable (ChaosRun) throws -> Void = { _ in }
    /// Extra checks after the drain; returns failures.
    var check: @Sendable (PostgresSession, ChaosRun) throws -> [String] = { _, _ in [] }
    /// Mount a tmpfs of this many MiB on the cluster folder before initdb (disk-full; root only).
    var tmpfsMegabytes: Int?
    /// Run the workers in a network namespace reaching PostgreSQL over a veth pair (network-blackhole).
    var isNamespaced = false
    /// Replaces the standard enqueue/drain (old-transaction runs two phases).
    var custom: (@Sendable (PostgresSession, ChaosRun) throws -> Void)?
}

enum ChaosDriver {
    static let queue = "chaos"

    static func say(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

    static let schema = PostgresQuery("""
        CREATE TABLE chaos_events (
            job_id bigint NOT NULL, attempt integer NOT NULL, lease_token bigint NOT NULL, worker text NOT NULL,
            event text NOT NULL CHECK (event IN ('start', 'end', 'fail')), at timestamptz NOT NULL,
            lease_until timestamptz);
        CREATE INDEX chaos_events_job ON chaos_events (job_id);
        -- No unique key on purpose: a second effect of one job must be counted, not refused.
        -- txn: effects written by one batch share their transaction (ChaosWorker --effect-batch).
        CREATE TABLE chaos_effects (job_id bigint NOT NULL, attempt integer NOT NULL, worker text NOT NULL,
                                    at timestamptz NOT NULL DEFAULT clock_timestamp(),
                                    txn bigint NOT NULL DEFAULT txid_current());
        """)

    /// Runs one scenario end to end on a fresh cluster; never throws (an error is a FAIL line).
    static func run(_ scenario: ChaosScenario, options: ChaosOptions) -> ChaosResult {
        var result = ChaosResult(name: scenario.name)
        if let reason = scenario.skipReason() {
            result.skipped = reason
            return result
        }
        let dir = "/tmp/tierguard-chaos-\(getpid())-\(scenario.name)"
        var cluster: ChaosCluster?
        var pool: ChaosWorkerPool?
        defer {
            pool?.stopAll()
            if scenario.isNamespaced { ChaosNetwork.tearDown() }
            if ProcessInfo.processInfo.environment["TIERGUARD_CHAOS_KEEP"] == "1" {
                say("  kept \(dir)")
            } else {
                cluster?.destroy()
                if scenario.tmpfsMegabytes != nil {
                    _ = try? Shell.run(["umount", dir])
                    _ = try? FileManager.default.removeItem(atPath: dir)
                }
            }
        }
        do {
            if let size = scenario.tmpfsMegabytes {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                try Shell.run(["mount", "-t", "tmpfs", "-o", "size=\(size)m,mode=0755", "tmpfs", dir])
            }
            let c = try ChaosCluster.start(dir: dir, port: options.port)
            cluster = c
            let session = try c.session()
            defer { session.close() }
            try Migrator.migrate(session, JobQueueSchema.migrations())
            try session.executeScript(unsafeSQL: schema.sql)
            let workerURL = scenario.isNamespaced ? try ChaosNetwork.setUp(c, port: options.port) : c.url
            let p = ChaosWorkerPool(url: workerURL, processes: options.processes, concurrency: options.concurrency,
                                    logDir: dir, environment: scenario.workerEnvironment,
                                    launcher: scenario.isNamespaced ? ["/usr/sbin/ip", "netns", "exec", ChaosNetwork.namespace] : [])
            pool = p
            let run = ChaosRun(cluster: c, workers: p, options: options)
            if let custom = scenario.custom {
                try custom(session, run)
            } else {
                // Runs of 25 of each kind, so the batching workers find bursts of `effect` jobs to batch.
                let jobs = (0..<options.jobs).map { NewJob(queue: queue, kind: $0 % 50 < 25 ? "noop" : "effect") } + scenario.extraJobs
                try enqueue(session, jobs)
                run.total.withLock { $0 = jobs.count }
                try p.supervise()
                try drain(session, run, fault: scenario.fault)
                let batched = try session.query(Self.batchedEffects)[0].decode(Int.self, at: 0)
                if batched > 0 {
                    run.note("\(batched) effects in batches")
                } else if p.count >= 2 {
                    run.fail("no effect job ran in a batch (odd worker slots batch them)")
                }
            }
            p.stopAll()
            result = try check(session, run, name: scenario.name)
            result.failures += try scenario.check(session, run)
            result.failures += p.badTerminations
            result.notes += run.notes.withLock { $0 }
            result.failures += run.failures.withLock { $0 }
            if p.restarts > 0 { result.notes.append("\(p.restarts) worker restarts") }
        } catch {
            result.failures.append("error: \(error)")
        }
        return result
    }

    /// Effects written by a batch: those whose transaction wrote more than one.
    static let batchedEffects = PostgresQuery("""
        SELECT coalesce(sum(n), 0)::bigint FROM (SELECT count(*) AS n FROM chaos_effects GROUP BY txn HAVING count(*) > 1) b
        """, name: "ChaosDriver.batchedEffects")

    static func enqueue(_ session: PostgresSession, _ jobs: [NewJob]) throws {
        try session.withTransaction { session in
            var start = 0
            while start < jobs.count {
                let end = min(jobs.count, start + 5_000)
                try JobEnqueuer.enqueue(session, Array(jobs[start..<end]))
                start = end
            }
        }
        try session.execute(PostgresQuery("ANALYZE tg_jobs"))
    }

    static let remaining = PostgresQuery(
        "SELECT count(*) FILTER (WHERE state NOT IN ('completed', 'discarded', 'cancelled')), count(*) FROM tg_jobs",
        name: "ChaosDriver.remaining")

    /// Supervises the workers and watches progress until every job is terminal and the fault thread
    /// is done, or `options.seconds` after the fault finished.
    static func drain(_ session: PostgresSession, _ run: ChaosRun, fault: @escaping @Sendable (ChaosRun) throws -> Void) throws {
        let faultDone = Mutex<Double?>(nil)
        let faultError = Mutex<String?>(nil)
        let thread = Thread {
            do { try fault(run) } catch { faultError.withLock { $0 = "fault: \(error)" } }
            faultDone.withLock { $0 = monotonicSeconds() }
        }
        thread.start()
        while true {
            try run.workers.supervise()
            var left = -1
            if let rows = try? session.query(remaining), let row = rows.makeIterator().next() {
                left = try row.decode(Int.self, at: 0)
                let all = try row.decode(Int.self, at: 1)
                run.finished.withLock { $0 = all - left }
            }
            if let done = faultDone.withLock({ $0 }) {
                if left == 0 { break }
                if monotonicSeconds() - done > run.options.seconds {
                    run.note("gave up waiting \(Int(run.options.seconds)) s after the last fault")
                    break
                }
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        if let error = faultError.withLock({ $0 }) { throw ChaosError(description: error) }
    }

    /// The invariants, in SQL, over everything the scenario enqueued and recorded.
    static func check(_ session: PostgresSession, _ run: ChaosRun, name: String) throws -> ChaosResult {
        var result = ChaosResult(name: name)
        func scalar(_ sql: StaticString) throws -> Int {
            try session.query(PostgresQuery(sql))[0].decode(Int.self, at: 0)
        }
        result.jobs = try scalar("SELECT count(*) FROM tg_jobs WHERE kind <> 'poison'")
        result.lost = try scalar("SELECT count(*) FROM tg_jobs WHERE state NOT IN ('completed', 'discarded', 'cancelled')")
        let notCompleted = try scalar("SELECT count(*) FROM tg_jobs WHERE kind <> 'poison' AND state <> 'completed'")
        if notCompleted > result.lost { result.failures.append("\(notCompleted - result.lost) jobs discarded or cancelled") }
        result.overlaps = try scalar("""
            WITH ends AS (
                SELECT lease_token, min(at) AS ended FROM chaos_events
                WHERE event IN ('end', 'fail') GROUP BY lease_token),
            attempts AS (
                SELECT s.job_id, s.lease_token, s.at AS started, s.lease_until, ends.ended
                FROM chaos_events s LEFT JOIN ends USING (lease_token) WHERE s.event = 'start')
            SELECT count(*) FROM attempts a JOIN attempts b
              ON b.job_id = a.job_id AND b.lease_token > a.lease_token
            WHERE b.started < coalesce(a.ended, 'infinity') AND b.started < a.lease_until
            """)
        result.duplicateEffects = try scalar("SELECT count(*) - count(DISTINCT job_id) FROM chaos_effects")
        result.missingEffects = try scalar("""
            SELECT count(*) FROM tg_jobs j WHERE j.kind = 'effect' AND j.state = 'completed'
              AND NOT EXISTS (SELECT 1 FROM chaos_effects e WHERE e.job_id = j.id AND e.attempt = j.attempt)
            """)
        result.reruns = try scalar("SELECT count(*) FROM tg_jobs WHERE kind <> 'poison' AND attempt >= 2")
        let unrecorded = try scalar("""
            SELECT count(*) FROM tg_jobs j WHERE j.kind <> 'poison' AND j.state = 'completed'
              AND NOT EXISTS (SELECT 1 FROM chaos_events e WHERE e.job_id = j.id AND e.event = 'start')
            """)
        if unrecorded > 0 { result.failures.append("\(unrecorded) completed jobs with no recorded start") }
        result.elapsed = monotonicSeconds() - run.began
        return result
    }
}
