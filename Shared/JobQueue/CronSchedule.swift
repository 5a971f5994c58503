import Foundation

/// A 5-field cron schedule, `minute hour day-of-month month day-of-week`, read in a time zone.
///
/// Each field takes `*`, a number, a range `a-b`, a step `*/n` or `a-b/n` or `a/n` (from a to the
/// field's end), and comma lists of these. Ranges: minute 0–59, hour 0–23, day 1–31, month 1–12,
/// weekday 0–7 (0 and 7 are Sunday). No names (`MON`, `JAN`) and no `@daily` shorthands.
/// As in Vixie cron, when both day-of-month and day-of-week are restricted (neither is `*`), a
/// day matches if EITHER matches; otherwise both must.
///
/// Pure: no clock and no I/O. The caller passes the database's now (`JobSQL.databaseNow`).
public struct CronSchedule: Sendable, Hashable, CustomStringConvertible {
    public let expression: String
    public let timeZone: TimeZone
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    public struct ParseError: Error, CustomStringConvertible, Sendable, Equatable {
        public var expression: String
        public var reason: String
        public var description: String { "cron \"\(expression)\": \(reason)" }
    }

    /// Parses `expression` for `timeZone` (an IANA name; default Asia/Shanghai).
    public init(_ expression: String, timeZone: String = "Asia/Shanghai") throws(ParseError) {
        guard let zone = TimeZone(identifier: timeZone) else {
            throw ParseError(expression: expression, reason: "unknown time zone \(timeZone)")
        }
        let fields = expression.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw ParseError(expression: expression, reason: "expected 5 fields (minute hour day month weekday), got \(fields.count)")
        }
        self.expression = expression
        self.timeZone = zone
        minutes = try Self.field(fields[0], 0...59, "minute", expression)
        hours = try Self.field(fields[1], 0...23, "hour", expression)
        days = try Self.field(fields[2], 1...31, "day of month", expression)
        months = try Self.field(fields[3], 1...12, "month", expression)
        var weekdays = try Self.field(fields[4], 0...7, "day of week", expression)
        if weekdays.contains(7) { weekdays.remove(7); weekdays.insert(0) }
        self.weekdays = weekdays
        daysRestricted = fields[2] != "*"
        weekdaysRestricted = fields[4] != "*"
    }

    public var description: String { "\(expression) (\(timeZone.identifier))" }

    static func field(_ text: String, _ range: ClosedRange<Int>, _ name: String, _ expression: String) throws(ParseError) -> Set<Int> {
        func fail(_ reason: String) -> ParseError { ParseError(expression: expression, reason: "\(name) field \"\(text)\": \(reason)") }
        var values = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !part.isEmpty else { throw fail("empty list item") }
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw fail("more than one /") }
            var step = 1
            if pieces.count == 2 {
                guard let s = Int(pieces[1]), s >= 1 else { throw fail("step must be a positive number") }
                step = s
            }
            let base = pieces[0]
            var low: Int, high: Int
            if base == "*" {
                low = range.lowerBound; high = range.upperBound
            } else if let dash = base.firstIndex(of: "-") {
                guard let a = Int(base[..<dash]), let b = Int(base[base.index(after: dash)...]) else { throw fail("bad range") }
                low = a; high = b
                guard low <= high else { throw fail("range runs backwards") }
            } else {
                guard let a = Int(base) else { throw fail("not a number") }
                low = a; high = pieces.count == 2 ? range.upperBound : a
            }
            guard range.contains(low), range.contains(high) else {
                throw fail("out of range \(range.lowerBound)-\(range.upperBound)")
            }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return values
    }

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// Whether a calendar day matches the day-of-month / day-of-week rule.
    func dayMatches(day: Int, weekday: Int) -> Bool {
        let d = days.contains(day), w = weekdays.contains(weekday)
        if daysRestricted && weekdaysRestricted { return d || w }
        return d && w
    }

    /// The first fire time strictly after `date`, searching up to 5 years ahead (nil if none, e.g.
    /// `0 0 30 2 *`). Works on local wall-clock fields in the time zone: a local time skipped by a
    /// daylight-saving jump does not fire; Asia/Shanghai has none.
    public func next(after date: Date) -> Date? {
        let calendar = self.calendar
        // Start at the next whole minute.
        var components = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        guard var candidate = calendar.date(from: components) else { return nil }
        candidate = candidate.addingTimeInterval(60)
        let limit = date.addingTimeInterval(5 * 366 * 86_400)
        while candidate <= limit {
            components = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: candidate)
            let month = components.month!, day = components.day!, hour = components.hour!, minute = components.minute!
            let weekday = components.weekday! - 1  // Foundation: 1 = Sunday
            if !months.contains(month) {
                // First minute of the next month.
                guard let start = calendar.date(from: DateComponents(year: components.year, month: month, day: 1)),
                      let nextMonth = calendar.date(byAdding: .month, value: 1, to: start) else { return nil }
                candidate = nextMonth
                continue
            }
            if !dayMatches(day: day, weekday: weekday) {
                guard let start = calendar.date(from: DateComponents(year: components.year, month: month, day: day)),
                      let nextDay = calendar.date(byAdding: .day, value: 1, to: start) else { return nil }
                candidate = nextDay
                continue
            }
            if !hours.contains(hour) {
                guard let start = calendar.date(from: DateComponents(year: components.year, month: month, day: day, hour: hour)) else { return nil }
                candidate = start.addingTimeInterval(3_600)
                continue
            }
            if !minutes.contains(minute) {
                candidate = candidate.addingTimeInterval(60)
                continue
            }
            return candidate
        }
        return nil
    }

    /// The latest fire time at or before `date`, looking back at most `lookback` seconds (default
    /// 366 days); nil when none. Periodic jobs enqueue only this tick: missed earlier ticks are not
    /// backfilled.
    public func latest(atOrBefore date: Date, lookback: Double = 366 * 86_400) -> Date? {
        // Widen the window until it holds a tick, so a frequent schedule costs a few steps.
        for window: Double in [3_600, 86_400, 32 * 86_400, lookback] where window <= lookback {
            var cursor = date.addingTimeInterval(-window - 60)
            var found: Date?
            while let fire = next(after: cursor), fire <= date {
                found = fire
                cursor = fire
            }
            if let found { return found }
        }
        return nil
    }
}
