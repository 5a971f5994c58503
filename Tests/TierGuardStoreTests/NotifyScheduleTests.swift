import Foundation
import Postgres
import ServiceKit
import TestSupport
import Testing
import TierGuardModel
import TierGuardStore

@Suite struct NotifyScheduleTests {
    @Test func quietHoursAndDigestTimeFollowShanghaiTime() {
        let policy = NotifyPolicy()
        #expect(policy.isQuiet(NotifyFixture.shanghai(21, 0)))
        #expect(policy.isQuiet(NotifyFixture.shanghai(7, 59)))
        #expect(!policy.isQuiet(NotifyFixture.shanghai(8, 0)))
        #expect(!policy.isQuiet(NotifyFixture.shanghai(20, 59)))
        // 22:30 → 08:00 next day is 9.5 hours.
        #expect(policy.secondsUntilQuietEnds(NotifyFixture.shanghai(22, 30)) == 9.5 * 3600)
        #expect(policy.secondsUntilQuietEnds(NotifyFixture.shanghai(12, 0)) == 0)
        #expect(policy.nextDigest(after: NotifyFixture.shanghai(7, 0)) == NotifyFixture.shanghai(8, 30))
        #expect(policy.nextDigest(after: NotifyFixture.shanghai(8, 30)) == NotifyFixture.shanghai(8, 30))
        #expect(policy.nextDigest(after: NotifyFixture.shanghai(9, 0)) == NotifyFixture.shanghai(8, 30, day: 28))
        #expect(NotifyPolicy.shanghaiDay(NotifyFixture.shanghai(0, 30)) == CalendarDate(year: 2026, month: 11, day: 27))
    }

    @Test func urgencyNeedsAnUrgentKindPlatinumOrAboveAndADowngradeWithinSevenDays() async throws {
        let fixture = try await offPool { try NotifyFixture() }
        try fixture.rm("RM01")
        try fixture.customer("C001")
        let soon = try fixture.downgradeAlert("C001", bd: "2026-11-26", date: "2026-12-01")
        let late = try fixture.downgradeAlert("C001", bd: "2026-11-20", date: "2026-12-02", gap: 1, extra: 1)
        let gold = try fixture.signalAlert("C001", kind: "sudden_drop", tier: "gold")
        let inactive = try fixture.signalAlert("C001", kind: "inactive", tier: "private")
        let drop = try fixture.signalAlert("C001", kind: "sudden_drop", tier: "platinum")
        let facts = try AlertFacts.load(fixture.session, ids: [soon, late, gold, inactive, drop])
        let policy = NotifyPolicy()
        #expect(policy.isUrgent(try #require(facts[soon])))
        #expect(!policy.isUrgent(try #require(facts[late])))      // 11 days ahead
        #expect(!policy.isUrgent(try #require(facts[gold])))      // 金卡 is below 白金
        #expect(!policy.isUrgent(try #require(facts[inactive])))  // not an urgent kind
        #expect(policy.isUrgent(try #require(facts[drop])))
    }

    @Test func urgentAlertsInQuietHoursWaitForEightAndOthersWaitForTheDigest() async throws {
        let fixture = try await offPool { try NotifyFixture() }
        let receiver = try RecordingReceiver(.ok)
        try fixture.rm("RM01")
        try fixture.customer("C001")
        let urgent = try fixture.downgradeAlert("C001")
        let routine = try fixture.signalAlert("C001", kind: "inactive")
        let notifier = AlertNotifier(configuration: NotifierConfiguration(
            webhookURL: receiver.url, channels: [try WebhookChannel(secrets: NotifyWebhookTests.secrets, client: NotifyHTTPClient())]))
        #expect(try await fixture.deliver(notifier, urgent, NotifyFixture.shanghai(23, 0)) == .snooze(seconds: 9 * 3600))
        guard case .waitingForDigest = try await fixture.deliver(notifier, routine, NotifyFixture.shanghai(12, 0)) else {
            Issue.record("expected waiting"); return
        }
        #expect(receiver.requests.isEmpty)
        // The policy may let urgent alerts through at night.
        var configuration = notifier.configuration
        configuration.policy.urgentIgnoresQuietHours = true
        guard case .sent = try await fixture.deliver(AlertNotifier(configuration: configuration), urgent, NotifyFixture.shanghai(23, 0)) else { Issue.record("expected sent"); return }
        #expect(receiver.requests.count == 1)
    }

