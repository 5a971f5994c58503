import Foundation
import JobQueue
import Postgres
import ServiceKit
import Testing
import TestSupport

@Suite struct JobWorkerTests {
    struct Boom: Error, CustomStringConvertible { var description: String { "boom on purpose" } }

    @Test func aFailingJobIsRetriedWithBackoffThenDiscarded() async throws {
        let database = try makeQueueDatabase()
        let session = try database.session()
        defer { session.close() }
        try JobEnqueuer.enqueue(session, [NewJob(queue: "retry", kind: "boom", maxAttempts: 3)])
        let starts = Recorder<(attempt: Int, at: Double)>()
        var registry = JobRegistry()
        registry.register("boom") { context in
            starts.append((context.attempt, monotonicSeconds()))
            throw Boom()
        }
        var config = testConfiguration(database, queue: "retry")
        // Attempt n waits 0.3 × n s (the standard formula is unit-tested on its own).
        config.backoff = JobBackoff { attempt in 0.3 * Double(attempt) }
        let worker = JobWorker(configuration: config, registry: registry, logger: quietLogger)
        try await worker.start()
        try await eventually(timeout: 15, "the job to be discarded") {
            try scalar(session, "SELECT count(*) FROM tg_jobs WHERE state = 'discarded'") == 1
        }
        await worker.shutdown(deadline: .seconds(1))
        let recorded = starts.all
        #expect(recorded.map(\.attempt) == [1, 2, 3])
        // Each retry waited at least its backoff (0.3 s after attempt 1, 0.6 s after attempt 2).
        #expect(recorded[1].at - recorded[0].at >= 0.29)
        #expect(recorded[2].at - recorded[1].at >= 0.59)
        let attempt: Int = try scalar(session, "SELECT attempt FROM tg_jobs")
        let errors: Int = try scalar(session, "SELECT jsonb_array_length(errors) FROM tg_jobs")
        let messages: String = try scalar(session, "SELECT string_agg(e->>'error', '|' ORDER BY (e->>'attempt')::int) FROM tg_jobs, jsonb_array_elements(errors) e")
        let finished: Bool = try scalar(session, "SELECT finished_at IS NOT NULL FROM tg_jobs")
        #expect(attempt == 3)
        #expect(errors == 3)
        #expect(messages == "boom on purpose|boom on purpose|boom on purpose")
        #expect(finished)
        let failed: Int64 = try scalar(session, "SELECT failed FROM tg_job_kind_stats WHERE queue = 'retry' AND kind = 'boom'")
        #expect(failed == 3)
    }

    @Test func scheduledJobsNeverRunBeforeTheirTimeOnTheDatabaseClock() async throws {
        let database = try makeQueueDatabase()
        let session = try database.session()
        defer { session.close() }
        try JobEnqueuer.enqueue(session, (0..<4).map { i in
            NewJob(queue: "later", kind: "tick", runAfterSeconds: 0.5 + 0.4 * Double(i))
        })
        let scheduled: Int = try scalar(session, "SELECT count(*) FROM tg_jobs WHERE state = 'scheduled'")
        #expect(scheduled == 4)
        var registry = JobRegistry()
        registry.register("tick") { _ in .completed }
        let worker = JobWorker(configuration: testConfiguration(database, queue: "later"), registry: registry, logger: quietLogger)
        try await worker.start()
        try await eventually(timeout: 10, "all scheduled jobs to complete") {
            try scalar(session, "SELECT count(*) FROM tg_jobs WHERE state = 'completed'") == 4
        }
        await worker.shutdown(deadline: .seconds(1))
        let early: Int = try scalar(session, "SELECT count(*) FROM tg_jobs WHERE attempted_at < run_at")
        #expect(early == 0)
    }

    @Test func higherPriorityRunsFirstThenOlderJobs() async throws {
        let database = try makeQueueDatabase()
        let session = try database.session()
        defer { session.close() }
        // 30 jobs, priorities cycling 9, 4, 0, 7, 2; one statement, so equal run_at: id breaks ties.
        let priorities = (0..<30).map { [9, 4, 0, 7, 2][$0 % 5] }
        try JobEnqueuer.enqueue(session, priorities.map { NewJob(queue: "prio", kind: "p", argsJSON: "{\"p\": \($0)}", priority: $0) })
        let expected = try session.query(PostgresQuery("SELECT id FROM tg_jobs ORDER BY priority, id")).map { try $0.decode(Int64.self, at: 0) }
        let order = Recorder<Int64>()
        var registry = JobRegistry()
        registry.register("p") { context in
            order.append(context.id)
            return .completed
        }
        var config = testConfiguration(database, queue: "prio")
        config.concurrency = 1
        let worker = JobWorker(configuration: config, registry: registry, logger: quietLogger)
        try await worker.start()
        try await eventually(timeout: 10, "30 jobs") { order.count == 30 }
        await worker.shutdown(deadline: .seconds(1))
        #expect(order.all == expected)
        #expect(priorities.filter { $0 == 0 }.count == 6)
    }

