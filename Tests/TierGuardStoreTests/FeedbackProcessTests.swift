import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Postgres
import TestSupport
import Testing
import TierGuardStore

/// The `tierguard-feedback` executable itself: serve, answer over HTTP, drain on SIGTERM with exit 0;
/// `load FILE` exits 65 when a line was rejected and keeps it in ingest_rejects.
struct ProcessExited: Error { var stderr: String }

@Suite struct FeedbackProcessTests {
    static func environment(_ db: TestDatabase, port: Int) -> [String: String] {
        ["DATABASE_URL": db.url, "TIERGUARD_HTTP_PORT": String(port), "TIERGUARD_LOG_LEVEL": "warning",
         "TIERGUARD_FEEDBACK_TOKENS": "crm:surveys:write:\(FeedbackDigest.sha256Hex("tok-process"))"]
    }

    @Test func serveAnswersThenExitsZeroOnSIGTERM() async throws {
        let db = try await offPool { try TestDatabase.create(migrations: TierGuardSchema.migrations(), prefix: "fbp") }
        let port = LocalCluster.freePort()
        let process = try ServiceProcess("tierguard-feedback", ["serve"], environment: Self.environment(db, port: port))
        let session = URLSession(configuration: .ephemeral)
        try await waitUntil(timeout: 30, interval: 0.1, "readyz") {
            guard process.process.isRunning else { throw ProcessExited(stderr: process.standardError) }
            let answer = try? await session.data(from: URL(string: "http://127.0.0.1:\(port)/readyz")!)
            return (answer?.1 as? HTTPURLResponse)?.statusCode == 200
        }
        let connection = try await db.connection()
        try await connection.withSession { s in
            try s.executeScript(unsafeSQL: """
                INSERT INTO customers (customer_id, name, id_type, risk_level, risk_assessed_on, rm_id, branch_id,
                                       opened_on, status, marketing_opt_out, content_hash, first_batch_id, last_batch_id)
                VALUES ('C1', '测试', 'other', 'C3', '2026-01-01', 'RM1', 'B1', '2020-01-01', 'active', false, '\\x00', 0, 0)
                """)
        }
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/surveys")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer tok-process", forHTTPHeaderField: "Authorization")
        request.httpBody = Data(FeedbackAPITests.survey.utf8)
        let (_, response) = try await session.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 201)
        process.signal(SIGTERM)
        try await waitUntil(timeout: 20, interval: 0.05, "exit") { () async throws -> Bool in !process.process.isRunning }
        #expect(process.process.terminationStatus == 0, "\(process.standardError)")
        let stored = try await connection.query(PostgresQuery("SELECT count(*) FROM feedback_surveys")) { try $0.decode(Int64.self, at: 0) }
        #expect(stored == [1])
        await connection.close()
    }

    @Test func loadExitsSixtyFiveWhenALineIsRejected() async throws {
        let db = try await offPool { try TestDatabase.create(migrations: TierGuardSchema.migrations(), prefix: "fbp") }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("feedback-\(UUID().uuidString).ndjson")
        try Data("""
            {"type":"survey","survey_id":"S1","customer_id":"C7","kind":"csat","score":5,"touchpoint":"branch","answered_at":"2026-03-02T10:00:00Z"}
            {"type":"survey","survey_id":"S2","customer_id":"C7","kind":"csat","score":0,"touchpoint":"branch","answered_at":"2026-03-02T10:00:00Z"}
            """.utf8).write(to: file)
        let process = try ServiceProcess("tierguard-feedback", ["load", file.path], environment: Self.environment(db, port: 0))
        try await waitUntil(timeout: 30, interval: 0.05, "exit") { () async throws -> Bool in !process.process.isRunning }
        #expect(process.process.terminationStatus == 65, "\(process.standardError)")
        #expect(process.standardOutput.contains("0 applied, 1 pending, 0 replayed, 1 rejected"))
        let connection = try await db.connection()
        let rejects = try await connection.query(PostgresQuery("SELECT line_number, field FROM ingest_rejects")) {
            "\(try $0.decode(Int.self, at: 0)):\(try $0.decode(String.self, at: 1))"
        }
        #expect(rejects == ["2:score"])
        await connection.close()
    }
}
