import Foundation
import JobQueue
import Postgres
import ServiceKit
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `tierguard-bench queue`: drain rate and idle pickup latency of the job queue, beside the ceiling
/// (a bare claim-and-complete SQL loop with no guarantees) measured in the same run.
///
/// `tierguard-bench queue-worker`: one worker process (the benchmark and the JobQueue tests spawn
/// it). Kinds it handles:
/// - `noop`: returns `.completed` (batched completion);
/// - `effect`: inserts `(job_id, attempt, worker)` into `tg_bench_effects` (primary key job_id) and
///   completes the job in the same transaction (`withCompletionTransaction`);
/// - `sleep` (`{"seconds": s, "laterSeconds": t}`): sleeps s (t after the first attempt), then does what
///   `effect` does;
/// - `fail`: throws.
/// With `--starts-file PATH` each handler start appends `id monotonic_seconds` to PATH
/// (CLOCK_MONOTONIC, shared by processes of one machine).
enum QueueBench {
    static let queue = "bench"

    static let workerSpec = CommandSpec(
        name: "queue-worker", abstract: "Run one job queue worker process until SIGTERM/SIGINT",
        options: [
            BenchArguments.databaseURLOption,
            .init("queue", valueName: "name", help: "queue to consume (default bench)"),
            .init("concurrency", valueName: "n", help: "handlers at once (default 10)"),
            .init("batch", valueName: "n", help: "jobs claimed per statement (default 100)"),
            .init("lease", valueName: "seconds", help: "lease (default 30)"),
            .init("poll", valueName: "seconds", help: "poll interval (default 1)"),
            .init("drain", valueName: "seconds", help: "shutdown drain deadline (default 10)"),
            .init("connections", valueName: "n", help: "handler connections (default 2)"),
            .init("starts-file", valueName: "path", help: "append `id monotonic` per handler start"),
        ])

    static func runWorker(_ arguments: [String]) async throws -> Int32 {
        guard let parsed = try BenchArguments.parse(arguments, spec: workerSpec) else { return 0 }
        let signals = SignalWatcher()
        let url = try BenchArguments.databaseURL(parsed)
        var config = JobWorkerConfiguration(
            database: PostgresConfiguration(url, applicationName: "tierguard-bench"), queue: parsed.option("queue") ?? queue,
            service: "tierguard-bench")
        config.concurrency = try parsed.int("concurrency") ?? 10
        config.claimBatchSize = try parsed.int("batch") ?? 100
        config.leaseSeconds = Double(parsed.option("lease") ?? "") ?? 30
        config.pollInterval = Double(parsed.option("poll") ?? "") ?? 1
        config.handlerConnections = try parsed.int("connections") ?? 2
        let drain = Double(parsed.option("drain") ?? "") ?? 10
        let starts = parsed.option("starts-file").map { StartsFile(path: $0) }
        let workerID = config.workerID

        var registry = JobRegistry()
        registry.register("noop") { context in
            starts?.record(context.id)
            return .completed
        }
        registry.register("effect") { context in
            starts?.record(context.id)
            try await recordEffect(context, workerID: workerID)
            return .completedInTransaction
        }
        registry.register("sleep", SleepArgs.self) { args, context in
            starts?.record(context.id)
            let seconds = context.attempt > 1 ? (args.laterSeconds ?? args.seconds) : args.seconds
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            try await recordEffect(context, workerID: workerID)
            return .completedInTransaction
        }
        registry.register("fail") { context in
            starts?.record(context.id)
            throw BenchFailure()
        }
        let logger = Logger(service: "tierguard-bench", threshold: .warning)
        let worker = JobWorker(configuration: config, registry: registry, logger: logger)
        try await worker.start()
        FileHandle.standardOutput.write(Data("ready \(workerID)\n".utf8))
        await worker.run(until: signals, deadline: .milliseconds(Int(drain * 1000)))
        return 0
    }

    /// `seconds` on the first attempt, `laterSeconds` (default: the same) on later ones.
    struct SleepArgs: Codable, Sendable { var seconds: Double; var laterSeconds: Double? }
    struct BenchFailure: Error, CustomStringConvertible { var description: String { "the fail kind always fails" } }