    @Test func aNotifyWakesAnIdleWorkerLongBeforeThePollInterval() async throws {
        let database = try makeQueueDatabase()
        let session = try database.session()
        defer { session.close() }
        let started = Recorder<Double>()
        var registry = JobRegistry()
        registry.register("wake") { _ in
            started.append(monotonicSeconds())
            return .completed
        }
        var config = testConfiguration(database, queue: "idle")
        config.pollInterval = 5
        config.maintenanceInterval = 5
        let worker = JobWorker(configuration: config, registry: registry, logger: quietLogger)
        try await worker.start()
        // Let its first (empty) claim pass, so only a NOTIFY or the 5 s poll can wake it.
        try await Task.sleep(for: .milliseconds(600))
        var latencies: [Double] = []
        for _ in 0..<3 {
            let before = started.count
            let enqueued = monotonicSeconds()
            try JobEnqueuer.enqueue(session, [NewJob(queue: "idle", kind: "wake")])
            try await eventually(timeout: 10, "pickup") { started.count > before }
            latencies.append(started.all[before] - enqueued)
            try await Task.sleep(for: .milliseconds(300))
        }
        await worker.shutdown(deadline: .seconds(1))
        #expect(latencies.allSatisfy { $0 < 0.5 }, "pickup latencies \(latencies) s with a 5 s poll interval")
    }

