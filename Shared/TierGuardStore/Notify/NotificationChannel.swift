import Foundation
import Postgres

/// The channels a notification can go out on. Which RM uses which is configuration
/// (`NotifierConfiguration`).
///
/// Resending after a crash between "sent" and "recorded" (the notifier re-sends a `pending`
/// notification under the same id):
/// - `webhook` dedupes: the notification id travels as `webhook-id`, the Standard Webhooks
///   idempotency key, and the receiver drops a repeat.
/// - `wecom_robot`, `wecom_app`, `sms` and `email` cannot dedupe: WeCom, the SMS gateway and SMTP
///   have no idempotency key, so a crash in that window can show the RM the message twice (the
///   notification id is in the text so a reader can tell). The window is one HTTP call or one
///   SMTP DATA; nothing is ever lost.
public enum ChannelKind: String, Sendable, Codable, CaseIterable {
    case webhook, wecomRobot = "wecom_robot", wecomApp = "wecom_app", sms, email
}

/// What one channel hands over: the rendered Chinese message and where it goes.
public struct OutgoingMessage: Sendable {
    /// The notification id: the idempotency key (webhook-id) and shown in the text.
    public var notificationId: Int64
    /// `tierguard.alert`, `tierguard.digest`, `tierguard.escalation`, `tierguard.sms`.
    public var type: String
    /// First line / mail subject.
    public var title: String
    /// Markdown body (masked names only).
    public var text: String
    /// URL, WeCom userid, mail address or mobile number, per channel.
    public var target: String
    public var alertId: Int64?
    public var rmId: String
    /// SMS template parameters (the gateway fills its approved template with them).
    public var templateParams: [String: String]

    public init(notificationId: Int64, type: String, title: String, text: String, target: String,
                alertId: Int64? = nil, rmId: String, templateParams: [String: String] = [:]) {
        self.notificationId = notificationId
        self.type = type
        self.title = title
        self.text = text
        self.target = target
        self.alertId = alertId
        self.rmId = rmId
        self.templateParams = templateParams
    }
}

/// How one attempt ended, and what the notifier does next.
public enum DeliveryOutcome: String, Sendable, Equatable {
    /// Accepted: the notification becomes `sent`.
    case delivered
    /// Worth trying again (5xx, 429, timeout, connection refused, WeCom 45009): the job throws and
    /// the queue's backoff schedules the next attempt.
    case retry
    /// Will never succeed (another 4xx, another WeCom errcode): recorded `failed` with the reason.
    case failed
    /// The shared WeCom robot limit is full this minute: the job snoozes; the attempt does not count.
    case rateLimited = "rate_limited"
}

/// One recorded attempt (`notification_deliveries`).
public struct DeliveryAttempt: Sendable, Equatable {
    public var outcome: DeliveryOutcome
    public var httpStatus: Int?
    public var errcode: Int?
    /// Response excerpt, masked, at most 200 characters; for failures the reason.
    public var excerpt: String
    public var durationMs: Int
    /// For `rateLimited`: seconds until a slot frees.
    public var retryAfterSeconds: Double?

    public init(outcome: DeliveryOutcome, httpStatus: Int? = nil, errcode: Int? = nil, excerpt: String,
                durationMs: Int = 0, retryAfterSeconds: Double? = nil) {
        self.outcome = outcome
        self.httpStatus = httpStatus
        self.errcode = errcode
        self.excerpt = NotifyText.excerpt(excerpt)
        self.durationMs = durationMs
        self.retryAfterSeconds = retryAfterSeconds
    }
}

/// A channel adapter. `send` blocks the calling thread (a thread that owns `session`, never the
/// cooperative pool); `session` is not inside a transaction, so the adapter may take its own
/// (rate-limit slot, token lock). A split message returns one attempt per part, in order.
public protocol NotificationChannel: Sendable {
    var kind: ChannelKind { get }
    func send(_ message: OutgoingMessage, session: PostgresSession) -> [DeliveryAttempt]
}

/// Text helpers shared by the channels.
public enum NotifyText {
    /// At most 200 characters with phone/ID-like digit runs masked, for `notification_deliveries.excerpt`.
    public static func excerpt(_ text: String) -> String {
        var out = ""
        var digits = ""
        func flush() {
            if digits.count >= 7 { out += String(digits.prefix(3)) + String(repeating: "*", count: digits.count - 5) + String(digits.suffix(2)) } else { out += digits }
            digits = ""
        }
        for character in text.prefix(400) {
            if character.isASCII, character.isNumber { digits.append(character) } else { flush(); out.append(character) }
        }
        flush()
        return String(out.prefix(200))
    }

    /// Splits `text` into parts of at most `maxBytes` UTF-8 bytes, never inside a character: at the
    /// last line break of a part when one lies in its second half, else at the last whole character.
    public static func split(_ text: String, maxBytes: Int) -> [String] {
        precondition(maxBytes >= 4)
        var parts: [String] = []
        var current = ""
        var currentBytes = 0
        var lastBreak: String.Index? = nil
        for character in text {
            let size = character.utf8.count
            if currentBytes + size > maxBytes, !current.isEmpty {
                if let breakAt = lastBreak, current.utf8.distance(from: current.utf8.startIndex, to: breakAt) >= maxBytes / 2 {
                    let head = String(current[..<breakAt])
                    let tail = String(current[breakAt...])
                    parts.append(head)
                    current = tail
                } else {
                    parts.append(current)
                    current = ""
                }
                currentBytes = current.utf8.count
                lastBreak = nil
            }
            current.append(character)
            currentBytes += size
            if character == "\n" { lastBreak = current.endIndex }
        }
        if !current.isEmpty { parts.append(current) }
        return parts
    }
}
