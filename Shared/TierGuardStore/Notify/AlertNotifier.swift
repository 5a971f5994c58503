import Foundation
import JobQueue
import PersonalDataVault
import Postgres
import TierGuardModel

/// What `AlertNotifier` did with one alert or notification. A retryable failure is not a case: it
/// is thrown (`NotifyRetryableError`) so the job queue's backoff schedules the next attempt.
public enum NotifyOutcome: Sendable, Equatable {
    case sent(notificationId: Int64)
    case suppressed(SuppressReason, notificationId: Int64?)
    /// Non-urgent: held (`waiting`) for the RM's next 08:30 digest.
    case waitingForDigest(notificationId: Int64)
    /// Refused for good (4xx, WeCom errcode); `failed` with the reason.
    case failed(notificationId: Int64, reason: String)
    /// Not now: quiet hours (urgent waits for 08:00) or the robot's minute is full.
    case snooze(seconds: Double)
    /// The notification had already ended (sent / suppressed / failed): nothing done twice.
    case alreadyDone(notificationId: Int64, state: String)
    /// The alert does not exist (or its customer is not in the archive).
    case unknownAlert
}

/// A delivery that may succeed later (5xx, 429, timeout, connection refused, WeCom 45009): the job
/// handler throws it, the queue retries with backoff; the notification stays `pending` under the
/// same id, so the resend carries the same idempotency key.
public struct NotifyRetryableError: Error, CustomStringConvertible, Sendable {
    public var notificationId: Int64
    public var reason: String
    public var description: String { "notification \(notificationId): will retry: \(reason)" }
}

/// Turns alerts into notifications and hands them to a channel: routing, urgency, quiet hours, the
/// never-twice bookkeeping and the delivery record.
///
/// Never twice: the notification row (UNIQUE subject × RM × channel) is committed as `pending`
/// BEFORE the send, and its id is the idempotency key. A notifier killed after sending but before
/// recording leaves the row pending; the job's retry sends again under the same id, which a
/// deduping receiver (webhook) drops. Nothing lost: every path ends in sent / suppressed / failed,
/// or throws so the queue tries again.
///
/// Threading: every method blocks its caller on libpq and HTTP; call it from a thread that owns
/// `session` (a `PostgresConnection.withSession` body), never directly from the cooperative pool.
public struct AlertNotifier: Sendable {
    public let configuration: NotifierConfiguration
    /// Queue for follow-up jobs (digests, retries, escalations).
    public static let queue = "notifier"

    public init(configuration: NotifierConfiguration) {
        self.configuration = configuration
    }

    static let insertNotification = PostgresQuery("""
        INSERT INTO notifications (subject, alert_id, customer_id, rm_id, channel, target, urgent, state, reason,
                                   money_at_risk_fen, title, body)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT (subject, rm_id, channel) DO UPDATE SET updated_at = notifications.updated_at
        RETURNING id, state, (xmax = 0) AS inserted
        """, name: "AlertNotifier.insertNotification")
    static let recentDuplicate = PostgresQuery("""
        SELECT n.id FROM notifications n JOIN alerts a ON a.id = n.alert_id
        WHERE n.rm_id = $1 AND n.channel = $2 AND n.customer_id = $3 AND a.kind = $4 AND n.alert_id <> $5
          AND n.state = 'sent' AND n.sent_at > $6::timestamptz - interval '24 hours'
        LIMIT 1
        """, name: "AlertNotifier.recentDuplicate")