    @Test func aPeriodicTickIsEnqueuedOnceAcrossThreeReplicas() async throws {
        let database = try makeQueueDatabase()
        let session = try database.session()
        defer { session.close() }
        let periodic = try PeriodicJob(name: "every-minute", cron: "* * * * *", job: NewJob(queue: "cron", kind: "tick"))
        var registry = JobRegistry()
        registry.register("tick") { _ in .completed }
        var workers: [JobWorker] = []
        for replica in 0..<3 {
            var config = testConfiguration(database, queue: "cron")
            config.periodicJobs = [periodic]
            config.workerID = "test-host:\(replica):replica"
            workers.append(JobWorker(configuration: config, registry: registry, logger: quietLogger))
        }
        // Start all three together so their first maintenance ticks race.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in workers { group.addTask { try await worker.start() } }
            try await group.waitForAll()
        }
        try await Task.sleep(for: .milliseconds(1_500))  // about 7 maintenance ticks each
        for worker in workers { await worker.shutdown(deadline: .seconds(1)) }
        let ticks: Int = try scalar(session, "SELECT count(*) FROM tg_periodic_ticks WHERE name = 'every-minute'")
        let jobs: Int = try scalar(session, "SELECT count(*) FROM tg_jobs WHERE kind = 'tick'")
        let linked: Int = try scalar(session, "SELECT count(DISTINCT job_id) FROM tg_periodic_ticks")
        // One tick (two if a minute boundary fell inside the test), exactly one job per tick.
        #expect(ticks >= 1 && ticks <= 2)
        #expect(jobs == ticks)
        #expect(linked == ticks)
        let latestIsAMinute: Bool = try scalar(session, "SELECT bool_and(tick_at = date_trunc('minute', tick_at) AND tick_at <= now()) FROM tg_periodic_ticks")
        #expect(latestIsAMinute)
    }

    @Test func aPausedQueueIsNotClaimedUntilResumedAndActionsAreAudited() async throws {
        let database = try makeQueueDatabase()
        let session = try database.session()
        defer { session.close() }
        try JobQueueAdmin.setPaused(session, queue: "held", paused: true, operator: "ops-li", reason: "maintenance window")
        var registry = JobRegistry()
        registry.register("x") { _ in .completed }
        let worker = JobWorker(configuration: testConfiguration(database, queue: "held"), registry: registry, logger: quietLogger)
        try await worker.start()
        try JobEnqueuer.enqueue(session, [NewJob(queue: "held", kind: "x")])
        try await Task.sleep(for: .milliseconds(800))
        let waiting: Int = try scalar(session, "SELECT count(*) FROM tg_jobs WHERE state = 'available'")
        #expect(waiting == 1)
        try JobQueueAdmin.setPaused(session, queue: "held", paused: false, operator: "ops-li", reason: "window over")
        try await eventually(timeout: 5, "completion after resume") {
            try scalar(session, "SELECT count(*) FROM tg_jobs WHERE state = 'completed'") == 1
        }
        await worker.shutdown(deadline: .seconds(1))
        let audit: String = try scalar(session, "SELECT string_agg(action || ':' || operator || ':' || reason, '|' ORDER BY id) FROM tg_job_operator_actions")
        #expect(audit == "pause:ops-li:maintenance window|resume:ops-li:window over")
        let workers: Int = try scalar(session, "SELECT count(*) FROM tg_workers")
        #expect(workers == 0)
    }

    @Test func aHandlerStillRunningAtTheDrainDeadlineIsReleasedAndCancelled() async throws {
        let database = try makeQueueDatabase()
        let session = try database.session()
        defer { session.close() }
        try JobEnqueuer.enqueue(session, [NewJob(queue: "slow", kind: "long")])
        let endings = Recorder<String>()
        var registry = JobRegistry()
        registry.register("long") { _ in
            do {
                try await Task.sleep(for: .seconds(30))
                endings.append("finished")
            } catch is CancellationError {
                endings.append("cancelled")
                throw CancellationError()
            }
            return .completed
        }
        let worker = JobWorker(configuration: testConfiguration(database, queue: "slow"), registry: registry, logger: quietLogger)
        try await worker.start()
        try await eventually(timeout: 10, "the job to run") {
            try scalar(session, "SELECT count(*) FROM tg_jobs WHERE state = 'running'") == 1
        }
        let began = monotonicSeconds()
        await worker.shutdown(deadline: .milliseconds(300))
        try await eventually(timeout: 5, "the handler to see its cancellation") { endings.count == 1 }
        #expect(monotonicSeconds() - began < 5)
        #expect(endings.all == ["cancelled"])
        // Released (attempt given back), not failed: the handler's late error changed nothing.
        let state: String = try scalar(session, "SELECT state::text || ':' || attempt || ':' || jsonb_array_length(errors) FROM tg_jobs")
        #expect(state == "available:0:0")
    }

    @Test func snoozeAndCancelSettleWithoutCountingOrRetrying() async throws {
        let database = try makeQueueDatabase()
        let session = try database.session()
        defer { session.close() }
        try JobEnqueuer.enqueue(session, [NewJob(queue: "s", kind: "snooze"), NewJob(queue: "s", kind: "cancel")])
        let snoozes = Recorder<Int>()
        var registry = JobRegistry()
        registry.register("snooze") { context in
            snoozes.append(context.attempt)
            return snoozes.count == 1 ? .snooze(seconds: 0.3) : .completed
        }
        registry.register("cancel") { _ in .cancel(reason: "customer closed") }
        let worker = JobWorker(configuration: testConfiguration(database, queue: "s"), registry: registry, logger: quietLogger)
        try await worker.start()
        try await eventually(timeout: 10, "both settled") {
            try scalar(session, "SELECT count(*) FROM tg_jobs WHERE state IN ('completed', 'cancelled')") == 2
        }
        await worker.shutdown(deadline: .seconds(1))
        #expect(snoozes.all == [1, 1])
        let cancelled: String = try scalar(session, "SELECT state::text || ':' || (errors->0->>'error') FROM tg_jobs WHERE kind = 'cancel'")
        #expect(cancelled == "cancelled:customer closed")
    }

    @Test func metricsCountByQueueAndKindAndGaugesReadTheDatabase() async throws {
        let database = try makeQueueDatabase()
        let session = try database.session()
        defer { session.close() }
        try JobEnqueuer.enqueue(session, [NewJob(queue: "m", kind: "ok"), NewJob(queue: "m", kind: "ok"),
                                          NewJob(queue: "m", kind: "bad", maxAttempts: 1)])
        let metrics = MetricsRegistry()
        var registry = JobRegistry()
        registry.register("ok") { _ in .completed }
        registry.register("bad") { _ in throw Boom() }
        let worker = JobWorker(configuration: testConfiguration(database, queue: "m"), registry: registry,
                               logger: quietLogger, metrics: metrics)
        try await worker.start()
        try await eventually(timeout: 10, "all three settled") {
            try scalar(session, "SELECT count(*) FROM tg_jobs WHERE state IN ('completed', 'discarded')") == 3
        }
        await worker.shutdown(deadline: .seconds(1))
        // Two more waiting, one of them 1 hour old by the database clock.
        try JobEnqueuer.enqueue(session, [NewJob(queue: "m", kind: "ok"), NewJob(queue: "m", kind: "ok")])
        try session.execute(PostgresQuery("UPDATE tg_jobs SET run_at = now() - interval '1 hour' WHERE id = (SELECT max(id) FROM tg_jobs)"))
        let connection = try await database.connection()
        JobQueueStats.registerGauges(on: metrics, connection: connection)
        let text = await metrics.render()
        await connection.close()
        let completed = metrics.counter("tierguard_jobs_completed_total", help: "", labelNames: ["queue", "kind"])
        let failed = metrics.counter("tierguard_jobs_failed_total", help: "", labelNames: ["queue", "kind"])
        #expect(completed.value(labels: ["queue": "m", "kind": "ok"]) == 2)
        #expect(failed.value(labels: ["queue": "m", "kind": "bad"]) == 1)
        #expect(text.contains("tierguard_job_duration_seconds_count{queue=\"m\",kind=\"ok\"} 2"), "\(text)")
        #expect(text.contains("tierguard_queue_depth{queue=\"m\"} 2"), "\(text)")
        let oldest = text.split(separator: "\n").first { $0.hasPrefix("tierguard_queue_oldest_available_seconds{queue=\"m\"}") }
        let age = oldest.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        #expect(age >= 3_600 && age < 3_660)
        let stats = try JobQueueStats.kinds(session)
        #expect(stats.map { "\($0.kind):\($0.completed):\($0.failed)" } == ["bad:0:1", "ok:2:0"])
    }
}
