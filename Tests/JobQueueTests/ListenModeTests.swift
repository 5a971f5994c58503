import Foundation
import JobQueue
import Postgres
import ServiceKit
import Testing
import TestSupport

/// Issue 9, "Past one machine": behind PgBouncer in transaction mode LISTEN needs its own direct or
/// session-mode connection (`JobWorkerConfiguration.listenDatabase`), and without any LISTEN-capable
/// connection the worker polls (`listen = false`).
@Suite struct ListenModeTests {
    /// Backends of `applicationName` whose last statement was a LISTEN.
    static func listeners(_ session: PostgresSession, applicationName: String) throws -> Int {
        try scalar(session, "SELECT count(*)::int FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN%'",
                   applicationName)
    }

    /// Poll-only: no backend of the worker LISTENs, and a job enqueued while the worker idles still
    /// runs within the poll interval (0.5 s here; 1.5 s allowed for a loaded 2-core machine).
    @Test func aPollOnlyWorkerStillRunsAJobWithinThePollInterval() async throws {
        let database = try makeQueueDatabase()
        let session = try database.session()
        defer { session.close() }
        let ran = Recorder<Double>()
        var registry = JobRegistry()
        registry.register("ping") { _ in
            ran.append(monotonicSeconds())
            return .completed
        }
        var config = testConfiguration(database, queue: "polled", service: "jq-poll-only")
        config.listen = false
        config.pollInterval = 0.5
        let worker = JobWorker(configuration: config, registry: registry, logger: quietLogger)
        try await worker.start()
        // Let the first (empty) claim pass, so the worker is idle and waiting for its next poll.
        try await Task.sleep(for: .milliseconds(700))
        #expect(try Self.listeners(session, applicationName: "jq-poll-only") == 0)
        for round in 1...2 {
            let enqueued = monotonicSeconds()
            try JobEnqueuer.enqueue(session, [NewJob(queue: "polled", kind: "ping")])
            try await eventually(timeout: 5, "job \(round) to run") { ran.count == round }
            let waited = ran.all[round - 1] - enqueued
            #expect(waited < 1.5, "job \(round) waited \(waited) s with a 0.5 s poll interval")
            try await Task.sleep(for: .milliseconds(300))
        }
        await worker.shutdown(deadline: .seconds(1))
        #expect(try scalar(session, "SELECT count(*)::int FROM tg_jobs WHERE state = 'completed'") == 2)
    }

    /// LISTEN on a separate connection: the listener is the backend named by `listenDatabase`, and
    /// with a 30 s poll interval a job still starts within 1.5 s, which only its NOTIFY can explain.
    @Test func theListenerUsesItsOwnConnectionAndWakesTheWorker() async throws {
        let database = try makeQueueDatabase()
        let session = try database.session()
        defer { session.close() }
        let ran = Recorder<Double>()
        var registry = JobRegistry()
        registry.register("ping") { _ in
            ran.append(monotonicSeconds())
            return .completed
        }
        var config = testConfiguration(database, queue: "notified", service: "jq-pooled")
        config.listenDatabase = database.configuration(applicationName: "jq-direct-listen")
        config.pollInterval = 30
        let worker = JobWorker(configuration: config, registry: registry, logger: quietLogger)
        try await worker.start()
        try await eventually(timeout: 5, "the LISTEN on the direct connection") {
            try Self.listeners(session, applicationName: "jq-direct-listen") == 1
        }
        #expect(try Self.listeners(session, applicationName: "jq-pooled") == 0)
        try await Task.sleep(for: .milliseconds(300))
        let enqueued = monotonicSeconds()
        try JobEnqueuer.enqueue(session, [NewJob(queue: "notified", kind: "ping")])
        try await eventually(timeout: 5, "the job to run") { ran.count == 1 }
        #expect(ran.all[0] - enqueued < 1.5)
        await worker.shutdown(deadline: .seconds(1))
    }
}
