import Foundation
import JobQueue
import Postgres
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The faults, in the order `all` runs them. Each is bounded: its faults take at most ~60 s and the
/// drain after them at most `--seconds` (90 s).
enum ChaosScenarios {
    static let all: [ChaosScenario] = [
        ChaosScenario(name: "baseline", summary: "no fault", isFast: true),
        ChaosScenario(
            name: "sigkill", summary: "10 SIGKILLs of random workers, each replaced", isFast: true,
            fault: { run in
                for i in 1...10 {
                    run.waitForProgress(Double(i) / 12)
                    if run.workers.signal(SIGKILL) == nil { run.note("kill \(i) found its worker restarting") }
                    Thread.sleep(forTimeInterval: 0.3)
                }
            }),
        ChaosScenario(
            name: "sigterm", summary: "SIGTERM of each worker in turn: drain, release, exit 0, replaced", isFast: true,
            fault: { run in
                for slot in 0..<run.workers.count {
                    run.waitForProgress(Double(slot + 1) / Double(run.workers.count + 2))
                    run.workers.signal(SIGTERM, slot: slot)
                    Thread.sleep(forTimeInterval: 0.5)
                }
            }),
        ChaosScenario(
            name: "pg-restart-fast", summary: "3 × pg_ctl restart -m fast under load",
            fault: { run in
                for i in 1...3 {
                    run.waitForProgress(Double(i) / 5)
                    try run.cluster.restart(mode: "fast")
                }
            }),
        ChaosScenario(
            name: "pg-restart-immediate", summary: "2 × pg_ctl restart -m immediate (crash recovery) under load",
            fault: { run in
                for i in 1...2 {
                    run.waitForProgress(Double(i) / 4)
                    try run.cluster.restart(mode: "immediate")
                }
            }),
        ChaosScenario(
            name: "listen-killed", summary: "pg_terminate_backend of every LISTEN connection, 5 times",
            fault: { run in
                let session = try run.cluster.session("tierguard-chaos-operator")
                defer { session.close() }
                var killed = 0
                for i in 1...5 {
                    run.waitForProgress(Double(i) / 7)
                    killed += try session.query(PostgresQuery("""
                        SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                        WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()
                        """)).count
                }
                run.note("\(killed) LISTEN backends terminated")
            }),
        ChaosScenario(
            name: "pg-freeze", summary: "SIGSTOP the postmaster and all its children for 30 s, then SIGCONT",
            fault: { run in
                run.waitForProgress(0.3)
                let pids = try run.cluster.serverProcesses()
                for pid in pids { kill(pid, SIGSTOP) }
                Thread.sleep(forTimeInterval: 30)
                for pid in pids { kill(pid, SIGCONT) }
                run.note("\(pids.count) server processes frozen 30 s")
            }),
        ChaosScenario(
            name: "exclusive-lock", summary: "an operator holds LOCK TABLE tg_jobs IN ACCESS EXCLUSIVE MODE for 20 s",
            fault: { run in
                run.waitForProgress(0.3)
                let session = try run.cluster.session("tierguard-chaos-operator")
                defer { session.close() }
                try session.withTransaction { session in
                    try session.execute(PostgresQuery("LOCK TABLE tg_jobs IN ACCESS EXCLUSIVE MODE"))
                    Thread.sleep(forTimeInterval: 20)
                }
            }),
        ChaosScenario(
            name: "old-transaction",
            summary: "a REPEATABLE READ transaction held open during a sustained load (jobs/s and dead tuples with and without)",
            custom: { session, run in try OldTransaction.run(session, run) }),
        ChaosScenario(
            name: "poison", summary: "3 jobs whose handler calls fatalError on every attempt (max_attempts 3)",
            extraJobs: (0..<3).map { _ in NewJob(queue: ChaosDriver.queue, kind: "poison", maxAttempts: 3) },
            check: { session, _ in
                let row = try session.query(PostgresQuery(
                    "SELECT count(*) FILTER (WHERE state = 'discarded' AND attempt = 3), count(*) FROM tg_jobs WHERE kind = 'poison'"))[0]
                let discarded = try row.decode(Int.self, at: 0), all = try row.decode(Int.self, at: 1)
                return discarded == all ? [] : ["\(all - discarded) of \(all) poison jobs not discarded after 3 attempts"]
            }),
        ChaosScenario(
            name: "clock-skew", summary: "worker clocks skewed +1 h (even slots) and -1 h (odd slots) by libfaketime",
            workerEnvironment: { slot in
                ["LD_PRELOAD": try FakeTime.library(), "FAKETIME": slot % 2 == 0 ? "+1h" : "-1h"]
            },
            skipReason: { FakeTime.skipReason() },
            check: { _, run in
                run.note("worker clock offsets (ready line vs the log's real mtime): " + FakeTime.offsets(logDir: run.cluster.dir))
                return []
            }),
        ChaosScenario(
            name: "disk-full",
            summary: "the cluster folder (a 768 MiB tmpfs) filled to the last byte for 15 s, then freed",
            skipReason: { getuid() == 0 ? nil : "needs root to mount the tmpfs the data folder lives on" },
            fault: { run in
                run.waitForProgress(0.3)
                let filler = run.cluster.dir + "/filler"
                try Shell.run(["sh", "-c", "dd if=/dev/zero of='\(filler)' bs=1M 2>/dev/null; df -m '\(run.cluster.dir)' | tail -1"])
                let freeAfter = (try? Shell.run(["df", "--output=avail", "-B1", run.cluster.dir]))?
                    .split(separator: "\n").last.map { String($0).trimmingCharacters(in: .whitespaces) } ?? "?"
                Thread.sleep(forTimeInterval: 15)
                try FileManager.default.removeItem(atPath: filler)
                // PostgreSQL PANICs when it cannot write WAL; if crash recovery also failed for lack of
                // space, the postmaster has exited: start it again, as an operator would.
                let running = (try? run.cluster.postmasterPID()).map { kill($0, 0) == 0 } ?? false
                if !running { try run.cluster.ensureRunning() }
                let log = (try? String(contentsOfFile: run.cluster.dir + "/server.log", encoding: .utf8)) ?? ""
                let refusals = log.split(separator: "\n").filter { $0.contains("No space left on device") }.count
                run.note("disk full for 15 s (\(freeAfter) bytes free, \(refusals) server log lines 'No space left on device'), "
                         + "postmaster \(running ? "survived" : "restarted by the driver")")
            },
            tmpfsMegabytes: 768),
        ChaosScenario(
            name: "network-blackhole",
            summary: "the workers (in a network namespace) lose every packet to and from PostgreSQL for 60 s",
            skipReason: { ChaosNetwork.skipReason() },
            fault: { run in
                run.waitForProgress(0.3)
                try ChaosNetwork.setLink(up: false)
                Thread.sleep(forTimeInterval: 60)
                try ChaosNetwork.setLink(up: true)
                run.note("veth down 60 s")
            },
            isNamespaced: true),
        ChaosScenario(
            name: "pg-restart-during-rescue",
            summary: "all workers SIGKILLed holding jobs; PostgreSQL stopped (-m immediate twice, -m fast once) inside the rescue sweep",
            fault: { run in try RescueRestart.fault(run) }),
        ChaosScenario(
            name: "notify-delay",
            summary: "idle worker, NOTIFY lost (LISTEN backend terminated / trigger suppressed): delay commit to handler start",
            custom: { session, run in try NotifyDelay.run(session, run) }),
    ]
}

