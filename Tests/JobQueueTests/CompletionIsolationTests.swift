import Foundation
import JobQueue
import Postgres
import ServiceKit
import Synchronization
import Testing
import TestSupport

/// `withCompletionTransaction(isolation: .repeatableRead)`: a lease heartbeat that commits on the job row
/// while the fenced completion waits for it is a serialization failure at repeatable read; the
/// transaction runs again on the same lease instead of failing the attempt, and `prepare` / `finish`
/// run once around it on the same connection.
@Suite struct CompletionIsolationTests {
    @Test func aHeartbeatRacingTheCompletionIsRetriedInsideTheAttempt() async throws {
        let database = try makeQueueDatabase()
        let session = try database.session()
        defer { session.close() }
        try JobEnqueuer.enqueue(session, [NewJob(queue: "snap", kind: "snap")])
        let heartbeat = try database.session()
        defer { heartbeat.close() }

        final class Counts: Sendable {
            let prepared = Mutex(0), bodies = Mutex(0), finished = Mutex(0), backend = Mutex<Int32>(0), jobID = Mutex<Int64>(0)
        }
        let counts = Counts()
        let rowLocked = DispatchSemaphore(value: 0)
        var registry = JobRegistry()
        registry.register("snap") { context in
            let id = context.id
            try await context.withCompletionTransaction(
                isolation: .repeatableRead,
                prepare: { s in
                    counts.prepared.withLock { $0 += 1 }
                    counts.jobID.withLock { $0 = id }
                    counts.backend.withLock { $0 = (try? s.query(PostgresQuery("SELECT pg_backend_pid()"))[0].decode(Int32.self, at: 0)) ?? 0 }
                    // Wait (on this connection's own thread) until the test holds a heartbeat in flight on the row.
                    rowLocked.wait()
                },
                finish: { _ in counts.finished.withLock { $0 += 1 } }
            ) { s in
                counts.bodies.withLock { $0 += 1 }
                try s.execute(PostgresQuery("INSERT INTO tg_bench_effects (job_id, attempt, worker) VALUES ($1, 1, 'snap')").binding(id))
            }
            return .completedInTransaction
        }
        let worker = JobWorker(configuration: testConfiguration(database, queue: "snap"), registry: registry, logger: quietLogger)
        try await worker.start()
        // A heartbeat in flight on this job's row; once the completion waits on its row lock, it commits.
        try await eventually(timeout: 15, "the handler to start") { counts.jobID.withLock { $0 } != 0 }
        try heartbeat.execute(PostgresQuery("BEGIN"))
        try heartbeat.execute(PostgresQuery("UPDATE tg_jobs SET lease_expires_at = lease_expires_at + interval '1 second' WHERE id = $1")
            .binding(counts.jobID.withLock { $0 }))
        rowLocked.signal()
        try await eventually(timeout: 15, "the completion waits for the heartbeat") {
            let pid = counts.backend.withLock { $0 }
            guard pid != 0 else { return false }
            let waiting: Int = try scalar(session, "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid = $1", pid)
            return waiting > 0
        }
        try heartbeat.execute(PostgresQuery("COMMIT"))
        try await eventually(timeout: 15, "the job to complete") {
            try scalar(session, "SELECT count(*) FROM tg_jobs WHERE state = 'completed'") == 1
        }
        await worker.shutdown(deadline: .seconds(1))
        let attempt: Int = try scalar(session, "SELECT attempt FROM tg_jobs")
        let effects: Int = try scalar(session, "SELECT count(*) FROM tg_bench_effects")
        #expect(attempt == 1, "the serialization failure was retried inside the attempt")
        #expect(effects == 1)
        #expect(counts.bodies.withLock { $0 } == 1, "the first try failed at the completion, before the body")
        #expect(counts.prepared.withLock { $0 } == 1 && counts.finished.withLock { $0 } == 1)
    }
}