    /// Delivers alert `alertId` as of `now` (the database clock in production, injected in tests).
    /// `finalAttempt`: the queue's last try — a retryable failure is then recorded `failed` instead of thrown.
    public func deliver(session: PostgresSession, alertId: Int64, now: Date, finalAttempt: Bool = false) throws -> NotifyOutcome {
        guard let facts = try AlertFacts.load(session, ids: [alertId])[alertId] else { return .unknownAlert }
        let subject = "alert:\(alertId)"
        let policy = configuration.policy
        let routed: (rmId: String, route: NotifyRoute)
        switch configuration.resolve(facts) {
        case .failure(let reason):
            let row = try session.query(Self.insertNotification.binding(
                subject, alertId, facts.customerId, facts.rmId, configuration.defaultChannel.rawValue, "",
                false, "suppressed", reason.rawValue, facts.moneyAtRisk.value, nil as String?, nil as String?))[0]
            return .suppressed(reason, notificationId: try row.decode(Int64.self, at: 0))
        case .success(let value):
            routed = value
        }
        let urgent = policy.isUrgent(facts)
        if facts.kind == "downgrade_risk" { try RMTaskPlanner.followUp(session, facts: facts, urgent: urgent) }
        if !urgent {
            let row = try session.query(Self.insertNotification.binding(
                subject, alertId, facts.customerId, routed.rmId, routed.route.channel.rawValue, routed.route.target,
                false, "waiting", nil as String?, facts.moneyAtRisk.value, nil as String?, nil as String?))[0]
            let id = try row.decode(Int64.self, at: 0)
            let state = try row.decode(String.self, at: 1)
            return state == "waiting" ? .waitingForDigest(notificationId: id) : .alreadyDone(notificationId: id, state: state)
        }
        if policy.isQuiet(now), !policy.urgentIgnoresQuietHours {
            return .snooze(seconds: policy.secondsUntilQuietEnds(now))
        }
        let message = NotifyMessage.urgent(facts)
        let duplicate = try session.query(Self.recentDuplicate.binding(
            routed.rmId, routed.route.channel.rawValue, facts.customerId, facts.kind, alertId, now)).count > 0
        let row = try session.query(Self.insertNotification.binding(
            subject, alertId, facts.customerId, routed.rmId, routed.route.channel.rawValue, routed.route.target,
            true, duplicate ? "suppressed" : "pending", duplicate ? SuppressReason.duplicate.rawValue : nil,
            facts.moneyAtRisk.value, message.title, message.text))[0]
        let id = try row.decode(Int64.self, at: 0)
        let state = try row.decode(String.self, at: 1)
        if state == "suppressed", duplicate { return .suppressed(.duplicate, notificationId: id) }
        guard state == "pending" else { return .alreadyDone(notificationId: id, state: state) }
        return try send(session: session, notificationId: id, finalAttempt: finalAttempt)
    }

    static let loadNotification = PostgresQuery("""
        SELECT id, subject, alert_id, rm_id, channel, target, state, coalesce(title, ''), coalesce(body, ''), customer_id
        FROM notifications WHERE id = $1
        """, name: "AlertNotifier.loadNotification")
    static let recordDelivery = PostgresQuery("""
        INSERT INTO notification_deliveries (notification_id, channel, http_status, errcode, outcome, excerpt, duration_ms)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """, name: "AlertNotifier.recordDelivery")
    static let finish = PostgresQuery("""
        UPDATE notifications SET state = $2, reason = $3, attempts = attempts + $4,
               sent_at = CASE WHEN $2 = 'sent' THEN clock_timestamp() ELSE sent_at END, updated_at = clock_timestamp()
        WHERE id = $1 AND state = 'pending'
        """, name: "AlertNotifier.finish")
    static let suppressPending = PostgresQuery("""
        UPDATE notifications SET state = 'suppressed', reason = $2, updated_at = clock_timestamp()
        WHERE id = $1 AND state = 'pending'
        """, name: "AlertNotifier.suppressPending")
    static let finishDigestItems = PostgresQuery("""
        UPDATE notifications SET state = 'sent', sent_at = clock_timestamp(), updated_at = clock_timestamp()
        WHERE digest_id = $1 AND state = 'waiting'
        """, name: "AlertNotifier.finishDigestItems")

