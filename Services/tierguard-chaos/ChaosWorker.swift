import Foundation
import JobQueue
import Postgres
import ServiceKit

/// `tierguard-chaos chaos-worker`: one job queue worker process the fault suite spawns (4 by default),
/// the same `JobWorker` every service runs, plus a record of every handler start and end.
///
/// Why a worker of its own rather than `tierguard-bench queue-worker`: the invariant "no two attempts
/// of a job run at once while the earlier lease is valid" can only be checked from the handlers' own
/// start and end times, written where a crash cannot take them back. Each handler writes a `start`
/// row before doing anything and an `end` (or `fail`) row after, into `chaos_events`, through
/// connections of their own in autocommit mode (never the job's transaction: a rolled-back attempt
/// must still leave its trace). The start row also copies the lease's expiry as the database saw it
/// at that moment (`lease_until`), so the checker knows until when the attempt's lease was valid.
///
/// Kinds:
/// - `noop`: records, then `.completed` (batched completion);
/// - `effect`: records, then inserts `(job_id, attempt, worker)` into `chaos_effects` inside the
///   completion transaction (`withCompletionTransaction`): exactly once, or the suite fails. With
///   `--effect-batch N` (the pool gives it to every other worker) a burst of them also runs in
///   batches of up to N (`JobRegistry.registerBatch`): one start per job, the effects of the jobs
///   still held in the batch's completion transaction, an end for each job it completed and a `fail`
///   for each it did not (those then run alone, with their own start and end), so the suite checks the
///   batch path's exactly-once under the same faults;
/// - `poison`: records its start, then `fatalError` — the whole process dies on every attempt.
enum ChaosWorker {
    static let spec = CommandSpec(
        name: "chaos-worker", abstract: "One job queue worker process of the fault suite (the driver spawns it)",
        options: [
            .init("database-url", valueName: "url", help: "PostgreSQL URL", isRequired: true),
            .init("concurrency", valueName: "n", help: "handlers at once (default 4)"),
            .init("lease", valueName: "seconds", help: "lease (default 5)"),
            .init("backoff", valueName: "seconds", help: "constant retry backoff (default 1)"),
            .init("drain", valueName: "seconds", help: "SIGTERM drain deadline (default 10)"),
            .init("effect-batch", valueName: "n", help: "also run effect jobs in batches of up to n (default 1: one by one)"),
        ])

    /// The args of a kind that reads none (any JSON object decodes).
    struct NoArgs: Decodable, Sendable {}

    static func run(_ arguments: [String]) async throws -> Int32 {
        let parsed: Arguments
        switch try Arguments.parse(arguments, spec: spec) {
        case .run(let arguments): parsed = arguments
        case .help(let text), .version(let text):
            print(text)
            return 0
        }
        let url = parsed.option("database-url")!
        let signals = SignalWatcher()
        let concurrency = try parsed.int("concurrency") ?? 4
        var config = JobWorkerConfiguration(
            database: PostgresConfiguration(url, applicationName: "tierguard-chaos-worker", reconnectDeadlineSeconds: 120),
            queue: ChaosDriver.queue, service: "tierguard-chaos")
        config.concurrency = concurrency
        config.handlerConnections = concurrency
        config.leaseSeconds = Double(parsed.option("lease") ?? "") ?? 5
        config.backoff = .constant(Double(parsed.option("backoff") ?? "") ?? 1)
        let drain = Double(parsed.option("drain") ?? "") ?? 10
        let workerID = config.workerID
        let recorder = try await EventRecorder(url: url, connections: concurrency)

        var registry = JobRegistry()
        registry.register("noop") { context in
            try await recorder.record(context, worker: workerID, event: "start")
            try await recorder.record(context, worker: workerID, event: "end")
            return .completed
        }
        registry.register("effect") { context in
            try await recorder.record(context, worker: workerID, event: "start")
            do {
                let id = context.id, attempt = context.attempt
                try await context.withCompletionTransaction { session in
                    try session.execute(insertEffect.binding(id, attempt, workerID))
                }
            } catch {
                try? await recorder.record(context, worker: workerID, event: "fail")
                throw error
            }
            try await recorder.record(context, worker: workerID, event: "end")
            return .completedInTransaction
        }
        let effectBatch = try parsed.int("effect-batch") ?? 1
        if effectBatch > 1 {
            registry.registerBatch("effect", NoArgs.self, maxJobs: effectBatch) { _, batch in
                for job in batch.jobs { try await recorder.record(job, worker: workerID, event: "start") }
                do {
                    try await batch.withCompletionTransaction { session, held in
                        for job in held { try session.execute(insertEffect.binding(job.id, job.attempt, workerID)) }
                    }
                } catch {
                    for job in batch.jobs { try? await recorder.record(job, worker: workerID, event: "fail") }
                    throw error
                }
                let completed = batch.completedIDs
                for job in batch.jobs {
                    try await recorder.record(job, worker: workerID, event: completed.contains(job.id) ? "end" : "fail")
                }
            }
        }
        registry.register("poison") { context in
            try await recorder.record(context, worker: workerID, event: "start")
            fatalError("poison job \(context.id) attempt \(context.attempt): crashing the process on purpose")
        }
        let logger = Logger(service: "tierguard-chaos", threshold: .warning)
        let worker = JobWorker(configuration: config, registry: registry, logger: logger)
        try await worker.start()
        FileHandle.standardOutput.write(Data("ready \(workerID) clock=\(Int(Date().timeIntervalSince1970))\n".utf8))
        await worker.run(until: signals, deadline: .milliseconds(Int(drain * 1000)))
        await recorder.close()
        return 0
    }

    static let insertEffect = PostgresQuery(
        "INSERT INTO chaos_effects (job_id, attempt, worker) VALUES ($1, $2, $3)", name: "ChaosWorker.insertEffect")
}

/// Autocommit connections that write `chaos_events` rows, one connection per handler slot so that
/// recording never serializes the handlers. A write that fails (the server restarting) is retried on
/// a reconnected session for up to 120 s; after that the handler throws and the job is retried, which
/// the suite counts as an at-least-once re-run, never as a silent gap.
final class EventRecorder: Sendable {
    let connections: [PostgresConnection]

    init(url: String, connections count: Int) async throws {
        var connections: [PostgresConnection] = []
        for _ in 0..<max(1, count) {
            connections.append(try await PostgresConnection(configuration: PostgresConfiguration(
                url, applicationName: "tierguard-chaos-recorder", reconnectDeadlineSeconds: 120)))
        }
        self.connections = connections
    }

    static let insert = PostgresQuery("""
        INSERT INTO chaos_events (job_id, attempt, lease_token, worker, event, at, lease_until)
        VALUES ($1, $2, $3, $4, $5, clock_timestamp(),
                CASE WHEN $5 = 'start' THEN (SELECT lease_expires_at FROM tg_jobs WHERE id = $1 AND lease_token = $3) END)
        """, name: "EventRecorder.insert")

    func record(_ context: JobContext, worker: String, event: String) async throws {
        let connection = connections[Int(context.id % Int64(connections.count))]
        let query = Self.insert.binding(context.id, context.attempt, context.leaseToken, worker, event)
        let deadline = monotonicSeconds() + 120
        while true {
            do {
                try await connection.execute(query)
                return
            } catch {
                if monotonicSeconds() > deadline { throw error }
                try await Task.sleep(for: .milliseconds(200))
                _ = try? await connection.withSession { session in try session.reconnect() }
            }
        }
    }

    func close() async {
        for connection in connections { await connection.close() }
    }
}
