import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Postgres
import ServiceKit
import TestSupport
import TierGuardStore

/// A feedback API on 127.0.0.1 (port 0) over a fresh migrated database, and a real HTTP client.
/// Tokens: `tok-all` (every scope), `tok-surveys` (surveys:write only).
final class FeedbackHarness: Sendable {
    let database: TestDatabase
    let connection: PostgresConnection
    let pool: FeedbackPool
    let server: HTTPServer
    let port: Int
    let session: URLSession

    static func hash(_ token: String) -> String { FeedbackDigest.sha256Hex(token) }

    init(customers: [String] = ["C1"]) async throws {
        database = try await offPool { try TestDatabase.create(migrations: TierGuardSchema.migrations(), prefix: "fb") }
        connection = try await database.connection()
        pool = try await FeedbackPool(configuration: database.configuration(), size: 2)
        let tokens = try FeedbackTokens(parsing: """
            crm:surveys:write+complaints:write+visits:write+alerts:feedback+preferences:write:\(Self.hash("tok-all"))
            survey-vendor:surveys:write:\(Self.hash("tok-surveys"))
            """)
        let logger = Logger(service: "feedback-tests", threshold: .warning)
        server = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0), logger: logger)
        FeedbackAPI(pool: pool, tokens: tokens, logger: logger).register(on: server)
        port = try server.start()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 30
        session = URLSession(configuration: configuration)
        for customer in customers { try await addCustomer(customer) }
    }

    func shutdown() async {
        server.stop()
        await pool.close()
        await connection.close()
    }

    func addCustomer(_ id: String, optOut: Bool = false) async throws {
        try await connection.execute(PostgresQuery("""
            INSERT INTO customers (customer_id, name, id_type, risk_level, risk_assessed_on, rm_id, branch_id,
                                   opened_on, status, marketing_opt_out, content_hash, first_batch_id, last_batch_id)
            VALUES ($1, '测试', 'other', 'C3', '2026-01-01', 'RM1', 'B1', '2020-01-01', 'active', $2, '\\x00', 0, 0)
            """).binding(id, optOut))
    }

    struct Answer {
        let status: Int
        let contentType: String
        let json: [String: Any]
        let text: String

        /// The `errors[].field` names of a problem.
        var fields: [String] { (json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String } }
        var problemType: String { (json["type"] as? String ?? "").components(separatedBy: "/").last ?? "" }
    }

    func post(_ path: String, _ body: String, token: String? = "tok-all", contentType: String = "application/json") async throws -> Answer {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return Answer(status: http.statusCode, contentType: http.value(forHTTPHeaderField: "Content-Type") ?? "", json: json,
                      text: String(decoding: data, as: UTF8.self))
    }

    func count(_ sql: String, _ binds: [String] = []) async throws -> Int {
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql).binding(binds.map(\.postgresBind))) {
            try $0.decode(Int64.self, at: 0)
        }
        return Int(rows[0])
    }

    func string(_ sql: String, _ binds: [String] = []) async throws -> String? {
        try await connection.query(PostgresQuery(unsafeSQL: sql).binding(binds.map(\.postgresBind))) {
            try $0.decode(String?.self, at: 0)
        }.first ?? nil
    }

    /// Runs several statements (test setup).
    func execute(_ sql: String) async throws {
        try await connection.withSession { session in try session.executeScript(unsafeSQL: sql) }
    }
}