    /// Sends pending notification `notificationId` (an urgent alert, a digest, an escalation, an SMS)
    /// on its channel and records the attempt(s) and the end state in one transaction after the send.
    /// `now` (the database clock in production) is needed for an SMS only: an SMS due in quiet hours is
    /// `suppressed` (quiet_hours) rather than sent late; its phone number is fetched at this moment
    /// through `tierguard_birthday_sms_recipient` (`BirthdayGreetings.recipient`), never stored.
    public func send(session: PostgresSession, notificationId: Int64, finalAttempt: Bool = false,
                     now: Date? = nil) throws -> NotifyOutcome {
        let rows = try session.query(Self.loadNotification.binding(notificationId))
        guard rows.count == 1 else { return .unknownAlert }
        let row = rows[0]
        let state = try row.decode(String.self, at: 6)
        guard state == "pending" else { return .alreadyDone(notificationId: notificationId, state: state) }
        let channelName = try row.decode(String.self, at: 4)
        guard let kind = ChannelKind(rawValue: channelName), let channel = configuration.channels[kind] else {
            _ = try session.execute(Self.finish.binding(notificationId, "failed", "channel \(channelName) not configured", 0))
            return .failed(notificationId: notificationId, reason: "channel \(channelName) not configured")
        }
        let subject = try row.decode(String.self, at: 1)
        var target = try row.decode(String.self, at: 5)
        if kind == .sms {
            let customerId = try row.decode(String?.self, at: 9) ?? ""
            var reason: SuppressReason? = nil
            if let now, configuration.policy.isQuiet(now) {
                reason = .quietHours
            } else {
                let phone: String?
                do {
                    phone = try BirthdayGreetings.recipient(session, customerId: customerId, vault: configuration.vault)
                } catch let error as PersonalDataVaultError {
                    _ = try session.execute(Self.finish.binding(notificationId, "failed", "phone: \(error)", 0))
                    return .failed(notificationId: notificationId, reason: "phone: \(error)")
                }
                if let phone {
                    target = phone
                } else {
                    reason = try BirthdayGreetings.refusal(session, customerId: customerId)
                }
            }
            if let reason {
                _ = try session.execute(Self.suppressPending.binding(notificationId, reason.rawValue))
                return .suppressed(reason, notificationId: notificationId)
            }
        }
        let message = OutgoingMessage(
            notificationId: notificationId,
            type: subject.hasPrefix("digest:") ? "tierguard.digest" : subject.hasPrefix("escalation:") ? "tierguard.escalation"
                : subject.hasPrefix("sms:") ? configuration.birthdayTemplate : "tierguard.alert",
            title: try row.decode(String.self, at: 7), text: try row.decode(String.self, at: 8),
            target: target, alertId: try row.decode(Int64?.self, at: 2),
            rmId: try row.decode(String.self, at: 3),
            templateParams: subject.hasPrefix("sms:") ? ["name": try row.decode(String.self, at: 7)] : [:])
        let attempts = channel.send(message, session: session)
        let last = attempts.last ?? DeliveryAttempt(outcome: .retry, excerpt: "no attempt")
        return try session.withTransaction { tx -> NotifyOutcome in
            for attempt in attempts {
                _ = try tx.execute(Self.recordDelivery.binding(notificationId, kind.rawValue, attempt.httpStatus, attempt.errcode,
                                                               attempt.outcome.rawValue, attempt.excerpt, attempt.durationMs))
            }
            switch last.outcome {
            case .delivered:
                _ = try tx.execute(Self.finish.binding(notificationId, "sent", nil as String?, 1))
                _ = try tx.execute(Self.finishDigestItems.binding(notificationId))
                return .sent(notificationId: notificationId)
            case .failed:
                _ = try tx.execute(Self.finish.binding(notificationId, "failed", last.excerpt, 1))
                return .failed(notificationId: notificationId, reason: last.excerpt)
            case .rateLimited:
                return .snooze(seconds: last.retryAfterSeconds ?? 1)
            case .retry:
                if finalAttempt {
                    _ = try tx.execute(Self.finish.binding(notificationId, "failed", "retries exhausted: \(last.excerpt)", 1))
                    return .failed(notificationId: notificationId, reason: "retries exhausted: \(last.excerpt)")
                }
                _ = try tx.execute(PostgresQuery("UPDATE notifications SET attempts = attempts + 1, updated_at = clock_timestamp() WHERE id = $1",
                                                 name: "AlertNotifier.countAttempt").binding(notificationId))
                return .snooze(seconds: -1)
            }
        }.throwingRetry(notificationId: notificationId, reason: last.excerpt)
    }

    /// Sends the birthday greeting SMS to `customerId` now, if the policy allows it: never to a customer
    /// who opted out of marketing or refused automated profiling (suppressed opt_out), never in quiet hours
    /// (suppressed quiet_hours), once a year (subject `sms:<customer>:birthday_greeting:<year>`, the year of
    /// `now` in Asia/Shanghai). The scheduled path is `BirthdayGreetings.schedule` (each morning, every
    /// customer whose birthday is today); this is the one-customer path. The notifier role cannot read
    /// `customers.phone_enc`: the sealed number comes from `tierguard_birthday_sms_recipient` at send time, which
    /// also refuses (no_route) a customer below 金卡 or whose birthday is not today.
    public func sendBirthdaySMS(session: PostgresSession, customerId: String, now: Date) throws -> NotifyOutcome {
        guard let candidate = try BirthdayGreetings.candidate(session, customerId: customerId) else { return .unknownAlert }
        let reason: SuppressReason? = candidate.refused ? .optOut : configuration.policy.isQuiet(now) ? .quietHours : nil
        let (id, state) = try BirthdayGreetings.insert(session, candidate, year: NotifyPolicy.shanghaiDay(now).year, reason: reason)
        if let reason, state == "suppressed" { return .suppressed(reason, notificationId: id) }
        guard state == "pending" else { return .alreadyDone(notificationId: id, state: state) }
        return try send(session: session, notificationId: id, now: now)
    }
}

extension NotifyOutcome {
    /// `.snooze(-1)` is the internal marker for "retry": thrown instead of returned.
    func throwingRetry(notificationId: Int64, reason: String) throws -> NotifyOutcome {
        if case .snooze(let seconds) = self, seconds < 0 {
            throw NotifyRetryableError(notificationId: notificationId, reason: reason)
        }
        return self
    }
}
