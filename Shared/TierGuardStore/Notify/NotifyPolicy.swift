import Foundation
import Postgres
import TierGuardModel

/// The clock the notifier's time rules read: the database clock in production
/// (`DatabaseNotifyClock`), a fixed instant in tests.
public protocol NotifyClock: Sendable {
    func now(_ session: PostgresSession) throws -> Date
}

/// `SELECT clock_timestamp()`: every replica agrees on the time.
public struct DatabaseNotifyClock: NotifyClock {
    public init() {}
    public func now(_ session: PostgresSession) throws -> Date {
        try session.query(PostgresQuery("SELECT extract(epoch FROM clock_timestamp())::float8", name: "NotifyClock.now"))[0]
            .decode(Double.self, at: 0).asDate
    }
}

/// A fixed instant (tests, replays).
public struct FixedNotifyClock: NotifyClock {
    public var date: Date
    public init(_ date: Date) { self.date = date }
    public func now(_ session: PostgresSession) throws -> Date { date }
}

extension Double {
    var asDate: Date { Date(timeIntervalSince1970: self) }
}

/// When and how urgently an RM hears about an alert. Times are Asia/Shanghai (UTC+8 all year, no
/// daylight saving, so the offset is a constant). Each rule, with its default:
/// - urgent: the kind is in the policy's `urgentAlertKinds` (sudden_drop, outflow_to_competitor,
///   downgrade_risk) AND the customer's tier is 白金 or above; a downgrade_risk is urgent only when the
///   projected downgrade is within 7 days of the business date. Urgent alerts go out at once.
/// - everything else waits for the RM's one daily digest at 08:30, ranked by money at risk, at most
///   15 alerts (the daily budget); urgent alerts never count against the budget and are never cut.
/// - quiet hours 21:00–08:00: nothing non-urgent is sent; an urgent alert waits for 08:00 unless
///   `urgentIgnoresQuietHours`. SMS is never sent in quiet hours.
public struct NotifyPolicy: Sendable {
    public var urgentKinds: Set<String>
    public var urgentMinTier: Tier = .platinum
    public var urgentDowngradeWithinDays = 7
    public var quietStartMinute = 21 * 60
    public var quietEndMinute = 8 * 60
    public var urgentIgnoresQuietHours = false
    public var digestMinute = 8 * 60 + 30
    public var dailyBudget = 15
    public static let shanghaiOffsetSeconds = 8 * 3600

    public init(urgentKinds: [String] = ScoringPolicy.builtIn.urgentAlertKinds) {
        self.urgentKinds = Set(urgentKinds)
    }

    public func isUrgent(_ facts: AlertFacts) -> Bool {
        guard urgentKinds.contains(facts.kind), let tier = facts.tier, tier >= urgentMinTier else { return false }
        if facts.kind == "downgrade_risk" {
            guard let date = facts.downgradeDate else { return false }
            return facts.businessDate.days(until: date) <= urgentDowngradeWithinDays
        }
        return true
    }

    /// Minutes since local midnight in Asia/Shanghai.
    public static func shanghaiMinute(_ date: Date) -> Int {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down)) + shanghaiOffsetSeconds
        return ((seconds % 86_400) + 86_400) % 86_400 / 60
    }

    /// The local calendar day in Asia/Shanghai.
    public static func shanghaiDay(_ date: Date) -> CalendarDate {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down)) + shanghaiOffsetSeconds
        return CalendarDate(dayNumber: Int((Double(seconds) / 86_400).rounded(.down)) + CalendarDate.epochDayNumber)
    }

    public func isQuiet(_ date: Date) -> Bool {
        let minute = Self.shanghaiMinute(date)
        return quietStartMinute > quietEndMinute
            ? (minute >= quietStartMinute || minute < quietEndMinute)
            : (minute >= quietStartMinute && minute < quietEndMinute)
    }

    /// Seconds from `date` until quiet hours end (0 when not quiet).
    public func secondsUntilQuietEnds(_ date: Date) -> Double {
        guard isQuiet(date) else { return 0 }
        let minute = Self.shanghaiMinute(date)
        let seconds = Double(Int(date.timeIntervalSince1970.rounded(.down)) % 60)
            + (date.timeIntervalSince1970 - date.timeIntervalSince1970.rounded(.down))
        var minutesLeft = quietEndMinute - minute
        if minutesLeft <= 0 { minutesLeft += 24 * 60 }
        return Double(minutesLeft * 60) - seconds
    }

    /// The next digest instant at or after `date` (08:30 local).
    public func nextDigest(after date: Date) -> Date {
        let minute = Self.shanghaiMinute(date)
        let secondsIntoMinute = date.timeIntervalSince1970 - (date.timeIntervalSince1970 / 60).rounded(.down) * 60
        var minutes = digestMinute - minute
        if minutes < 0 || (minutes == 0 && secondsIntoMinute > 0) { minutes += 24 * 60 }
        return date.addingTimeInterval(Double(minutes * 60) - secondsIntoMinute)
    }
}

extension CalendarDate {
    /// `CalendarDate(dayNumber:)` of 1970-01-01.
    static var epochDayNumber: Int { CalendarDate(year: 1970, month: 1, day: 1)!.dayNumber }
}