    static let insertEffect = PostgresQuery(
        "INSERT INTO tg_bench_effects (job_id, attempt, worker) VALUES ($1, $2, $3)", name: "QueueBench.insertEffect")

    static func recordEffect(_ context: JobContext, workerID: String) async throws {
        let id = context.id, attempt = context.attempt
        try await context.withCompletionTransaction { session in
            try session.execute(insertEffect.binding(id, attempt, workerID))
        }
    }

    /// The table the `effect` and `sleep` kinds write; a duplicate run would violate its key.
    public static let createEffects = PostgresQuery("""
        CREATE TABLE IF NOT EXISTS tg_bench_effects (job_id bigint PRIMARY KEY, attempt integer NOT NULL,
                                                     worker text NOT NULL, at timestamptz NOT NULL DEFAULT now())
        """)


    // MARK: The benchmark

    static let benchSpec = CommandSpec(
        name: "queue", abstract: "Job queue drain rate and idle pickup latency (creates database tierguard_queue_bench)",
        options: [
            BenchArguments.databaseURLOption,
            .init("jobs", valueName: "n", help: "no-op jobs per round (default 50000)"),
            .init("processes", valueName: "p", help: "worker processes (default 2)"),
            .init("concurrency", valueName: "c", help: "handlers per process (default 10)"),
            .init("batch", valueName: "n", help: "jobs claimed per statement (default 100)"),
            .init("rounds", valueName: "n", help: "timed rounds after the cold one (default 3)"),
            .init("latency-jobs", valueName: "n", help: "single jobs for pickup latency (default 1000)"),
            .init("rate", valueName: "per-second", help: "enqueue rate for pickup latency (default 50)"),
        ])

