import Foundation
import Testing
@testable import JobQueue

@Suite struct CronScheduleTests {
    /// 2026-01-01 00:00:00 UTC is 08:00 in Asia/Shanghai (UTC+8, no daylight saving).
    let newYear = Date(timeIntervalSince1970: 1_767_225_600)

    func utc(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)!
    }

    @Test func dailyAtHalfPastEightInShanghaiIsHalfPastMidnightUTC() throws {
        let cron = try CronSchedule("30 8 * * *")
        #expect(cron.next(after: newYear) == utc("2026-01-01T00:30:00Z"))
        #expect(cron.next(after: utc("2026-01-01T00:30:00Z")) == utc("2026-01-02T00:30:00Z"))
        #expect(cron.next(after: utc("2026-01-01T00:29:59Z")) == utc("2026-01-01T00:30:00Z"))
    }

    @Test func theSameExpressionInUTCFiresEightHoursLater() throws {
        let cron = try CronSchedule("30 8 * * *", timeZone: "UTC")
        #expect(cron.next(after: newYear) == utc("2026-01-01T08:30:00Z"))
    }

    @Test func stepsRangesAndListsCombine() throws {
        // Weekdays 09:00-17:45 every 15 minutes; 2026-01-03 is a Saturday.
        let cron = try CronSchedule("*/15 9-17 * * 1-5", timeZone: "UTC")
        #expect(cron.next(after: utc("2026-01-02T17:45:00Z")) == utc("2026-01-05T09:00:00Z"))
        #expect(cron.next(after: utc("2026-01-05T09:00:00Z")) == utc("2026-01-05T09:15:00Z"))
        let list = try CronSchedule("0,30 * * * *", timeZone: "UTC")
        #expect(list.next(after: utc("2026-01-05T09:00:00Z")) == utc("2026-01-05T09:30:00Z"))
        let offset = try CronSchedule("5/20 * * * *", timeZone: "UTC")
        #expect(offset.minutes == [5, 25, 45])
        let rangeStep = try CronSchedule("10-40/15 * * * *", timeZone: "UTC")
        #expect(rangeStep.minutes == [10, 25, 40])
    }

    @Test func dayOfMonthAndDayOfWeekBothRestrictedMeansEither() throws {
        // The 13th, or any Friday. After 2026-02-01: Friday 2026-02-06 comes before the 13th.
        let cron = try CronSchedule("0 0 13 * 5", timeZone: "UTC")
        #expect(cron.next(after: utc("2026-02-01T00:00:00Z")) == utc("2026-02-06T00:00:00Z"))
        #expect(cron.next(after: utc("2026-02-06T00:00:00Z")) == utc("2026-02-13T00:00:00Z"))
        // Sunday as 7 equals Sunday as 0; 2026-01-04 is a Sunday.
        #expect(try CronSchedule("0 12 * * 7", timeZone: "UTC").next(after: newYear) == utc("2026-01-04T12:00:00Z"))
    }

    @Test func monthsAndLeapDaysAreFound() throws {
        let cron = try CronSchedule("0 0 29 2 *", timeZone: "UTC")
        #expect(cron.next(after: newYear) == utc("2028-02-29T00:00:00Z"))
        #expect(try CronSchedule("0 0 30 2 *", timeZone: "UTC").next(after: newYear) == nil)
    }

    @Test func latestTickAtOrBeforeNowIsTheOnlyOneBackfilled() throws {
        let cron = try CronSchedule("30 8 * * *")
        // 2026-01-03 10:00 Shanghai: the latest tick is that morning's 08:30, not the two before.
        #expect(cron.latest(atOrBefore: utc("2026-01-03T02:00:00Z")) == utc("2026-01-03T00:30:00Z"))
        #expect(cron.latest(atOrBefore: utc("2026-01-03T00:30:00Z")) == utc("2026-01-03T00:30:00Z"))
        let everyMinute = try CronSchedule("* * * * *")
        #expect(everyMinute.latest(atOrBefore: utc("2026-01-03T02:00:59Z")) == utc("2026-01-03T02:00:00Z"))
        let yearly = try CronSchedule("0 0 1 1 *", timeZone: "UTC")
        #expect(yearly.latest(atOrBefore: utc("2026-07-01T00:00:00Z")) == utc("2026-01-01T00:00:00Z"))
    }

    @Test(arguments: ["60 * * * *", "* * *", "5-1 * * * *", "*/0 * * * *", "* 24 * * *", "* * 0 * *",
                      "* * * 13 *", "* * * * 8", "a * * * *", "1,,2 * * * *", "* * * * * *"])
    func malformedExpressionsAreRefused(_ expression: String) {
        #expect(throws: CronSchedule.ParseError.self) { try CronSchedule(expression) }
    }

    @Test func anUnknownTimeZoneIsRefused() {
        #expect(throws: CronSchedule.ParseError.self) { try CronSchedule("* * * * *", timeZone: "Mars/Olympus") }
    }

    @Test func backoffFollowsTheDocumentedFormula() {
        #expect(JobBackoff.standardDelay(attempt: 1, jitter: 1.0) == 16)
        #expect(JobBackoff.standardDelay(attempt: 2, jitter: 1.0) == 31)
        #expect(JobBackoff.standardDelay(attempt: 3, jitter: 1.2) == 96 * 1.2)
        #expect(JobBackoff.standardDelay(attempt: 10, jitter: 1.0) == 10_015)
        #expect(JobBackoff.standardDelay(attempt: 17, jitter: 1.0) == 83_536)
        #expect(JobBackoff.standardDelay(attempt: 18, jitter: 1.0) == 86_400)
        #expect(JobBackoff.standardDelay(attempt: 40, jitter: 1.2) == 86_400 * 1.2)
        for attempt in 1...25 {
            let delay = JobBackoff.standard.delay(attempt)
            let base = min(pow(Double(attempt), 4) + 15, 86_400)
            #expect(delay >= base && delay <= base * 1.2)
        }
    }
}
