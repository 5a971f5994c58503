import Foundation
import Postgres

/// A JSON POST to the bank's CRM / RM workbench, signed per the Standard Webhooks spec.
///
/// Headers: `webhook-id` = the notification id (the idempotency key: a resend after a crash carries
/// the same id, so the receiver can drop it), `webhook-timestamp` = Unix seconds, `webhook-signature`
/// = `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per active secret separated by spaces (two
/// secrets during a rotation). Secrets are written `whsec_<base64 key>`.
/// 2xx = delivered; 429, 5xx and transport errors = retry; any other status = failed.
public struct WebhookChannel: NotificationChannel {
    public let kind = ChannelKind.webhook
    public let secrets: [[UInt8]]
    public let client: NotifyHTTPClient
    /// Seconds since 1970, injectable for tests of the signed timestamp.
    public let timestamp: @Sendable () -> Int

    /// Throws when a secret is not `whsec_<base64>`.
    public init(secrets: [String], client: NotifyHTTPClient,
                timestamp: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }) throws {
        self.secrets = try secrets.map(Self.decodeSecret)
        self.client = client
        self.timestamp = timestamp
    }

    public static func decodeSecret(_ secret: String) throws -> [UInt8] {
        guard secret.hasPrefix("whsec_"), let data = Data(base64Encoded: String(secret.dropFirst(6))), !data.isEmpty else {
            throw NotifyConfigurationError(message: "a webhook secret must be whsec_<base64>")
        }
        return [UInt8](data)
    }

    /// The `webhook-signature` header value for `id`, `timestamp`, `body`.
    public static func signature(id: String, timestamp: Int, body: [UInt8], secrets: [[UInt8]]) -> String {
        let signed = Array("\(id).\(timestamp).".utf8) + body
        return secrets.map { "v1," + Data(HMAC.sha256(key: $0, message: signed)).base64EncodedString() }
            .joined(separator: " ")
    }

    /// The JSON body: `{"type":…,"timestamp":…,"data":{…}}` (keys sorted, so equal input → equal bytes).
    public static func body(for message: OutgoingMessage, timestamp: Int) -> [UInt8] {
        struct Payload: Encodable {
            var type: String
            var timestamp: String
            var data: DataPart
        }
        struct DataPart: Encodable {
            var notification_id: Int64
            var alert_id: Int64?
            var rm_id: String
            var title: String
            var text: String
        }
        let formatter = ISO8601DateFormatter()
        let payload = Payload(type: message.type,
                              timestamp: formatter.string(from: Date(timeIntervalSince1970: Double(timestamp))),
                              data: DataPart(notification_id: message.notificationId, alert_id: message.alertId,
                                             rm_id: message.rmId, title: message.title, text: message.text))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? [UInt8](encoder.encode(payload))) ?? []
    }

    public func send(_ message: OutgoingMessage, session: PostgresSession) -> [DeliveryAttempt] {
        [sendWithoutSession(message)]
    }
}

/// Maps an HTTP reply to an attempt: 2xx delivered; 408, 425, 429 and 5xx retry; other 4xx failed;
/// transport errors (timeout, connection refused) retry.
public enum HTTPOutcome {
    public static func classify(_ reply: NotifyHTTPClient.Reply, durationMs: Int) -> DeliveryAttempt {
        switch reply {
        case .transportError(let reason):
            return DeliveryAttempt(outcome: .retry, excerpt: reason, durationMs: durationMs)
        case .response(let status, let body):
            let text = String(decoding: body.prefix(400), as: UTF8.self)
            let outcome: DeliveryOutcome
            switch status {
            case 200..<300: outcome = .delivered
            case 408, 425, 429, 500...599: outcome = .retry
            default: outcome = .failed
            }
            return DeliveryAttempt(outcome: outcome, httpStatus: status,
                                   excerpt: outcome == .failed ? "HTTP \(status): \(text)" : text, durationMs: durationMs)
        }
    }
}

/// A notifier setting that cannot work (bad secret, malformed route).
public struct NotifyConfigurationError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { "notifier configuration: \(message)" }
}

extension WebhookChannel {
    /// The webhook needs no database: the same signed POST without a session (benchmarks, probes).
    public func sendWithoutSession(_ message: OutgoingMessage) -> DeliveryAttempt {
        let now = timestamp()
        let id = "msg_\(message.notificationId)"
        let body = Self.body(for: message, timestamp: now)
        let started = monotonicSeconds()
        let reply = client.send(method: "POST", url: message.target, headers: [
            ("Content-Type", "application/json"), ("webhook-id", id), ("webhook-timestamp", String(now)),
            ("webhook-signature", Self.signature(id: id, timestamp: now, body: body, secrets: secrets)),
        ], body: body)
        return HTTPOutcome.classify(reply, durationMs: Int((monotonicSeconds() - started) * 1000))
    }
}
