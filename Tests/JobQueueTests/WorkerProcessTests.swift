import Foundation
import JobQueue
import Postgres
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Real worker processes (`tierguard-bench queue-worker`), real signals.
@Suite struct WorkerProcessTests {
    @Test func noJobRunsTwiceWithFourProcessesOfFourHandlers() async throws {
        let database = try makeQueueDatabase()
        let session = try database.session()
        defer { session.close() }
        let total = 20_000
        try session.withTransaction { session in
            for _ in 0..<(total / 5_000) {
                try JobEnqueuer.enqueue(session, Array(repeating: NewJob(queue: "bench", kind: "effect"), count: 5_000))
            }
        }
        try session.execute(PostgresQuery("ANALYZE tg_jobs"))
        let workers = try (0..<4).map { _ in
            try WorkerProcess(database: database, ["--concurrency", "4", "--connections", "4", "--batch", "100"])
        }
        try await eventually(timeout: 60, interval: 0.1, "all 20,000 jobs to finish") {
            try scalar(session, "SELECT count(*) FROM tg_jobs WHERE state <> 'completed'") == 0
        }
        for worker in workers { worker.signal(SIGTERM) }
        for worker in workers {
            let status = await worker.exitStatus(within: 15)
            #expect(status == 0, "worker exit status; log: \(worker.log.suffix(2_000))")
        }
        // Each effect row is written in its job's completion transaction; the key forbids a second one.
        let effects: Int = try scalar(session, "SELECT count(*) FROM tg_bench_effects")
        let firstAttempts: Int = try scalar(session, "SELECT count(*) FROM tg_jobs WHERE attempt = 1 AND errors = '[]'")
        let writers: Int = try scalar(session, "SELECT count(DISTINCT worker) FROM tg_bench_effects")
        let matching: Int = try scalar(session, """
            SELECT count(*) FROM tg_jobs j JOIN tg_bench_effects e ON e.job_id = j.id
            WHERE e.worker = j.attempted_by AND e.attempt = j.attempt
            """)
        #expect(effects == total)
        #expect(firstAttempts == total)
        #expect(matching == total)
        #expect(writers == 4)
        let rows: Int = try scalar(session, "SELECT count(*) FROM tg_workers")
        #expect(rows == 0)
    }

    @Test func aJobWhoseWorkerIsKilledIsCompletedByAnotherWithAttemptTwo() async throws {
        let database = try makeQueueDatabase()
        let session = try database.session()
        defer { session.close() }
        try JobEnqueuer.enqueue(session, [NewJob(queue: "bench", kind: "sleep", argsJSON: "{\"seconds\": 60, \"laterSeconds\": 0.5}")])
        let first = try WorkerProcess(database: database, ["--lease", "2", "--poll", "0.2"])
        do {
            try await eventually(timeout: 45, "the first worker to run the job") {
                try scalar(session, "SELECT count(*) FROM tg_jobs WHERE state = 'running'") == 1
            }
        } catch {
            Issue.record("\(error); running: \(first.process.isRunning); worker log: \(first.log.suffix(3_000))")
            return
        }
        let holder: String = try scalar(session, "SELECT attempted_by FROM tg_jobs")
        #expect(holder.contains(":\(first.pid):"))
        first.signal(SIGKILL)
        #expect(await first.exitStatus(within: 5) != nil)
        let second = try WorkerProcess(database: database, ["--lease", "2", "--poll", "0.2"])
        try await eventually(timeout: 45, interval: 0.1, "the rescued job to complete") {
            try scalar(session, "SELECT count(*) FROM tg_jobs WHERE state = 'completed'") == 1
        }
        second.signal(SIGTERM)
        #expect(await second.exitStatus(within: 10) == 0)
        let attempt: Int = try scalar(session, "SELECT attempt FROM tg_jobs")
        let effect: String = try scalar(session, "SELECT attempt || '@' || worker FROM tg_bench_effects")
        let error: String = try scalar(session, "SELECT errors->0->>'error' FROM tg_jobs")
        #expect(attempt == 2)
        #expect(effect.hasPrefix("2@") && effect.contains(":\(second.pid):"))
        #expect(error == "lease expired (worker \(holder))")
    }

    @Test func sigtermDrainsRunningJobsReleasesTheRestAndExitsZero() async throws {
        let database = try makeQueueDatabase()
        let session = try database.session()
        defer { session.close() }
        try JobEnqueuer.enqueue(session, [
            NewJob(queue: "bench", kind: "sleep", argsJSON: "{\"seconds\": 4}", priority: 0),
            NewJob(queue: "bench", kind: "sleep", argsJSON: "{\"seconds\": 30}", priority: 1),
            NewJob(queue: "bench", kind: "sleep", argsJSON: "{\"seconds\": 30}", priority: 2),
        ])
        // Two handlers: the third job waits in the worker, claimed but not started, until the 4 s job
        // is done. The wait below is for a state that lasts (all three claimed once, the first two
        // started), not for a window of a few seconds a loaded machine can miss. "Started" is read from
        // the handlers' own starts file: a claim commits before its runners take the jobs, and a SIGTERM
        // in between releases all three at once (a fresh-clone CI run saw that).
        let starts = FileManager.default.temporaryDirectory.appendingPathComponent("jq-starts-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: starts) }
        let worker = try WorkerProcess(database: database, ["--concurrency", "2", "--drain", "6", "--starts-file", starts])
        do {
            try await eventually(timeout: 45, "three jobs claimed, two started") {
                let started = ((try? String(contentsOfFile: starts, encoding: .utf8)) ?? "").split(separator: "\n").count
                return try scalar(session, "SELECT count(*) FROM tg_jobs WHERE attempt >= 1") == 3 && started >= 2
            }
        } catch {
            Issue.record("\(error); running: \(worker.process.isRunning); worker log: \(worker.log.suffix(3_000))")
            return
        }
        let began = monotonicSeconds()
        worker.signal(SIGTERM)
        let status = await worker.exitStatus(within: 15)
        let took = monotonicSeconds() - began
        #expect(status == 0, "log: \(worker.log.suffix(2_000))")
        #expect(took < 12)
        let states: String = try scalar(session, "SELECT string_agg(state::text || ':' || attempt, ',' ORDER BY priority) FROM tg_jobs")
        // The short job finished within the deadline; the long one was released at the deadline and
        // the third (released at once if still waiting, else at the deadline) too, both with their
        // attempt given back.
        #expect(states == "completed:1,available:0,available:0")
        let rows: Int = try scalar(session, "SELECT count(*) FROM tg_workers")
        #expect(rows == 0)
    }
}
