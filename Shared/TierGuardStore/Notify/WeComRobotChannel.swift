import Foundation
import Postgres

/// A WeCom group robot (`…/cgi-bin/webhook/send?key=…`): `{"msgtype":"markdown","markdown":{"content":…}}`.
///
/// Limits, each written once here:
/// - content at most 4,096 UTF-8 bytes: a longer message is split into parts (`NotifyText.split`),
///   never inside a character, and each part is one message;
/// - at most 20 messages per minute per robot, shared by every replica through `notify_rate_windows`
///   (`RobotRateLimiter`); when the minute is full the attempt is `rateLimited` and the job snoozes
///   until the next minute, it does not fail. All parts of one message take their slots together.
/// errcode 0 = delivered; 45009 (WeCom's own rate limit) and 5xx/transport errors = retry; any other
/// errcode = failed.
public struct WeComRobotChannel: NotificationChannel {
    public let kind = ChannelKind.wecomRobot
    public static let maxContentBytes = 4096
    public let client: NotifyHTTPClient
    public let limiter: RobotRateLimiter

    public init(client: NotifyHTTPClient, limiter: RobotRateLimiter = RobotRateLimiter()) {
        self.client = client
        self.limiter = limiter
    }

    public static func payload(content: String) -> [UInt8] {
        struct Markdown: Encodable { var content: String }
        struct Payload: Encodable { var msgtype = "markdown"; var markdown: Markdown }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? [UInt8](encoder.encode(Payload(markdown: Markdown(content: content))))) ?? []
    }

    public func send(_ message: OutgoingMessage, session: PostgresSession) -> [DeliveryAttempt] {
        let parts = NotifyText.split(message.text, maxBytes: Self.maxContentBytes)
        do {
            if let wait = try limiter.take(session: session, robot: message.target, slots: parts.count) {
                return [DeliveryAttempt(outcome: .rateLimited, excerpt: "robot limit of \(limiter.perMinute)/min reached",
                                        retryAfterSeconds: wait)]
            }
        } catch {
            return [DeliveryAttempt(outcome: .retry, excerpt: "rate limit check failed: \(error)")]
        }
        var attempts: [DeliveryAttempt] = []
        for part in parts {
            let started = monotonicSeconds()
            let reply = client.send(method: "POST", url: message.target,
                                    headers: [("Content-Type", "application/json")], body: Self.payload(content: part))
            let attempt = WeComReply.classify(reply, durationMs: Int((monotonicSeconds() - started) * 1000))
            attempts.append(attempt)
            if attempt.outcome != .delivered { break }
        }
        return attempts
    }
}

/// WeCom answers HTTP 200 with `{"errcode":N,"errmsg":…}`; the errcode decides.
public enum WeComReply {
    /// WeCom's "API frequency limit exceeded": retried with backoff.
    public static let rateLimitErrcode = 45009
    public static let tokenErrcodes: Set<Int> = [40014, 42001]

    public static func errcode(_ body: [UInt8]) -> Int? {
        struct Reply: Decodable { var errcode: Int? }
        return (try? JSONDecoder().decode(Reply.self, from: Data(body)))?.errcode
    }

    public static func classify(_ reply: NotifyHTTPClient.Reply, durationMs: Int) -> DeliveryAttempt {
        guard case .response(let status, let body) = reply, (200..<300).contains(status) else {
            return HTTPOutcome.classify(reply, durationMs: durationMs)
        }
        let text = String(decoding: body.prefix(400), as: UTF8.self)
        guard let code = errcode(body) else {
            return DeliveryAttempt(outcome: .retry, httpStatus: status, excerpt: "no errcode: \(text)", durationMs: durationMs)
        }
        let outcome: DeliveryOutcome = code == 0 ? .delivered : (code == rateLimitErrcode || code == -1 ? .retry : .failed)
        return DeliveryAttempt(outcome: outcome, httpStatus: status, errcode: code, excerpt: text, durationMs: durationMs)
    }
}

/// The per-robot, per-minute message budget in PostgreSQL, so N replicas together send at most
/// `perMinute` (20) messages a minute to one robot. Minutes are the database clock's
/// (`date_trunc('minute', clock_timestamp())`). The robot is named by a SHA-256 prefix of its URL
/// (the URL holds the robot's key, a secret).
public struct RobotRateLimiter: Sendable {
    public let perMinute: Int

    public init(perMinute: Int = 20) { self.perMinute = perMinute }

    static let takeSlots = PostgresQuery("""
        INSERT INTO notify_rate_windows AS w (robot, minute, sent)
        VALUES ($1, date_trunc('minute', clock_timestamp()), $2)
        ON CONFLICT (robot, minute) DO UPDATE SET sent = w.sent + EXCLUDED.sent
            WHERE w.sent + EXCLUDED.sent <= $3
        RETURNING sent, 60 - extract(epoch FROM clock_timestamp() - minute)::float8 AS left_s
        """, name: "RobotRateLimiter.takeSlots")
    static let secondsLeft = PostgresQuery(
        "SELECT 60 - extract(epoch FROM clock_timestamp() - date_trunc('minute', clock_timestamp()))::float8",
        name: "RobotRateLimiter.secondsLeft")

    /// Takes `slots` messages of this minute's budget: nil when taken, else seconds until the next minute.
    public func take(session: PostgresSession, robot: String, slots: Int) throws -> Double? {
        let key = String(Digest.sha256Hex(robot).prefix(16))
        let count = min(slots, perMinute)
        let rows = try session.query(Self.takeSlots.binding(key, count, perMinute))
        if rows.count == 1 { return nil }
        let left = try session.query(Self.secondsLeft)
        return max(0.05, try left[0].decode(Double.self, at: 0))
    }
}
