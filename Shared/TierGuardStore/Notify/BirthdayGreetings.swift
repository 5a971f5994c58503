import Foundation
import JobQueue
import PersonalDataVault
import Postgres
import TierGuardModel

/// The customer-facing birthday greeting SMS, scheduled each morning (job `birthday_sms`, periodic at
/// `TIERGUARD_NOTIFY_BIRTHDAY_CRON`, default 09:00 Asia/Shanghai — after quiet hours end at 08:00).
///
/// Rules, each stated once:
/// - Whose birthday: the Shanghai calendar day of `now` (the database clock), NOT the business date:
///   the greeting is about the customer's own day, and the business date lags the calendar by the
///   feed's delay (a weekend feed gap would greet on the wrong day). A 29 February birthday is greeted
///   on 28 February in other years.
/// - Who: active customers whose newest tier (latest `customer_scores` row) is 金卡 (gold) or above.
/// - Never: to a customer who opted out of marketing or refused automated profiling, by the stricter of
///   the feed and the recorded preference (`customer_effective_preferences`) — recorded `suppressed`
///   (opt_out), so the refusal is visible; never in quiet hours: a run in quiet hours snoozes until they
///   end, and a send that falls into them (a retry at 21:05) is `suppressed` (quiet_hours), not sent late.
/// - At most once per customer per year: the notification subject `sms:<customer>:birthday_greeting:<year>`
///   is UNIQUE (per RM and channel), so a second run the same day, or a second replica, creates nothing.
/// - The phone number is never selected by the notifier (its role has no SELECT on `customers.phone_enc`):
///   `send` asks `tierguard_birthday_sms_recipient(customer_id)` (migration 0008, SECURITY DEFINER), which
///   repeats every rule above in SQL, records the hand-out in `pii_access_audit` and returns the sealed
///   number (AES-256-GCM, `PersonalDataVault`), NULL otherwise; the notifier opens it with its vault (so a
///   notifier that sends SMS needs `TIERGUARD_PII_KEYS_FILE`/`TIERGUARD_PII_INDEX_KEY_FILE` in production)
///   and never stores the number (`notifications.target` is `customer:<id>`).
/// - Resend: an SMS gateway cannot dedupe (no idempotency key in the template API), so a notifier killed
///   between the gateway's answer and the commit sends that one greeting again on the job's retry.
public enum BirthdayGreetings {
    public static let smsKind = "birthday_greeting"

    public struct Candidate: Sendable, Equatable {
        public var customerId: String
        public var rmId: String
        public var maskedName: String
        /// Opted out of marketing, or refused automated profiling.
        public var refused: Bool
    }

    public struct Summary: Sendable, Equatable {
        /// Greetings handed to the queue (`send_notification` jobs).
        public var scheduled = 0
        /// Birthdays today that must not be greeted (opt-out / profiling refused), recorded suppressed.
        public var refused = 0
        /// Already created earlier this year (a second run).
        public var alreadyDone = 0
        /// Set when the run fell into quiet hours: nothing done, run again after this many seconds.
        public var snoozeSeconds: Double?
    }

    static let candidateColumns = """
        SELECT c.customer_id, c.rm_id, c.name, (p.marketing_opt_out OR p.automated_profiling_refused)
        FROM customers c JOIN customer_effective_preferences p ON p.customer_id = c.customer_id
        """
    static let birthdaysToday = PostgresQuery(unsafeSQL: candidateColumns + """

        WHERE c.status = 'active' AND c.birth_date IS NOT NULL
          AND (c.birth_date + make_interval(years => extract(year FROM $1::date)::int - extract(year FROM c.birth_date)::int))::date
              = $1::date
          AND (SELECT s.tier FROM customer_scores s WHERE s.customer_id = c.customer_id ORDER BY s.id DESC LIMIT 1)
              IN ('gold', 'platinum', 'diamond', 'private')
        ORDER BY c.customer_id
        """, name: "BirthdayGreetings.birthdaysToday")
    static let oneCandidate = PostgresQuery(unsafeSQL: candidateColumns + " WHERE c.customer_id = $1",
                                            name: "BirthdayGreetings.oneCandidate")
    static let recipientQuery = PostgresQuery("SELECT tierguard_birthday_sms_recipient($1)", name: "BirthdayGreetings.recipient")