    @Test func theDigestRanksByMoneyAtRiskWithinTheDailyBudget() async throws {
        let fixture = try await offPool { try NotifyFixture() }
        let receiver = try RecordingReceiver(.ok)
        try fixture.rm("RM01")
        var configuration = NotifierConfiguration(
            webhookURL: receiver.url, channels: [try WebhookChannel(secrets: NotifyWebhookTests.secrets, client: NotifyHTTPClient())])
        configuration.policy.dailyBudget = 3
        let notifier = AlertNotifier(configuration: configuration)
        // Five customers; money at risk = AUM × risk: 100万×0.1=10万, 200万×0.5=100万, 300万×0.2=60万, 50万×0.9=45万, 80万×0.05=4万.
        let figures: [(Int64, Double)] = [(100_000_000, 0.1), (200_000_000, 0.5), (300_000_000, 0.2), (50_000_000, 0.9), (80_000_000, 0.05)]
        var alerts: [Int64] = []
        for (i, (aum, risk)) in figures.enumerated() {
            try fixture.customer("C00\(i)", name: "李四\(i)")
            alerts.append(try fixture.signalAlert("C00\(i)", kind: "inactive", aum: aum, risk: risk))
            _ = try await fixture.deliver(notifier, alerts[i], NotifyFixture.shanghai(15))
        }
        #expect(try NotifyQueries.waiting(fixture.session, budget: 3).map(\.beyondBudget) == [2])
        let summary = try DigestBuilder.build(session: fixture.session, policy: configuration.policy,
                                              day: NotifyPolicy.shanghaiDay(NotifyFixture.shanghai(8, 30, day: 28)))
        #expect(summary.digests == 1 && summary.included == 3 && summary.stillWaiting == 2)
        // A second build the same day adds nothing.
        #expect(try DigestBuilder.build(session: fixture.session, policy: configuration.policy,
                                        day: CalendarDate(year: 2026, month: 11, day: 28)!).digests == 0)
        let digestId = try #require(summary.digestIds.first)
        #expect(try await fixture.send(notifier, digestId) == .sent(notificationId: digestId))
        let first = try #require(receiver.requests.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(first.body)) as? [String: Any])
        let text = try #require((object["data"] as? [String: Any])?["text"] as? String)
        // Ranked 100万 (C001), 60万 (C002), 45万 (C003); the two smallest wait.
        let order = ["预警编号 \(alerts[1])", "预警编号 \(alerts[2])", "预警编号 \(alerts[3])"].map { text.range(of: $0)?.lowerBound }
        #expect(order.allSatisfy { $0 != nil })
        #expect(order[0]! < order[1]! && order[1]! < order[2]!)
        #expect(!text.contains("预警编号 \(alerts[0])") && !text.contains("预警编号 \(alerts[4])"))
        #expect(text.contains("另有 2 条预警"))
        #expect(text.contains("风险金额 ¥1,000,000.00"))
        #expect(try fixture.scalar("SELECT count(*) FROM notifications WHERE digest_id = $1 AND state = 'sent'", digestId, as: Int.self) == 3)
        #expect(try fixture.scalar("SELECT count(*) FROM tg_jobs WHERE kind = 'send_notification'", as: Int.self) == 1)
    }

    @Test func anUrgentTaskOpenForADayEscalatesToTheManagerOnce() async throws {
        let fixture = try await offPool { try NotifyFixture() }
        let receiver = try RecordingReceiver(.ok)
        try fixture.rm("MGR1")
        try fixture.rm("RM01", manager: "MGR1")
        try fixture.customer("C001")
        let alert = try fixture.downgradeAlert("C001")
        let configuration = NotifierConfiguration(
            webhookURL: receiver.url, channels: [try WebhookChannel(secrets: NotifyWebhookTests.secrets, client: NotifyHTTPClient())])
        _ = try await fixture.deliver(AlertNotifier(configuration: configuration), alert, NotifyFixture.shanghai(10))
        let created = try fixture.scalar("SELECT extract(epoch FROM created_at)::float8 FROM rm_tasks WHERE alert_id = $1", alert, as: Double.self)
        let early = try RMTaskPlanner.escalate(fixture.session, configuration: configuration, now: Date(timeIntervalSince1970: created + 23 * 3600))
        #expect(early.isEmpty)
        let due = try RMTaskPlanner.escalate(fixture.session, configuration: configuration, now: Date(timeIntervalSince1970: created + 25 * 3600))
        #expect(due.count == 1)
        #expect(try fixture.scalar("SELECT rm_id FROM notifications WHERE id = $1", due[0], as: String.self) == "MGR1")
        let again = try RMTaskPlanner.escalate(fixture.session, configuration: configuration, now: Date(timeIntervalSince1970: created + 48 * 3600))
        #expect(again.isEmpty)
    }

    @Test func dailyTasksCoverBirthdaysMaturitiesAndExpiry() async throws {
        let fixture = try await offPool { try NotifyFixture() }
        try fixture.rm("RM01")
        try fixture.customer("C001", birth: "1980-12-03")   // 7 days after 2026-11-26
        try fixture.customer("C002", birth: "1980-12-04")   // 8 days: not yet
        for c in ["C001", "C002"] { try fixture.score(c, tier: "gold") }
        _ = try fixture.session.execute(PostgresQuery("""
            INSERT INTO accounts (account_id, customer_id, product, currency, opened_on, maturity_on, content_hash, first_batch_id, last_batch_id)
            VALUES ('A1', 'C001', 'time_deposit', 'CNY', '2025-12-10', '2026-12-10', '\\x00', 1, 1),
                   ('A2', 'C001', 'time_deposit', 'CNY', '2025-12-10', '2026-12-10', '\\x00', 1, 1)
            """))
        _ = try fixture.session.execute(PostgresQuery("""
            INSERT INTO balances (account_id, as_of, customer_id, balance_fen, content_hash, first_batch_id, last_batch_id)
            VALUES ('A1', '2026-11-26', 'C001', 10000000, '\\x00', 1, 1), ('A2', '2026-11-26', 'C001', 9999999, '\\x00', 1, 1)
            """))
        _ = try fixture.session.execute(PostgresQuery(
            "INSERT INTO rm_tasks (rm_id, customer_id, kind, due_on, dedup_key) VALUES ('RM01', 'C002', '回访', '2026-11-25', 'old')"))
        let summary = try RMTaskPlanner.run(session: fixture.session, configuration: NotifierConfiguration(channels: []),
                                            today: CalendarDate(year: 2026, month: 11, day: 26)!, now: NotifyFixture.shanghai(9))
        #expect(summary.birthdays == 1 && summary.maturities == 1 && summary.expired == 1)
        let tasks = try fixture.session.query(PostgresQuery("SELECT kind || ' ' || customer_id || ' ' || due_on || ' ' || status FROM rm_tasks ORDER BY id"))
            .map { try $0.decode(String.self, at: 0) }
        #expect(tasks == ["回访 C002 2026-11-25 expired", "生日关怀 C001 2026-12-03 open", "到期提醒 C001 2026-12-10 open"])
    }
}