    static func run(_ arguments: [String]) async throws -> Int32 {
        guard let parsed = try BenchArguments.parse(arguments, spec: benchSpec) else { return 0 }
        let options = BenchOptions(
            url: try BenchArguments.databaseURL(parsed), jobs: try parsed.int("jobs") ?? 50_000, processes: try parsed.int("processes") ?? 2,
            concurrency: try parsed.int("concurrency") ?? 10, batch: try parsed.int("batch") ?? 100,
            rounds: try parsed.int("rounds") ?? 3, latencyJobs: try parsed.int("latency-jobs") ?? 1_000,
            rate: Double(parsed.option("rate") ?? "") ?? 50)
        // Blocking libpq work: on a thread of its own, never the cooperative pool.
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try runBlocking(options) })
            }
            thread.stackSize = 4 << 20
            thread.start()
        }
    }

    struct BenchOptions: Sendable {
        var url: String, jobs: Int, processes: Int, concurrency: Int, batch: Int, rounds: Int, latencyJobs: Int, rate: Double
    }

    static func say(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

    static func runBlocking(_ o: BenchOptions) throws -> Int32 {
        let adminConfig = PostgresConfiguration(o.url, applicationName: "tierguard-bench")
        let admin = try PostgresSession(configuration: adminConfig)
        let database = "tierguard_queue_bench"
        try admin.execute(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(database) WITH (FORCE)"))
        try admin.execute(PostgresQuery(unsafeSQL: "CREATE DATABASE \(database)"))
        let settings = try admin.query(PostgresQuery(
            "SELECT current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit')"))
        admin.close()
        var components = URLComponents(string: o.url)!
        components.path = "/" + database
        let url = components.string!
        let session = try PostgresSession(configuration: PostgresConfiguration(url, applicationName: "tierguard-bench"))
        defer { session.close() }
        try Migrator.migrate(session, JobQueueSchema.migrations())
        try session.execute(createEffects)
        say("tierguard-bench queue: PostgreSQL \(try settings[0].decode(String.self, at: 0)), fsync=\(try settings[0].decode(String.self, at: 1)), synchronous_commit=\(try settings[0].decode(String.self, at: 2)), \(ProcessInfo.processInfo.activeProcessorCount) cores")
        say("settings: jobs=\(o.jobs) processes=\(o.processes) concurrency=\(o.concurrency) batch=\(o.batch) rounds=\(o.rounds)")

        // (a) drain rate: a cold round on a never-analyzed table, then analyzed rounds.
        var rates: [Double] = []
        for round in 0...o.rounds {
            try session.execute(PostgresQuery("TRUNCATE tg_jobs, tg_workers, tg_job_kind_stats"))
            try enqueueNoops(session, count: o.jobs)
            if round > 0 { try session.execute(PostgresQuery("ANALYZE tg_jobs")) }
            let workers = try (0..<o.processes).map { _ in
                try spawnWorker(url: url, concurrency: o.concurrency, batch: o.batch, startsFile: nil)
            }
            try waitFor(timeout: 600) { try remaining(session) == 0 }
            for worker in workers { worker.interrupt() }
            for worker in workers { worker.waitUntilExit() }
            let (completed, seconds) = try drainFigures(session)
            guard completed == o.jobs else {
                say("round \(round): only \(completed) of \(o.jobs) completed"); return 1
            }
            let rate = Double(completed) / seconds
            say(String(format: "drain %@: %d jobs in %.3f s (first claim to last completion, DB clock) = %.0f jobs/s",
                       round == 0 ? "cold (no ANALYZE)" : "round \(round)", completed, seconds, rate))
            if round > 0 { rates.append(rate) }
        }
        let median = rates.sorted()[rates.count / 2]
        say(String(format: "drain median of %d analyzed rounds: %.0f jobs/s", rates.count, median))

        // The ceiling: bare claim-and-complete, 100 per statement, no lease, no attempt, no guarantees.
        var ceilings: [Double] = []
        for _ in 0..<max(1, o.rounds) {
            try session.execute(PostgresQuery("TRUNCATE tg_jobs"))
            try enqueueNoops(session, count: o.jobs)
            try session.execute(PostgresQuery("ANALYZE tg_jobs"))
            let seconds = try bareLoop(url: url, threads: o.processes)
            ceilings.append(Double(o.jobs) / seconds)
        }
        let ceiling = ceilings.sorted()[ceilings.count / 2]
        say(String(format: "ceiling (bare SQL loop, %d connections, 100 per statement): median %.0f jobs/s (%@); TierGuard/ceiling = %.2f",
                   o.processes, ceiling, ceilings.map { String(format: "%.0f", $0) }.joined(separator: ", "), median / ceiling))

        // (b) idle pickup latency.
        try session.execute(PostgresQuery("TRUNCATE tg_jobs, tg_workers"))
        let startsPath = FileManager.default.temporaryDirectory.appendingPathComponent("tg-bench-starts-\(getpid())").path
        try? FileManager.default.removeItem(atPath: startsPath)
        let worker = try spawnWorker(url: url, concurrency: o.concurrency, batch: o.batch, startsFile: startsPath)
        try waitFor(timeout: 30) { try session.query(PostgresQuery("SELECT count(*) FROM tg_workers"))[0].decode(Int.self, at: 0) == 1 }
        Thread.sleep(forTimeInterval: 1.5)
        var enqueued: [Int64: (call: Double, commit: Double)] = [:]
        let job = NewJob(queue: queue, kind: "noop")
        let interval = 1.0 / o.rate
        let begin = monotonicSeconds()
        for i in 0..<o.latencyJobs {
            let slot = begin + Double(i) * interval
            let pause = slot - monotonicSeconds()
            if pause > 0 { Thread.sleep(forTimeInterval: pause) }
            let call = monotonicSeconds()
            _ = try JobEnqueuer.enqueue(session, job)
            let commit = monotonicSeconds()
            let id = try session.query(PostgresQuery("SELECT currval(pg_get_serial_sequence('tg_jobs', 'id'))"))[0].decode(Int64.self, at: 0)
            enqueued[id] = (call, commit)
        }
        try waitFor(timeout: 60) { try remaining(session) == 0 }
        worker.interrupt()
        worker.waitUntilExit()
        let starts = try String(contentsOfFile: startsPath, encoding: .utf8)
        var fromCommit: [Double] = [], fromCall: [Double] = []
        for line in starts.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let id = Int64(parts[0]), let t = Double(parts[1]), let e = enqueued[id] else { continue }
            fromCommit.append((t - e.commit) * 1000)
            fromCall.append((t - e.call) * 1000)
        }
        try? FileManager.default.removeItem(atPath: startsPath)
        say(String(format: "pickup latency, %d single jobs at %.0f/s, one idle worker:", fromCommit.count, o.rate))
        say("  from the enqueue's commit returning: " + percentiles(fromCommit))
        say("  from the enqueue call starting:      " + percentiles(fromCall))
        return fromCommit.count == o.latencyJobs ? 0 : 1
    }

    static func percentiles(_ values: [Double]) -> String {
        guard !values.isEmpty else { return "no samples" }
        let sorted = values.sorted()
        func p(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.up)) - 1)] }
        return String(format: "p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms", p(0.50), p(0.95), p(0.99), sorted.last!)
    }

    static func enqueueNoops(_ session: PostgresSession, count: Int) throws {
        let job = NewJob(queue: queue, kind: "noop")
        try session.withTransaction { session in
            var left = count
            while left > 0 {
                let n = min(left, 5_000)
                try JobEnqueuer.enqueue(session, Array(repeating: job, count: n))
                left -= n
            }
        }
    }

    static func remaining(_ session: PostgresSession) throws -> Int {
        try session.query(PostgresQuery(
            "SELECT count(*) FROM tg_jobs WHERE state IN ('available', 'running', 'scheduled', 'retryable')"))[0]
            .decode(Int.self, at: 0)
    }

    static func drainFigures(_ session: PostgresSession) throws -> (Int, Double) {
        let row = try session.query(PostgresQuery("""
            SELECT count(*) FILTER (WHERE state = 'completed'),
                   extract(epoch FROM max(finished_at) - min(attempted_at))::float8
            FROM tg_jobs
            """))[0]
        return (try row.decode(Int.self, at: 0), try row.decode(Double.self, at: 1))
    }

    static func waitFor(timeout: Double, _ condition: () throws -> Bool) throws {
        let deadline = monotonicSeconds() + timeout
        while try !condition() {
            if monotonicSeconds() > deadline { throw BenchTimeout() }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    struct BenchTimeout: Error, CustomStringConvertible { var description: String { "timed out" } }

    static func spawnWorker(url: String, concurrency: Int, batch: Int, startsFile: String?) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Bundle.main.executablePath ?? CommandLine.arguments[0])
        var arguments = ["queue-worker", "--database-url", url, "--concurrency", String(concurrency), "--batch", String(batch)]
        if let startsFile { arguments += ["--starts-file", startsFile] }
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// P threads, each its own session, looping one statement that completes the previous 100 and
    /// claims the next 100. Returns seconds from start to the last thread finding nothing.
    static func bareLoop(url: String, threads: Int) throws -> Double {
        let statement = PostgresQuery("""
            WITH done AS (
                UPDATE tg_jobs SET state = 'completed', finished_at = now() WHERE id = ANY($1::bigint[])
            ), picked AS (
                SELECT id FROM tg_jobs WHERE state = 'available' AND queue = $2
                ORDER BY priority, run_at, id LIMIT 100 FOR UPDATE SKIP LOCKED
            )
            UPDATE tg_jobs AS j SET state = 'running' FROM picked WHERE j.id = picked.id RETURNING j.id
            """)
        let failures = Mutex<[String]>([])
        let group = DispatchGroup()
        let start = monotonicSeconds()
        for _ in 0..<threads {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                do {
                    let s = try PostgresSession(configuration: PostgresConfiguration(url, applicationName: "tierguard-bench-bare"))
                    defer { s.close() }
                    var ids: [Int64] = []
                    repeat {
                        ids = try s.query(statement.binding(ids, queue)).map { try $0.decode(Int64.self, at: 0) }
                    } while !ids.isEmpty
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            thread.start()
        }
        group.wait()
        let seconds = monotonicSeconds() - start
        if let failure = failures.withLock({ $0.first }) { throw BenchFailureMessage(description: failure) }
        return seconds
    }

    struct BenchFailureMessage: Error, CustomStringConvertible { var description: String }
}

/// Appends `id monotonic_seconds` lines with one `write(2)` each (O_APPEND: lines never interleave).
final class StartsFile: Sendable {
    let fd: Int32
    init(path: String) { fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644) }
    deinit { close(fd) }

    func record(_ id: Int64) {
        var line = "\(id) \(String(format: "%.6f", monotonicSeconds()))\n"
        line.withUTF8 { buffer in _ = write(fd, buffer.baseAddress, buffer.count) }
    }
}
