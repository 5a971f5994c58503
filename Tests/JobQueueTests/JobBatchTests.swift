import Foundation
import JobQueue
import Postgres
import ServiceKit
import Testing
import TestSupport

/// Batch handlers (`JobRegistry.registerBatch`, `JobBatch`) on a real worker: a burst of one kind runs
/// in batches whose effects and completions commit together, and whatever a batch did not complete
/// runs job by job, so a bad job fails alone and a lost lease stays lost.
@Suite struct JobBatchTests {
    struct Poison: Error, CustomStringConvertible { var description: String { "poisoned on purpose" } }
    struct Args: Codable, Sendable { var n: Int }

    /// The effect of one job, written in its completion's transaction (the bench worker's table).
    static func recordEffect(_ session: PostgresSession, _ job: JobContext, via: String) throws {
        try session.execute(PostgresQuery("INSERT INTO tg_bench_effects (job_id, attempt, worker) VALUES ($1, $2, $3)")
            .binding(job.id, job.attempt, via))
    }

    /// A registry whose single handler fails for `poison` and whose batch handler fails any batch that
    /// holds it; `beforeCompleting` runs in the batch handler before it completes anything.
    static func registry(poison: Int? = nil, maxJobs: Int, batches: Recorder<Int>,
                         beforeCompleting: (@Sendable (JobBatch) throws -> Void)? = nil) -> JobRegistry {
        var registry = JobRegistry()
        registry.register("step", Args.self) { args, context in
            if args.n == poison { throw Poison() }
            try await context.withCompletionTransaction { session in try recordEffect(session, context, via: "single") }
            return .completedInTransaction
        }
        registry.registerBatch("step", Args.self, maxJobs: maxJobs) { args, batch in
            batches.append(args.count)
            if args.contains(where: { $0.n == poison }) { throw Poison() }
            try beforeCompleting?(batch)
            try await batch.withCompletionTransaction { session, held in
                for job in held { try recordEffect(session, job, via: "batch") }
            }
        }
        return registry
    }

    /// A fresh queue database holding `count` `step` jobs (n = 0, 1, …) on `queue`, and a session on it.
    static func burst(_ count: Int, queue: String) throws -> (database: TestDatabase, session: PostgresSession) {
        let database = try makeQueueDatabase()
        let session = try database.session()
        try JobEnqueuer.enqueue(session, try (0..<count).map { try NewJob(queue: queue, kind: "step", args: Args(n: $0)) })
        return (database, session)
    }

    /// A batch counter's value for the `step` jobs of `queue`.
    static func batchCounter(_ metrics: MetricsRegistry, _ name: String, queue: String) -> Double {
        metrics.counter(name, help: "", labelNames: ["queue", "kind"]).value(labels: ["queue": queue, "kind": "step"])
    }

    @Test func aBurstRunsInBatchesEachJobExactlyOnce() async throws {
        let (database, session) = try Self.burst(250, queue: "b")
        defer { session.close() }
        let batches = Recorder<Int>()
        let metrics = MetricsRegistry()
        let worker = JobWorker(configuration: testConfiguration(database, queue: "b"),
                               registry: Self.registry(maxJobs: 40, batches: batches), logger: quietLogger, metrics: metrics)
        try await worker.start()
        try await eventually(timeout: 20, "every job completed") {
            try scalar(session, "SELECT count(*) FROM tg_jobs WHERE state = 'completed'") == 250
        }
        await worker.shutdown(deadline: .seconds(1))
        // One effect per job, no job twice; most of them through batches of at most 40.
        #expect(try scalar(session, "SELECT count(DISTINCT job_id) FROM tg_bench_effects") as Int == 250)
        #expect(try scalar(session, "SELECT count(*) FROM tg_bench_effects") as Int == 250)
        let viaBatch: Int = try scalar(session, "SELECT count(*) FROM tg_bench_effects WHERE worker = 'batch'")
        #expect(viaBatch == batches.all.reduce(0, +))
        #expect(batches.all.allSatisfy { (2...40).contains($0) })
        #expect(viaBatch >= 200, "a burst of 250 jobs claimed 100 at a time ran mostly in batches (\(batches.all))")
        #expect(try scalar(session, "SELECT coalesce(sum(completed), 0)::bigint FROM tg_job_kind_stats WHERE kind = 'step'") as Int64 == 250)
        #expect(Self.batchCounter(metrics, "tierguard_job_batches_total", queue: "b") == Double(batches.count))
        #expect(Self.batchCounter(metrics, "tierguard_job_batch_fallbacks_total", queue: "b") == 0)
    }

