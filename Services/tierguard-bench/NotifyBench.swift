import Foundation
import Postgres
import ServiceKit
import Synchronization
import TierGuardModel
import TierGuardStore

/// `tierguard-bench notify [--seconds 3] [--threads 8] [--rms 500] [--alerts 50000]` with
/// `DATABASE_URL` naming an EMPTY throwaway database (it migrates and fills it).
///
/// Prints two figures (issue 7's speed targets):
/// 1. webhook deliveries per second from one process to a local receiver (ServiceKit's HTTPServer on
///    127.0.0.1 answering 200), each a signed Standard Webhooks POST over keep-alive connections
///    (`--threads` senders sharing one `NotifyHTTPClient`); target ≥ 1,000/s;
/// 2. the morning digest for `--rms` RMs over `--alerts` waiting alerts: `DigestBuilder.build`
///    (rank, budget 15, render, insert digests, enqueue their sends) in one transaction; target < 10 s.
enum NotifyBench {
    static func run(_ arguments: [String]) async throws -> Int32 {
        func option(_ name: String, _ fallback: Int) -> Int {
            guard let index = arguments.firstIndex(of: "--\(name)"), index + 1 < arguments.count else { return fallback }
            return Int(arguments[index + 1]) ?? fallback
        }
        let seconds = option("seconds", 3), threads = option("threads", 8)
        let rms = option("rms", 500), alerts = option("alerts", 50_000)
        guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"] else {
            FileHandle.standardError.write(Data("DATABASE_URL (an empty throwaway database) is required\n".utf8))
            return 64
        }
        let rate = try webhookRate(seconds: Double(seconds), threads: threads)
        print(String(format: "webhook: %.0f deliveries/s (%d threads, %d s, keep-alive, signed, local receiver)", rate, threads, seconds))
        let digest = try await onOwnThread { try digestSeconds(url: url, rms: rms, alerts: alerts) }
        print(String(format: "digest: %d RMs x %d waiting alerts built and enqueued in %.2f s (%d digests, %d included)",
                     rms, alerts, digest.seconds, digest.summary.digests, digest.summary.included))
        return 0
    }

    static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    static func webhookRate(seconds: Double, threads: Int) throws -> Double {
        let server = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0),
                                logger: Logger(service: "bench-receiver", threshold: .critical, sink: .memory()))
        server.route("POST", "/hook") { _ in .text("{\"ok\":true}", contentType: "application/json") }
        let port = try server.start()
        defer { server.stop() }
        let client = NotifyHTTPClient(timeoutSeconds: 10, maxConnectionsPerHost: threads)
        let channel = try WebhookChannel(secrets: ["whsec_" + Data("bench-secret-0123456789".utf8).base64EncodedString()], client: client)
        let delivered = Mutex(0)
        let deadline = monotonicSeconds() + seconds
        let group = DispatchGroup()
        let started = monotonicSeconds()
        for worker in 0..<threads {
            group.enter()
            Thread {
                defer { group.leave() }
                var n: Int64 = 0
                var count = 0
                while monotonicSeconds() < deadline {
                    n += 1
                    let message = OutgoingMessage(notificationId: Int64(worker) * 1_000_000_000 + n, type: "tierguard.alert",
                                                  title: "【紧急】降级预警", text: "预计 2026-12-01 由钻石降为白金", target: "http://127.0.0.1:\(port)/hook",
                                                  alertId: n, rmId: "RM\(worker)")
                    if channel.sendWithoutSession(message).outcome == .delivered { count += 1 }
                }
                delivered.withLock { $0 += count }
            }.start()
        }
        group.wait()
        return Double(delivered.withLock { $0 }) / (monotonicSeconds() - started)
    }

    static func digestSeconds(url: String, rms: Int, alerts: Int) throws -> (seconds: Double, summary: DigestBuilder.Summary) {
        let session = try PostgresSession(configuration: PostgresConfiguration(url, applicationName: "tierguard-bench"))
        defer { session.close() }
        try TierGuardSchema.migrate(session)
        try session.executeScript(unsafeSQL: """
            INSERT INTO relationship_managers (rm_id, name, branch_id, active, content_hash, first_batch_id, last_batch_id)
            SELECT 'RM' || r, '经理' || r, 'B' || (r % 20), true, '\\x00', 1, 1 FROM generate_series(1, \(rms)) r;
            INSERT INTO customers (customer_id, name, id_type, risk_level, risk_assessed_on, rm_id, branch_id, opened_on,
                                   status, marketing_opt_out, content_hash, first_batch_id, last_batch_id)
            SELECT 'C' || c, '张三' || c, 'passport', 'C3', '2026-01-01', 'RM' || (1 + c % \(rms)), 'B1', '2020-01-01',
                   'active', false, '\\x00', 1, 1 FROM generate_series(1, \(alerts)) c;
            INSERT INTO alerts (customer_id, kind, dedup_key, business_date, first_business_date, cooldown_until, payload)
            SELECT 'C' || c, 'inactive', 'inactive:C' || c, '2026-11-26', '2026-11-26', '2026-12-03',
                   jsonb_build_object('kind', 'inactive', 'tier', 'gold', 'aum_fen', 10000000 + c * 1000, 'retention_probability', (c % 97) / 100.0,
                                      'signal', jsonb_build_object('code', 'inactive', 'reason', '60 天无主动交易'))
            FROM generate_series(1, \(alerts)) c;
            INSERT INTO notifications (subject, alert_id, customer_id, rm_id, channel, target, state, money_at_risk_fen)
            SELECT 'alert:' || a.id, a.id, a.customer_id, c.rm_id, 'webhook', 'http://127.0.0.1:9/hook', 'waiting',
                   ((a.payload->>'aum_fen')::bigint * (a.payload->>'retention_probability')::numeric)::bigint
            FROM alerts a JOIN customers c ON c.customer_id = a.customer_id;
            ANALYZE notifications; ANALYZE alerts; ANALYZE customers;
            """)
        let started = monotonicSeconds()
        let summary = try DigestBuilder.build(session: session, policy: NotifyPolicy(), day: CalendarDate(year: 2026, month: 11, day: 27)!)
        return (monotonicSeconds() - started, summary)
    }
}