    static func decode(_ row: PostgresRow) throws -> Candidate {
        Candidate(customerId: try row.decode(String.self, at: 0), rmId: try row.decode(String.self, at: 1),
                  maskedName: Masking.name(try row.decode(String.self, at: 2)), refused: try row.decode(Bool.self, at: 3))
    }

    /// One customer's greeting facts, or nil when the customer is not in the archive.
    public static func candidate(_ session: PostgresSession, customerId: String) throws -> Candidate? {
        let rows = try session.query(oneCandidate.binding(customerId))
        return rows.count == 0 ? nil : try decode(rows[0])
    }

    /// The phone number to greet `customerId` on, right now — nil unless every rule allows it. Throws
    /// `PersonalDataVaultError` (no plaintext in it) when the sealed number cannot be opened.
    public static func recipient(_ session: PostgresSession, customerId: String, vault: PersonalDataVault) throws -> String? {
        guard let sealed = try session.query(recipientQuery.binding(customerId))[0].decode(Data?.self, at: 0) else { return nil }
        let phone = try vault.open([UInt8](sealed), field: .phone)
        return phone.isEmpty ? nil : phone
    }

    /// Why `recipient` said no: opt_out when the customer refused, otherwise no_route (not active, below
    /// 金卡, not the birthday today, or no phone on file).
    static func refusal(_ session: PostgresSession, customerId: String) throws -> SuppressReason {
        try candidate(session, customerId: customerId)?.refused == true ? .optOut : .noRoute
    }

    /// Creates (once per year) the greeting's notification: `pending`, or `suppressed` with `reason`.
    /// Returns its id and state (an existing row's state when it was created before).
    static func insert(_ session: PostgresSession, _ candidate: Candidate, year: Int,
                       reason: SuppressReason?) throws -> (id: Int64, state: String) {
        let row = try session.query(AlertNotifier.insertNotification.binding(
            "sms:\(candidate.customerId):\(smsKind):\(year)", nil as Int64?, candidate.customerId, candidate.rmId,
            ChannelKind.sms.rawValue, "customer:\(candidate.customerId)", false,
            reason == nil ? "pending" : "suppressed", reason?.rawValue, 0, candidate.maskedName, "生日祝福"))[0]
        return (try row.decode(Int64.self, at: 0), try row.decode(String.self, at: 1))
    }

    /// The morning run at `now`: for every customer whose birthday is today (Shanghai), creates the
    /// year's greeting and enqueues its `send_notification` job, in one transaction. Does nothing when
    /// no SMS channel is configured; in quiet hours returns `snoozeSeconds` instead.
    public static func schedule(session: PostgresSession, configuration: NotifierConfiguration, now: Date) throws -> Summary {
        var summary = Summary()
        if configuration.policy.isQuiet(now) {
            summary.snoozeSeconds = configuration.policy.secondsUntilQuietEnds(now)
            return summary
        }
        guard configuration.channels[.sms] != nil else { return summary }
        let today = NotifyPolicy.shanghaiDay(now)
        return try session.withTransaction { tx in
            var jobs: [NewJob] = []
            for row in try tx.query(birthdaysToday.binding(today.description)) {
                let candidate = try decode(row)
                let (id, state) = try insert(tx, candidate, year: today.year, reason: candidate.refused ? .optOut : nil)
                if candidate.refused, state == "suppressed" {
                    summary.refused += 1
                } else if state == "pending", !candidate.refused {
                    summary.scheduled += 1
                    jobs.append(try NewJob(queue: AlertNotifier.queue, kind: NotifyJobs.sendNotification,
                                           args: NotifyJobs.NotificationArgs(notification_id: id), uniqueKey: "notification:\(id)"))
                } else {
                    summary.alreadyDone += 1
                }
            }
            if !jobs.isEmpty { _ = try JobEnqueuer.enqueue(tx, jobs) }
            return summary
        }
    }
}
