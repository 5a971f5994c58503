import Foundation
import JobQueue
import Postgres
import Testing
import TestSupport

/// The queue's SQL on its own: coalescing, claiming, fencing, rescue.
@Suite struct JobStoreTests {
    /// Claims up to `limit` jobs of `queue` with the worker's own statement; returns (id, token, attempt).
    func claim(_ session: PostgresSession, queue: String, limit: Int = 10, lease: Double = 30,
               completing: [(Int64, Int64)] = []) throws -> (claimed: [(id: Int64, token: Int64, attempt: Int)], completed: [Int64]) {
        let rows = try session.query(JobSQL.completeAndClaim.binding(
            completing.map(\.0), completing.map(\.1), queue, limit, "test:1:tests", lease))
        var claimed: [(Int64, Int64, Int)] = [], completed: [Int64] = []
        for row in rows {
            if try row.decode(Bool.self, at: 0) {
                completed.append(try row.decode(Int64.self, at: 1))
            } else {
                claimed.append((try row.decode(Int64.self, at: 1), try row.decode(Int64.self, at: 6), try row.decode(Int.self, at: 4)))
            }
        }
        return (claimed.map { (id: $0.0, token: $0.1, attempt: $0.2) }, completed)
    }

    @Test func concurrentEnqueuesWithOneUniqueKeyLeaveOnePendingJob() async throws {
        let database = try makeQueueDatabase()
        let connections = try await withThrowingTaskGroup(of: PostgresConnection.self) { group in
            for _ in 0..<4 { group.addTask { try await database.connection() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        // 4 connections × 50 transactions × 10 jobs for customer 42, plus one job for customer 7 each time.
        let inserted = try await withThrowingTaskGroup(of: Int.self) { group in
            for connection in connections {
                group.addTask {
                    var total = 0
                    for _ in 0..<50 {
                        total += try await connection.withTransaction { session in
                            try JobEnqueuer.enqueue(session, Array(repeating: NewJob(queue: "scorer", kind: "score", uniqueKey: "customer:42"), count: 10)
                                                    + [NewJob(queue: "scorer", kind: "score", uniqueKey: "customer:7")])
                        }
                    }
                    return total
                }
            }
            return try await group.reduce(0, +)
        }
        for connection in connections { await connection.close() }
        let session = try database.session()
        defer { session.close() }
        #expect(inserted == 2)
        let pending: Int = try scalar(session, "SELECT count(*) FROM tg_jobs WHERE unique_key = 'customer:42'")
        #expect(pending == 1)

        // The running-duplicate rule: while customer 42's job runs, a new one is pending again…
        let (claimed, _) = try claim(session, queue: "scorer", limit: 2)
        let id42: Int64 = try scalar(session, "SELECT id FROM tg_jobs WHERE unique_key = 'customer:42'")
        let running = try #require(claimed.first { $0.id == id42 })
        #expect(try JobEnqueuer.enqueue(session, NewJob(queue: "scorer", kind: "score", uniqueKey: "customer:42")))
        #expect(!(try JobEnqueuer.enqueue(session, NewJob(queue: "scorer", kind: "score", uniqueKey: "customer:42"))))
        let both: Int = try scalar(session, "SELECT count(*) FROM tg_jobs WHERE unique_key = 'customer:42'")
        #expect(both == 2)
        // …and if the running one fails, it is coalesced into that pending job instead of colliding.
        let runningKey: String = try scalar(session, "SELECT unique_key FROM tg_jobs WHERE id = $1", running.id)
        let settled = try JobStore.settle(session, ids: [running.id], tokens: [running.token], actions: ["fail"],
                                          messages: ["timeout"], delays: ["10"])
        #expect(settled.map(\.state) == ["cancelled"])
        let note: String = try scalar(session, "SELECT errors->0->>'error' FROM tg_jobs WHERE id = $1", running.id)
        #expect(note == "coalesced into a pending job with the same unique key")
        let pendingAfter: Int = try scalar(session, "SELECT count(*) FROM tg_jobs WHERE unique_key = $1 AND state = 'available'", runningKey)
        #expect(pendingAfter == 1)
    }

    /// The enqueue embedded in a caller's statement (`JobEnqueuer.embeddedInsert`) writes exactly the
    /// row `JobEnqueuer.enqueue` writes, only when its condition holds, and coalesces like it.
    @Test func anEmbeddedEnqueueWritesWhatEnqueueWritesOnlyWhenItsConditionHolds() throws {
        let database = try makeQueueDatabase()
        let session = try database.session()
        defer { session.close() }
        let statement = PostgresQuery(unsafeSQL: """
            WITH wanted AS (SELECT $1::boolean AS yes), job AS (
                \(JobEnqueuer.embeddedInsert(firstParameter: 2, when: "(SELECT yes FROM wanted)"))
                RETURNING 1
            )
            SELECT count(*) FROM job
            """)
        func embedded(_ yes: Bool, _ job: NewJob) throws -> Int {
            try session.query(statement.binding([yes.postgresBind] + JobEnqueuer.binds([job])))[0].decode(Int.self, at: 0)
        }
        let scheduled = NewJob(queue: "q", kind: "k", argsJSON: #"{"a": 1}"#, priority: 2, maxAttempts: 7,
                               runAfterSeconds: 3_600, uniqueKey: "u:1", traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        #expect(try embedded(false, scheduled) == 0)
        #expect(try scalar(session, "SELECT count(*) FROM tg_jobs") as Int == 0)
        #expect(try embedded(true, scheduled) == 1)
        #expect(try embedded(true, scheduled) == 0)  // coalesced: one pending job per unique key
        var same = scheduled
        same.queue = "r"
        #expect(try JobEnqueuer.enqueue(session, same))
        let now = NewJob(queue: "q", kind: "k")
        #expect(try embedded(true, now) == 1)
        #expect(try JobEnqueuer.enqueue(session, NewJob(queue: "r", kind: "k")))
        // Every column but the id, the queue and the instants matches, pair by pair; run_at is an hour
        // on (scheduled) or now (available) in both.
        let differing: Int = try scalar(session, """
            SELECT count(*) FROM tg_jobs a JOIN tg_jobs b ON a.queue = 'q' AND b.queue = 'r' AND a.unique_key IS NOT DISTINCT FROM b.unique_key
            WHERE (a.kind, a.args, a.priority, a.max_attempts, a.state, a.attempt, a.traceparent,
                   a.run_at > now() + interval '59 minutes')
                  IS DISTINCT FROM (b.kind, b.args, b.priority, b.max_attempts, b.state, b.attempt, b.traceparent,
                   b.run_at > now() + interval '59 minutes')
            """)
        let pairs: Int = try scalar(session, """
            SELECT count(*) FROM tg_jobs a JOIN tg_jobs b ON a.queue = 'q' AND b.queue = 'r' AND a.unique_key IS NOT DISTINCT FROM b.unique_key
            """)
        #expect(pairs == 2 && differing == 0)
        #expect(try scalar(session, "SELECT count(*) FROM tg_jobs WHERE queue = 'q' AND state = 'scheduled' AND priority = 2") as Int == 1)
    }

    @Test func aStaleCompletionAfterARescueChangesNothing() throws {
        let database = try makeQueueDatabase()
        let session = try database.session()
        defer { session.close() }
        try JobEnqueuer.enqueue(session, [NewJob(queue: "fence", kind: "k", maxAttempts: 5)])
        let first = try claim(session, queue: "fence", lease: 0.2).claimed[0]
        #expect(first.attempt == 1)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try JobStore.rescueExpired(session) == 1)
        let rescued: String = try scalar(session, "SELECT state::text || ':' || (errors->0->>'error') FROM tg_jobs")
        #expect(rescued == "retryable:lease expired (worker test:1:tests)")
        #expect(try JobStore.stageDue(session) == 1)
        let second = try claim(session, queue: "fence").claimed[0]
        #expect(second.attempt == 2)
        #expect(second.token != first.token)

        // The first worker wakes up late: each of its writes names its old token and changes 0 rows.
        #expect(!(try JobCompletion.complete(in: session, id: first.id, leaseToken: first.token)))
        #expect(try claim(session, queue: "fence", limit: 0, completing: [(first.id, first.token)]).completed.isEmpty)
        #expect(try JobStore.settle(session, ids: [first.id], tokens: [first.token], actions: ["fail"],
                                    messages: ["late"], delays: ["0"]).isEmpty)
        try session.execute(JobSQL.extendLeases.binding([first.id], [first.token], 30.0))
        let stillRunning: String = try scalar(session, "SELECT state::text || ':' || attempt || ':' || lease_token FROM tg_jobs")
        #expect(stillRunning == "running:2:\(second.token)")
        // The current holder completes.
        #expect(try claim(session, queue: "fence", limit: 0, completing: [(second.id, second.token)]).completed == [second.id])
    }

    @Test func aRescuedJobOnItsLastAttemptIsDiscarded() throws {
        let database = try makeQueueDatabase()
        let session = try database.session()
        defer { session.close() }
        try JobEnqueuer.enqueue(session, [NewJob(queue: "last", kind: "k", maxAttempts: 1)])
        _ = try claim(session, queue: "last", lease: 0.1)
        Thread.sleep(forTimeInterval: 0.2)
        #expect(try JobStore.rescueExpired(session) == 1)
        let state: String = try scalar(session, "SELECT state::text FROM tg_jobs")
        #expect(state == "discarded")
    }

    @Test func operatorRetryCancelAndDiscardAreRecorded() throws {
        let database = try makeQueueDatabase()
        let session = try database.session()
        defer { session.close() }
        try JobEnqueuer.enqueue(session, [NewJob(queue: "ops", kind: "a", maxAttempts: 1), NewJob(queue: "ops", kind: "b")])
        let a = try claim(session, queue: "ops", limit: 1).claimed[0]
        try JobStore.settle(session, ids: [a.id], tokens: [a.token], actions: ["fail"], messages: ["bad"], delays: ["0"])
        let discarded: String = try scalar(session, "SELECT state::text FROM tg_jobs WHERE id = $1", a.id)
        #expect(discarded == "discarded")
        #expect(try JobQueueAdmin.retryDiscarded(session, queue: "ops", operator: "ops-wang", reason: "fixed config") == [a.id])
        let retried: String = try scalar(session, "SELECT state::text || ':' || attempt FROM tg_jobs WHERE id = $1", a.id)
        #expect(retried == "available:0")
        let b: Int64 = try scalar(session, "SELECT id FROM tg_jobs WHERE kind = 'b'")
        #expect(try JobQueueAdmin.cancel(session, id: b, operator: "ops-wang", reason: "duplicate"))
        #expect(!(try JobQueueAdmin.cancel(session, id: b, operator: "ops-wang", reason: "again")))
        #expect(try JobQueueAdmin.discard(session, id: a.id, operator: "ops-wang", reason: "not needed"))
        let audit: String = try scalar(session, "SELECT string_agg(action || ' ' || target, ', ' ORDER BY id) FROM tg_job_operator_actions")
        #expect(audit == "retry job \(a.id), cancel job \(b), discard job \(a.id)")
    }

    @Test func pruningDeletesOnlyOldFinishedJobs() throws {
        let database = try makeQueueDatabase()
        let session = try database.session()
        defer { session.close() }
        try JobEnqueuer.enqueue(session, (0..<1_500).map { _ in NewJob(queue: "p", kind: "k") })
        try session.execute(PostgresQuery("""
            UPDATE tg_jobs SET state = 'completed', finished_at = now() - interval '8 days' WHERE id <= (SELECT min(id) + 1199 FROM tg_jobs)
            """))
        try session.execute(PostgresQuery("""
            UPDATE tg_jobs SET state = 'completed', finished_at = now() WHERE state = 'available' AND id % 2 = 0
            """))
        #expect(try JobStore.prune(session, retentionSeconds: 7 * 86_400) == 1_200)
        let left: Int = try scalar(session, "SELECT count(*) FROM tg_jobs")
        #expect(left == 300)
    }
}