/// libfaketime, installed with `apt-get install -y faketime` when missing and the driver is root.
enum FakeTime {
    static let candidates = ["/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                             "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1"]

    static func library() throws -> String {
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        throw ChaosError(description: "libfaketime not found")
    }

    /// Each worker's `ready … clock=T` (its own, skewed, wall clock) minus the real time the log was
    /// last written, rounded to minutes: evidence that the skew was in force.
    static func offsets(logDir: String) -> String {
        var found: [String] = []
        for slot in 0..<16 {
            let path = "\(logDir)/worker-\(slot).log"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                  let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                  let line = text.split(separator: "\n").last(where: { $0.hasPrefix("ready ") }),
                  let clock = line.split(separator: "=").last.flatMap({ Double($0) }) else { continue }
            found.append(String(format: "%+.0f min", ((clock - modified.timeIntervalSince1970) / 60).rounded()))
        }
        return found.isEmpty ? "none found" : found.joined(separator: ", ")
    }

    static func skipReason() -> String? {
        if (try? library()) != nil { return nil }
        if getuid() == 0 {
            _ = try? Shell.run(["apt-get", "install", "-y", "-qq", "faketime"],
                               environment: ["DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
            if (try? library()) != nil { return nil }
        }
        return "libfaketime missing (apt-get install -y faketime)"
    }
}

/// `old-transaction`: two phases of sustained load on one cluster, 40 s each (the queue topped up to
/// 4,000 waiting jobs whenever it falls below 2,000); the second runs while a REPEATABLE READ
/// transaction that has read `tg_jobs` stays open, so vacuum cannot remove any row version that
/// transaction might still see. Reports jobs/s and `n_dead_tup` of `tg_jobs` at the end of each phase.
///
/// `autovacuum_naptime` is set to 10 s on this cluster (PostgreSQL's default is 60 s): the job table's
/// own autovacuum settings (threshold 1,000, scale factor 0.01) only help if the launcher looks often,
/// and a 40 s phase would otherwise end before the first look.
enum OldTransaction {
    static let phaseSeconds = 40.0

    static func run(_ session: PostgresSession, _ run: ChaosRun) throws {
        try session.execute(PostgresQuery("ALTER SYSTEM SET autovacuum_naptime = '10s'"))
        _ = try session.query(PostgresQuery("SELECT pg_reload_conf()"))
        try run.workers.supervise()
        let without = try phase(session, run)
        let holder = try run.cluster.session("tierguard-chaos-old-transaction")
        defer { holder.close() }
        try holder.execute(PostgresQuery("BEGIN ISOLATION LEVEL REPEATABLE READ"))
        _ = try holder.query(PostgresQuery("SELECT count(*) FROM tg_jobs"))
        let with = try phase(session, run)
        try holder.execute(PostgresQuery("COMMIT"))
        run.note(String(format: "%.0f s phases, without: %.0f jobs/s, n_dead_tup %d; with an old transaction: %.0f jobs/s, n_dead_tup %d",
                        phaseSeconds, without.rate, without.dead, with.rate, with.dead))
    }

    static func phase(_ session: PostgresSession, _ run: ChaosRun) throws -> (rate: Double, dead: Int) {
        func finished() throws -> Int {
            try session.query(PostgresQuery("SELECT count(*) FROM tg_jobs WHERE state = 'completed'"))[0].decode(Int.self, at: 0)
        }
        let doneBefore = try finished()
        let started = monotonicSeconds()
        var counter = 0
        while monotonicSeconds() - started < phaseSeconds {
            try run.workers.supervise()
            let waiting = try session.query(ChaosDriver.remaining)[0].decode(Int.self, at: 0)
            if waiting < 2_000 {
                let jobs = (0..<(4_000 - waiting)).map { i in
                    NewJob(queue: ChaosDriver.queue, kind: (counter + i) % 2 == 0 ? "noop" : "effect")
                }
                counter += jobs.count
                try JobEnqueuer.enqueue(session, jobs)
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        let rate = Double(try finished() - doneBefore) / (monotonicSeconds() - started)
        let dead = try session.query(PostgresQuery(
            "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'tg_jobs'"))[0].decode(Int.self, at: 0)
        try ChaosDriver.drain(session, run, fault: { _ in })
        return (rate, dead)
    }
}
