import Foundation
import Postgres

/// A WeCom application message (`/cgi-bin/message/send`) to one RM's `wecom_userid`, markdown.
///
/// The `access_token` (valid `expires_in`, 7,200 s) is cached in `wecom_tokens`, shared by replicas,
/// and refreshed by exactly one of them: the refresh runs under `SELECT … FOR UPDATE` on the app's
/// row, starts 300 s before expiry, and a replica that waited on the lock re-reads the fresh token
/// instead of fetching again. Errcodes 40014/42001 (token invalid/expired) force one refresh and one
/// resend; 45009 retries; other errcodes fail.
public struct WeComAppChannel: NotificationChannel {
    public let kind = ChannelKind.wecomApp
    public let baseURL: String
    public let corpId: String
    public let corpSecret: String
    public let agentId: Int
    public let client: NotifyHTTPClient
    public static let refreshMarginSeconds = 300

    public init(baseURL: String = "https://qyapi.weixin.qq.com", corpId: String, corpSecret: String, agentId: Int,
                client: NotifyHTTPClient) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.corpId = corpId
        self.corpSecret = corpSecret
        self.agentId = agentId
        self.client = client
    }

    var app: String { "\(corpId):\(agentId)" }

    static let ensureRow = PostgresQuery(
        "INSERT INTO wecom_tokens (app) VALUES ($1) ON CONFLICT DO NOTHING", name: "WeComAppChannel.ensureRow")
    static let lockRow = PostgresQuery("""
        SELECT access_token, expires_at > clock_timestamp() + make_interval(secs => $2) AS fresh
        FROM wecom_tokens WHERE app = $1 FOR UPDATE
        """, name: "WeComAppChannel.lockRow")
    static let readFresh = PostgresQuery("""
        SELECT access_token FROM wecom_tokens
        WHERE app = $1 AND access_token IS NOT NULL AND expires_at > clock_timestamp() + make_interval(secs => $2)
        """, name: "WeComAppChannel.readFresh")
    static let store = PostgresQuery("""
        UPDATE wecom_tokens SET access_token = $2, expires_at = clock_timestamp() + make_interval(secs => $3),
               refreshed_at = clock_timestamp() WHERE app = $1
        """, name: "WeComAppChannel.store")

    /// The cached token, refreshed under the row lock when it is within 300 s of expiry (or `force`).
    public func accessToken(session: PostgresSession, force: Bool = false) throws -> String {
        if !force {
            let rows = try session.query(Self.readFresh.binding(app, Self.refreshMarginSeconds))
            if rows.count > 0 { return try rows[0].decode(String.self, at: 0) }
        }
        _ = try session.execute(Self.ensureRow.binding(app))
        return try session.withTransaction { tx in
            let row = try tx.query(Self.lockRow.binding(app, Self.refreshMarginSeconds))[0]
            if !force, try row.decode(Bool.self, at: 1), let token = try row.decode(String?.self, at: 0) { return token }
            let url = "\(baseURL)/cgi-bin/gettoken?corpid=\(Self.escape(corpId))&corpsecret=\(Self.escape(corpSecret))"
            let reply = client.send(method: "GET", url: url, headers: [], body: nil)
            guard case .response(200, let body) = reply else {
                if case .transportError(let reason) = reply { throw NotifyConfigurationError(message: "WeCom gettoken: \(reason)") }
                throw NotifyConfigurationError(message: "WeCom gettoken did not answer 200: \(reply)")
            }
            struct Reply: Decodable { var errcode: Int?; var access_token: String?; var expires_in: Int? }
            guard let reply = try? JSONDecoder().decode(Reply.self, from: Data(body)), reply.errcode ?? 0 == 0,
                  let token = reply.access_token else {
                throw NotifyConfigurationError(message: "WeCom gettoken refused: errcode \(WeComReply.errcode(body) ?? -1)")
            }
            _ = try tx.execute(Self.store.binding(app, token, reply.expires_in ?? 7200))
            return token
        }
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    public func send(_ message: OutgoingMessage, session: PostgresSession) -> [DeliveryAttempt] {
        struct Markdown: Encodable { var content: String }
        struct Payload: Encodable {
            var touser: String
            var msgtype = "markdown"
            var agentid: Int
            var markdown: Markdown
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var attempts: [DeliveryAttempt] = []
        for part in NotifyText.split(message.text, maxBytes: 2048) {
            guard let body = try? [UInt8](encoder.encode(Payload(touser: message.target, agentid: agentId,
                                                                  markdown: Markdown(content: part)))) else { break }
            var attempt = DeliveryAttempt(outcome: .retry, excerpt: "not sent")
            for force in [false, true] {
                let token: String
                do { token = try accessToken(session: session, force: force) } catch {
                    attempt = DeliveryAttempt(outcome: .retry, excerpt: "\(error)")
                    break
                }
                let started = monotonicSeconds()
                let reply = client.send(method: "POST", url: "\(baseURL)/cgi-bin/message/send?access_token=\(Self.escape(token))",
                                        headers: [("Content-Type", "application/json")], body: body)
                attempt = WeComReply.classify(reply, durationMs: Int((monotonicSeconds() - started) * 1000))
                guard let code = attempt.errcode, WeComReply.tokenErrcodes.contains(code) else { break }
            }
            attempts.append(attempt)
            if attempt.outcome != .delivered { break }
        }
        return attempts
    }
}
