import Foundation
import Postgres
import TestSupport
import Testing

/// Three `tierguard-scorer` processes share one queue (issue 9): every scoring job is completed once,
/// on its first attempt, and the work is spread over the replicas, in batches (`ScoreCustomerJob`).
@Suite struct ScorerReplicaTests {
    @Test func threeScorerProcessesShareOneQueueAndRunNoJobTwice() async throws {
        let db = try TestDatabase.create()
        let dir = NSTemporaryDirectory() + "scorer-replicas-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = ["DATABASE_URL": db.url]

        let generate = try ServiceProcess.run(
            "tierguardctl", ["generate", "--customers", "300", "--days", "90", "--seed", "7", "--out", dir], environment: env)
        #expect(generate.status == 0, "generate: \(generate.stderr)")
        let load = try ServiceProcess.run("tierguard-ingest", ["load", dir + "/feed.ndjson"], environment: env, timeout: 120)
        #expect(load.status == 0 || load.status == 65, "load: \(load.stderr)")

        let setup = try db.session()
        defer { setup.close() }
        let jobs = try setup.query("SELECT count(*) FROM tg_jobs WHERE queue = 'scorer' AND kind = 'score_customer'")[0]
            .decode(Int.self, at: 0)
        #expect(jobs > 250, "one coalesced scoring job per loaded customer")

        let replicas = try (0..<3).map { _ in
            try ServiceProcess("tierguard-scorer", ["run"], environment: env.merging([
                // Batches of 40, so ~300 jobs are shared (a replica claims as many jobs as a batch holds).
                "TIERGUARD_HTTP_PORT": "0", "TIERGUARD_SCORER_CONCURRENCY": "2", "TIERGUARD_SCORER_BATCH": "40"]) { $1 })
        }
        defer { for replica in replicas where replica.process.isRunning { replica.signal(SIGKILL) } }

        try waitUntil(timeout: 120, interval: 0.2, "the scoring jobs to drain") {
            let s = try db.session()
            defer { s.close() }
            return try s.query("""
                SELECT count(*) FROM tg_jobs WHERE queue = 'scorer' AND kind = 'score_customer'
                   AND state <> 'completed'
                """)[0].decode(Int.self, at: 0) == 0
        }
        for replica in replicas { replica.signal(SIGTERM) }
        for replica in replicas {
            let deadline = Date().addingTimeInterval(30)
            while replica.process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!replica.process.isRunning)
            #expect(replica.process.terminationStatus == 0, "stderr: \(replica.standardError.suffix(2000))")
        }

        let check = try db.session()
        defer { check.close() }
        let row = try check.query("""
            SELECT count(*), count(*) FILTER (WHERE attempt = 1), count(DISTINCT attempted_by),
                   (SELECT count(*) FROM customer_scores),
                   (SELECT count(DISTINCT customer_id) FROM customer_scores)
            FROM tg_jobs WHERE queue = 'scorer' AND kind = 'score_customer'
            """)[0]
        let completed = try row.decode(Int.self, at: 0)
        #expect(completed == jobs)
        #expect(try row.decode(Int.self, at: 1) == jobs, "every job ran once, on its first attempt")
        #expect(try row.decode(Int.self, at: 2) >= 2, "the work was shared by the replicas")
        // Batched: the jobs of one batch complete in one transaction and share its now().
        #expect(try check.query("""
            SELECT count(DISTINCT finished_at) FROM tg_jobs WHERE queue = 'scorer' AND kind = 'score_customer'
            """)[0].decode(Int.self, at: 0) < jobs / 4)
        // Every customer was scored. The scorer also enqueues a whole-book rescore when it starts, which
        // may score some customers once more, so there are at least as many score rows as jobs.
        #expect(try row.decode(Int.self, at: 3) >= jobs)
        #expect(try row.decode(Int.self, at: 4) == jobs)
    }
}
