import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Postgres
import ServiceKit
import TestSupport
import Testing

/// Issue 9, "Watching it": a W3C traceparent on each job row, copied to the jobs it causes, so one
/// feed's path ingest → scorer → notifier can be followed. Real processes: `tierguard-ingest load`,
/// then `tierguard-scorer` working its queue.
@Suite struct MetricsTraceTests {
    /// C1 is platinum on business date 2025-03-02 with AUM(BD) 300,000.01 yuan against a week's high of
    /// 450,000 yuan (≤ 70%: sudden_drop) and a March month-to-date below the floor (downgrade_risk):
    /// the same data as the scorer's golden test, which opens exactly 2 alerts, so 2 notify_alert jobs.
    static let feed = [
        #"{"type":"customer","customer_id":"C1","name":"张三","id_type":"passport","id_number":"E1234567","risk_level":"C3","risk_assessed_on":"2025-01-01","rm_id":"RM1","branch_id":"B1","opened_on":"2024-11-01","status":"active"}"#,
        #"{"type":"account","account_id":"A1","customer_id":"C1","product":"demand_deposit","currency":"CNY","opened_on":"2024-01-01"}"#,
        #"{"type":"balance","account_id":"A1","as_of":"2024-12-01","balance":"600000.00"}"#,
        #"{"type":"balance","account_id":"A1","as_of":"2025-01-01","balance":"450000.00"}"#,
        #"{"type":"balance","account_id":"A1","as_of":"2025-03-02","balance":"300000.01"}"#,
        #"{"type":"transaction","txn_id":"T1","account_id":"A1","booked_at":"2025-03-01T10:00:00+08:00","amount":"1.00","category":"deposit","channel":"counter"}"#,
    ].joined(separator: "\n") + "\n"

    @Test func theNotifyJobsShareTheTraceOfTheScoreJobThatCausedThem() async throws {
        let db = try TestDatabase.create()
        let connection = try await db.connection()
        // The scorer first: its periodic rescore_book (the latest cron tick, enqueued at start) runs on an
        // empty archive, so every alert below comes from the feed's score_customer job.
        let port = LocalCluster.freePort()
        let scorer = try ServiceProcess("tierguard-scorer", [], environment: [
            "DATABASE_URL": db.url, "TIERGUARD_HTTP_PORT": String(port), "TIERGUARD_HTTP_HOST": "127.0.0.1"])
        defer { if scorer.process.isRunning { scorer.signal(SIGKILL) } }
        try await waitUntil(timeout: 20, interval: 0.1, "the start-up rescore_book completed") {
            // Until the scorer's migrations ran, tg_jobs does not exist yet.
            (try? await connection.query(PostgresQuery(
                "SELECT count(*) FROM tg_jobs WHERE kind = 'rescore_book' AND state = 'completed'")) { try $0.decode(Int.self, at: 0) }) == [1]
        }

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("trace-\(UUID().uuidString).ndjson")
        try Data(Self.feed.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let ingest = try await Task.detached {
            try ServiceProcess.run("tierguard-ingest", ["load", file.path], environment: ["DATABASE_URL": db.url])
        }.value
        #expect(ingest.status == 0, "stdout: \(ingest.stdout) stderr: \(ingest.stderr)")

        let scoreJobs = try await connection.query(PostgresQuery(
            "SELECT traceparent FROM tg_jobs WHERE kind = 'score_customer' AND args->>'customer_id' = 'C1'")) {
            try $0.decode(String?.self, at: 0)
        }
        #expect(scoreJobs.count == 1)
        let scoreTrace = try #require(scoreJobs.first.flatMap { $0 }.flatMap(TraceContext.init(traceparent:)))
        // The ingest log line of the feed names the same trace.
        #expect(ingest.stderr.contains("\"trace_id\":\"\(scoreTrace.traceID)\""), "stderr: \(ingest.stderr)")

        var notify: [String?] = []
        do {
            try await waitUntil(timeout: 20, interval: 0.1, "score_customer completed and its notify_alert jobs") {
                let done = try await connection.query(PostgresQuery(
                    "SELECT count(*) FROM tg_jobs WHERE kind = 'score_customer' AND state = 'completed'")) { try $0.decode(Int.self, at: 0) }
                guard done == [1] else { return false }
                notify = try await connection.query(PostgresQuery(
                    "SELECT traceparent FROM tg_jobs WHERE kind = 'notify_alert' ORDER BY id")) { try $0.decode(String?.self, at: 0) }
                return true
            }
        } catch {
            Issue.record("\(error); scorer stderr: \(scorer.standardError)")
            throw error
        }
        // The golden scorer test opens downgrade_risk and sudden_drop on these figures: at least those two.
        #expect(notify.count >= 2)
        for traceparent in notify {
            let trace = try #require(traceparent.flatMap(TraceContext.init(traceparent:)),
                                     "notify job traceparent \(String(describing: traceparent))")
            #expect(trace.traceID == scoreTrace.traceID)
            // A child span: same trace, its own parent id.
            #expect(trace.parentID != scoreTrace.parentID)
        }
        await connection.close()
        scorer.signal(SIGTERM)
        let status = try await Task.detached { try scorer.waitForExit(timeout: 30) }.value
        #expect(status == 0, "stderr: \(scorer.standardError)")
    }
}