    @Test func aFailedBatchRunsItsJobsOneByOneSoOnlyTheBadOneFails() async throws {
        let (database, session) = try Self.burst(30, queue: "p")
        defer { session.close() }
        let batches = Recorder<Int>()
        var config = testConfiguration(database, queue: "p")
        config.backoff = .constant(3_600)
        let metrics = MetricsRegistry()
        let worker = JobWorker(configuration: config, registry: Self.registry(poison: 7, maxJobs: 100, batches: batches),
                               logger: quietLogger, metrics: metrics)
        try await worker.start()
        try await eventually(timeout: 20, "29 completed and the poisoned one retryable") {
            try scalar(session, "SELECT count(*) FROM tg_jobs WHERE state = 'completed'") == 29
                && scalar(session, "SELECT count(*) FROM tg_jobs WHERE state = 'retryable'") == 1
        }
        await worker.shutdown(deadline: .seconds(1))
        #expect(!batches.all.isEmpty)
        let poisoned: String = try scalar(session, "SELECT (args->>'n') || ':' || (errors->0->>'error') FROM tg_jobs WHERE state = 'retryable'")
        #expect(poisoned == "7:poisoned on purpose")
        #expect(try scalar(session, "SELECT count(*) FROM tg_bench_effects") as Int == 29)
        // The poisoned batch's other jobs ran on their own, once each, and the metric counts them.
        let alone: Int = try scalar(session, "SELECT count(*) FROM tg_bench_effects WHERE worker = 'single'")
        #expect(alone >= 1)
        let fallbacks = Self.batchCounter(metrics, "tierguard_job_batch_fallbacks_total", queue: "p")
        // The poisoned batch (at least two jobs, the poisoned one among them) failed whole.
        #expect(fallbacks >= 2 && fallbacks <= 30)
    }

    @Test func aJobWhoseLeaseWasLostIsLeftOutOfTheBatchAndStaysLost() async throws {
        let (database, session) = try Self.burst(10, queue: "l")
        defer { session.close() }
        let batches = Recorder<Int>()
        let stolen = Recorder<Int64>()
        let configuration = database.configuration(applicationName: "thief")
        // Before its first batch completes, another attempt takes over one of its jobs (a rescue and a
        // new claim: a new lease token).
        let registry = Self.registry(maxJobs: 100, batches: batches) { batch in
            guard stolen.count == 0, let victim = batch.jobs.dropFirst(3).first else { return }
            let thief = try PostgresSession(configuration: configuration)
            defer { thief.close() }
            try thief.execute(PostgresQuery("UPDATE tg_jobs SET lease_token = lease_token + 1000 WHERE id = $1").binding(victim.id))
            stolen.append(victim.id)
        }
        let worker = JobWorker(configuration: testConfiguration(database, queue: "l"), registry: registry, logger: quietLogger)
        try await worker.start()
        try await eventually(timeout: 20, "the other nine completed") {
            try scalar(session, "SELECT count(*) FROM tg_jobs WHERE state = 'completed'") == 9
        }
        try await eventually(timeout: 5, "the worker let go of the stolen job") { worker.heldJobs == 0 }
        await worker.shutdown(deadline: .seconds(1))
        let victim = try #require(stolen.all.first)
        // Still running under the thief's lease, no effect from this worker, no error recorded.
        let row: String = try scalar(session, "SELECT state::text || ':' || jsonb_array_length(errors) FROM tg_jobs WHERE id = $1", victim)
        #expect(row == "running:0")
        #expect(try scalar(session, "SELECT count(*) FROM tg_bench_effects WHERE job_id = $1", victim) as Int == 0)
        #expect(try scalar(session, "SELECT count(*) FROM tg_bench_effects") as Int == 9)
    }
}
