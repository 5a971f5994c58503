import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Postgres
import Synchronization
import ServiceKit
import TierGuardStore

/// `tierguard-bench feedback`: survey POSTs per second through the real feedback API (in-process
/// ServiceKit listener, `FeedbackAPI`, `FeedbackPool`) from a raw-socket load generator over
/// keep-alive connections, each answered only after its transaction (survey, receipt, coalesced
/// score job) committed with the server's durability settings. Prints throughput, p50/p99 and the
/// settings; target ≥ 2,000/s with p99 < 50 ms (issue 8). Creates database tierguard_feedback_bench.
enum FeedbackBench {
    static let spec = CommandSpec(
        name: "feedback", abstract: "Survey POSTs per second with durable commits over keep-alive connections",
        options: [
            BenchArguments.databaseURLOption,
            .init("requests", valueName: "n", help: "survey POSTs in the timed round (default 20000)"),
            .init("clients", valueName: "n", help: "keep-alive client connections (default 32)"),
            .init("pool", valueName: "n", help: "database connections of the service (default 8)"),
            .init("customers", valueName: "n", help: "customers the surveys are about (default 2000)"),
        ])

    static func say(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

    static func run(_ arguments: [String]) async throws -> Int32 {
        guard let parsed = try BenchArguments.parse(arguments, spec: spec) else { return 0 }
        let baseURL = try BenchArguments.databaseURL(parsed)
        let requests = try parsed.int("requests") ?? 20_000, clients = try parsed.int("clients") ?? 32
        let poolSize = try parsed.int("pool") ?? 8, customers = try parsed.int("customers") ?? 2_000

        let admin = try await PostgresConnection(configuration: PostgresConfiguration(baseURL, applicationName: "tierguard-bench"))
        let settings = try await admin.withSession { s -> String in
            try s.execute(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS tierguard_feedback_bench WITH (FORCE)"))
            try s.execute(PostgresQuery(unsafeSQL: "CREATE DATABASE tierguard_feedback_bench"))
            let row = try s.query(PostgresQuery(
                "SELECT current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit')"))[0]
            return "PostgreSQL \(try row.decode(String.self, at: 0)), fsync=\(try row.decode(String.self, at: 1)), "
                + "synchronous_commit=\(try row.decode(String.self, at: 2))"
        }
        await admin.close()
        var components = URLComponents(string: baseURL)!
        components.path = "/tierguard_feedback_bench"
        let configuration = PostgresConfiguration(components.string!, applicationName: "tierguard-feedback")
        let setup = try await PostgresConnection(configuration: configuration)
        try await setup.withSession { s in
            try TierGuardSchema.migrate(s)
            try s.execute(PostgresQuery("""
                INSERT INTO customers (customer_id, name, id_type, risk_level, risk_assessed_on, rm_id, branch_id,
                                       opened_on, status, marketing_opt_out, content_hash, first_batch_id, last_batch_id)
                SELECT 'C' || i, '测试', 'other', 'C3', '2026-01-01', 'RM1', 'B1', '2020-01-01', 'active', false, '\\x00', 0, 0
                FROM generate_series(1, $1::int) i
                """).binding(customers))
        }
        say("tierguard-bench feedback: \(settings), \(ProcessInfo.processInfo.activeProcessorCount) cores")
        say("settings: requests=\(requests) clients=\(clients) pool=\(poolSize) customers=\(customers) (keep-alive, one survey per POST)")

        let pool = try await FeedbackPool(configuration: configuration, size: poolSize)
        let tokens = FeedbackTokens(entries: [.init(name: "bench", scopes: ["surveys:write"], hash: FeedbackDigest.sha256(Array("tok-bench".utf8)))])
        let logger = Logger(service: "tierguard-feedback", threshold: .warning)
        let server = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0), logger: logger)
        FeedbackAPI(pool: pool, tokens: tokens, logger: logger).register(on: server)
        let port = try server.start()

        // A short warm-up round (cold plans, connection set-up), then the timed round.
        for (label, count, prefix) in [("warm-up", min(2_000, requests), "W"), ("timed", requests, "S")] {
            let result = try await load(port: port, requests: count, clients: clients, customers: customers, prefix: prefix)
            let sorted = result.latencies.sorted()
            func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000 }
            say(String(format: "%@: %d POSTs in %.2f s = %.0f/s; latency p50 %.2f ms, p99 %.2f ms, max %.2f ms; non-201: %d",
                       label, count, result.seconds, Double(count) / result.seconds, percentile(0.5), percentile(0.99),
                       (sorted.last ?? 0) * 1000, result.failures))
        }
        server.stop()
        await pool.close()
        let stored = try await setup.query(PostgresQuery("SELECT count(*) FROM feedback_surveys")) { try $0.decode(Int64.self, at: 0) }[0]
        say("stored surveys: \(stored) (expected \(requests + min(2_000, requests)))")
        await setup.close()
        return stored == Int64(requests + min(2_000, requests)) ? 0 : 1
    }

    struct LoadResult: Sendable { var seconds: Double; var latencies: [Double]; var failures: Int }

    /// Runs `clients` threads, each with one keep-alive socket, sending its share of the requests one
    /// after another (a blocking load generator on its own threads, off the cooperative pool).
    static func load(port: Int, requests: Int, clients: Int, customers: Int, prefix: String) async throws -> LoadResult {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                let group = DispatchGroup()
                let collected = Collector()
                let start = monotonicSeconds()
                for client in 0..<clients {
                    group.enter()
                    let t = Thread {
                        defer { group.leave() }
                        var mine: [Double] = []
                        var bad = 0
                        do {
                            let socket = try ClientSocket(port: port)
                            defer { socket.close() }
                            var i = client
                            while i < requests {
                                let body = "{\"survey_id\":\"\(prefix)\(i)\",\"customer_id\":\"C\(i % customers + 1)\",\"kind\":\"nps\","
                                    + "\"score\":\(i % 11),\"touchpoint\":\"mobile\",\"answered_at\":\"2026-03-02T10:00:00+08:00\"}"
                                let request = "POST /v1/surveys HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer tok-bench\r\n"
                                    + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
                                let began = monotonicSeconds()
                                let status = try socket.roundTrip(Array(request.utf8))
                                mine.append(monotonicSeconds() - began)
                                if status != 201 { bad += 1 }
                                i += clients
                            }
                        } catch {
                            collected.state.withLock { $0.error = $0.error ?? String(describing: error) }
                        }
                        collected.state.withLock { $0.latencies += mine; $0.failures += bad }
                    }
                    t.start()
                }
                group.wait()
                let seconds = monotonicSeconds() - start
                let result = collected.state.withLock { $0 }
                if let error = result.error { continuation.resume(throwing: SocketError(description: error)) } else {
                    continuation.resume(returning: LoadResult(seconds: seconds, latencies: result.latencies, failures: result.failures))
                }
            }
            thread.start()
        }
    }

    /// What the client threads hand back.
    final class Collector: Sendable {
        struct State: Sendable { var latencies: [Double] = []; var failures = 0; var error: String? }
        let state = Mutex(State())
    }

    struct SocketError: Error, CustomStringConvertible { var description: String }

    /// A blocking HTTP/1.1 client socket for the load generator: send a request, read one response.
    final class ClientSocket {
        let fd: Int32
        var buffer: [UInt8] = []

        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw SocketError(description: "socket failed") }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard result == 0 else { Glibc.close(fd); throw SocketError(description: "connect failed: errno \(errno)") }
        }

        func close() { Glibc.close(fd) }

        /// Sends `request` and returns the status of its response, leaving any extra bytes buffered.
        func roundTrip(_ request: [UInt8]) throws -> Int {
            var sent = 0
            while sent < request.count {
                let n = request.withUnsafeBytes { send(fd, $0.baseAddress! + sent, request.count - sent, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw SocketError(description: "send failed: errno \(errno)") }
                sent += n
            }
            let marker: [UInt8] = [13, 10, 13, 10]
            var headerEnd: Int?
            while true {
                if buffer.count >= 4 {
                    for i in 0...(buffer.count - 4) where buffer[i] == 13 && Array(buffer[i..<(i + 4)]) == marker { headerEnd = i + 4; break }
                }
                if headerEnd != nil { break }
                try fill()
            }
            let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self)
            let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
            var length = 0
            for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
            }
            while buffer.count < headerEnd! + length { try fill() }
            buffer.removeFirst(headerEnd! + length)
            return status
        }

        private func fill() throws {
            var chunk = [UInt8](repeating: 0, count: 16 * 1024)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            guard n > 0 else { throw SocketError(description: "connection closed by the server") }
            buffer += chunk[0..<n]
        }
    }
}
