import Foundation
import Postgres
import PersonalDataVault
import ServiceKit
import TestSupport
import Testing
import TierGuardModel
import TierGuardStore

/// Business days by the bank's holiday calendar (migration 0008), the scheduled birthday greeting SMS
/// against the real SMS gateway receiver, and the notifier's narrow path to a phone number under its
/// own role (`SET ROLE tierguard_notifier`).
@Suite struct NotifyCalendarAndBirthdayTests {
    static func day(_ text: String) -> CalendarDate { CalendarDate(text)! }

    /// 2026 国庆: Oct 1–7 off, Sun Sep 20 and Sat Oct 10 worked (调休).
    @Test func followUpRaisedTheDayBeforeNationalDayIsDueAfterTheHolidayOnTheMakeUpSaturday() async throws {
        let fixture = try await offPool { try NotifyFixture() }
        try fixture.rm("RM01")
        try fixture.customer("C001")
        // Gold is below the urgent threshold: the alert waits for the digest, the 回访 task is planned all the same.
        let alert = try fixture.downgradeAlert("C001", tier: "gold", to: "standard", bd: "2026-09-30", date: "2026-10-01")
        let notifier = AlertNotifier(configuration: NotifierConfiguration(webhookURL: "http://127.0.0.1:1/hook", channels: []))
        guard case .waitingForDigest = try await fixture.deliver(notifier, alert, NotifyFixture.shanghai(10)) else {
            Issue.record("expected the alert to wait for the digest"); return
        }
        // Wed Sep 30 + 3 business days: Oct 1–7 holiday, Thu Oct 8 (1), Fri Oct 9 (2), Sat Oct 10 make-up (3).
        #expect(try fixture.scalar("SELECT due_on::text FROM rm_tasks WHERE alert_id = $1", alert, as: String.self) == "2026-10-10")
        // Plain Monday–Friday would have said Mon Oct 5.
        let s = fixture.session
        #expect(try RMTaskPlanner.addingBusinessDays(s, Self.day("2026-09-30"), 3) == Self.day("2026-10-10"))
        // Fri Sep 18 + 3: Sun Sep 20 (make-up, 1), Mon 21 (2), Tue 22 (3) — a weekend-only count gives Wed 23.
        #expect(try RMTaskPlanner.addingBusinessDays(s, Self.day("2026-09-18"), 3) == Self.day("2026-09-22"))
        // Sat Feb 14 is a make-up workday, Feb 15–23 春节: Fri Feb 13 + 2 → Sat 14 (1), Tue Feb 24 (2).
        #expect(try RMTaskPlanner.addingBusinessDays(s, Self.day("2026-02-13"), 2) == Self.day("2026-02-24"))
        // Outside the listed years: Monday–Friday. Fri 2028-06-02 + 1 → Mon 06-05.
        #expect(try RMTaskPlanner.addingBusinessDays(s, Self.day("2028-06-02"), 1) == Self.day("2028-06-05"))

        // The operator overrides a shipped day (as tierguard_operator): Oct 10 not worked after all → Mon Oct 12.
        _ = try s.execute(PostgresQuery("SET ROLE tierguard_operator"))
        _ = try s.execute(PostgresQuery("UPDATE business_calendar SET is_workday = false, note = 'bank closed' WHERE day = '2026-10-10'"))
        _ = try s.execute(PostgresQuery("RESET ROLE"))
        #expect(try RMTaskPlanner.addingBusinessDays(s, Self.day("2026-09-30"), 3) == Self.day("2026-10-12"))
        // The daily run plans the follow-ups of open alerts it has not seen by the same calendar.
        try fixture.customer("C002")
        let second = try fixture.downgradeAlert("C002", tier: "gold", to: "standard", bd: "2026-09-30", date: "2026-10-01")
        let summary = try await offPool {
            try RMTaskPlanner.run(session: fixture.session, configuration: notifier.configuration, today: Self.day("2026-09-30"),
                                  now: NotifyFixture.shanghai(7))
        }
        #expect(summary.followUps == 1)
        #expect(try fixture.scalar("SELECT due_on::text FROM rm_tasks WHERE alert_id = $1", second, as: String.self) == "2026-10-12")
        // The notifier may read the calendar but not change it.
        _ = try s.execute(PostgresQuery("SET ROLE tierguard_notifier"))
        defer { _ = try? s.execute(PostgresQuery("RESET ROLE")) }
        #expect(try fixture.scalar("SELECT count(*)::int FROM business_calendar WHERE is_workday", as: Int.self) == 5)
        #expect(SecurityTests.sqlState { _ = try s.execute(PostgresQuery("DELETE FROM business_calendar")) } == "42501")
    }

    /// The birthday run under the notifier's own role: today's (Shanghai) birthdays at 金卡 or above get one
    /// SMS each through the real gateway receiver; opt-out and profiling refusal are recorded, never sent;
    /// quiet hours hold; a second run sends nothing; the phone column stays unreadable.
    @Test func birthdayGreetingsAreScheduledOnceUnderTheNotifierRole() async throws {
        let fixture = try await offPool { try NotifyFixture() }
        let gateway = try RecordingReceiver(.smsOK)
        let s = fixture.session
        let today = try #require(CalendarDate(try fixture.scalar(
            "SELECT (clock_timestamp() AT TIME ZONE 'Asia/Shanghai')::date::text", as: String.self)))
        // 44 years back keeps 29 February a valid date (a multiple of 4, no century year in between).
        let birthday = CalendarDate(year: today.year - 44, month: today.month, day: today.day)!
        let tomorrow = today.adding(days: 1)
        try fixture.rm("RM01")
        try fixture.customer("B1", phone: "13900000001", birth: birthday.description)             // greeted
        try fixture.customer("B2", optOut: true, phone: "13900000002", birth: birthday.description) // opt-out
        try fixture.customer("B3", phone: "13900000003", birth: birthday.description)             // refused profiling
        try fixture.customer("B4", phone: "13900000004", birth: birthday.description)             // below 金卡
        try fixture.customer("B5", phone: "13900000005",
                             birth: CalendarDate(year: tomorrow.year - 44, month: tomorrow.month, day: tomorrow.day)!.description)
        try fixture.customer("B6", phone: "13900000006", birth: birthday.description)             // its send falls in quiet hours
        for (customer, tier) in [("B1", "gold"), ("B2", "diamond"), ("B3", "diamond"), ("B4", "standard"), ("B5", "gold"), ("B6", "platinum")] {
            try fixture.score(customer, tier: tier)
        }
        _ = try s.execute(PostgresQuery("""
            INSERT INTO customer_preferences (customer_id, automated_profiling_refused, source, recorded_at)
            VALUES ('B3', true, 'branch', now())
            """))
        let notifier = AlertNotifier(configuration: NotifierConfiguration(channels: [
            SMSChannel(gatewayURL: gateway.url, signName: "某某银行", client: NotifyHTTPClient(timeoutSeconds: 15))]))
        let morning = NotifyFixture.at(today, hour: 9)

        _ = try s.execute(PostgresQuery("SET ROLE tierguard_notifier"))
        // The role cannot read the column; the function answers only for an allowed greeting, today.
        #expect(SecurityTests.sqlState { _ = try s.query(PostgresQuery("SELECT phone_enc FROM customers")) } == "42501")
        #expect(try BirthdayGreetings.recipient(s, customerId: "B1", vault: .development) == "13900000001")
        for refused in ["B2", "B3", "B4", "B5", "nobody"] {
            #expect(try BirthdayGreetings.recipient(s, customerId: refused, vault: .development) == nil, "\(refused)")
        }
        // In quiet hours the run does nothing and asks to be woken at 08:00.
        let late = try await offPool { try BirthdayGreetings.schedule(session: s, configuration: notifier.configuration,
                                                                       now: NotifyFixture.at(today, hour: 22)) }
        #expect(abs((late.snoozeSeconds ?? 0) - 10 * 3600) < 1, "\(String(describing: late.snoozeSeconds))")
        #expect(late.scheduled == 0)

        let first = try await offPool { try BirthdayGreetings.schedule(session: s, configuration: notifier.configuration, now: morning) }
        #expect(first.scheduled == 2 && first.refused == 2 && first.alreadyDone == 0 && first.snoozeSeconds == nil, "\(first)")
        let jobs = try s.query(PostgresQuery("""
            SELECT (j.args->>'notification_id')::bigint, n.customer_id FROM tg_jobs j
            JOIN notifications n ON n.id = (j.args->>'notification_id')::bigint
            WHERE j.kind = 'send_notification' ORDER BY n.customer_id
            """)).map { (try $0.decode(Int64.self, at: 0), try $0.decode(String.self, at: 1)) }
        #expect(jobs.map(\.1) == ["B1", "B6"])
        try #require(jobs.count == 2)
        // What the send_notification job does, at 09:00 and (for B6, delayed by retries) at 21:30.
        guard case .sent = try await offPool({ try notifier.send(session: s, notificationId: jobs[0].0, now: morning) }) else {
            Issue.record("expected B1 sent"); return
        }
        guard case .suppressed(.quietHours, _) = try await offPool({
            try notifier.send(session: s, notificationId: jobs[1].0, now: NotifyFixture.at(today, hour: 21, minute: 30)) }) else {
            Issue.record("expected B6 suppressed in quiet hours"); return
        }
        // A second run the same day (another replica, a re-run) creates and sends nothing.
        let again = try await offPool { try BirthdayGreetings.schedule(session: s, configuration: notifier.configuration, now: morning) }
        #expect(again.scheduled == 0 && again.alreadyDone == 2 && again.refused == 2)
        _ = try s.execute(PostgresQuery("RESET ROLE"))

        #expect(gateway.requests.count == 1)
        let request = try #require(gateway.requests.first)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        #expect(body["phone_numbers"] as? String == "13900000001")
        #expect(body["template_code"] as? String == "SMS_BIRTHDAY")
        #expect(body["template_param"] as? String == #"{"name":"张**"}"#)
        let states = try s.query(PostgresQuery("""
            SELECT customer_id || ':' || state || ':' || coalesce(reason, '-') || ':' || subject || ':' || target
            FROM notifications ORDER BY customer_id
            """)).map { try $0.decode(String.self, at: 0) }
        let year = today.year
        #expect(states == [
            "B1:sent:-:sms:B1:birthday_greeting:\(year):customer:B1",
            "B2:suppressed:opt_out:sms:B2:birthday_greeting:\(year):customer:B2",
            "B3:suppressed:opt_out:sms:B3:birthday_greeting:\(year):customer:B3",
            "B6:suppressed:quiet_hours:sms:B6:birthday_greeting:\(year):customer:B6",
        ])
        // Each number handed out is audited (one for the direct check above, one for the send), no other.
        #expect(try s.query(PostgresQuery("""
            SELECT array_to_string(customer_ids, ',') || ' ' || operator || ' ' || command FROM pii_access_audit ORDER BY id
            """)).map { try $0.decode(String.self, at: 0) } == ["B1 tierguard-notifier birthday_sms", "B1 tierguard-notifier birthday_sms"])
        // No phone number was copied into the notifier's tables.
        #expect(try fixture.scalar("SELECT count(*)::int FROM notifications WHERE target LIKE '%139%' OR body LIKE '%139%'", as: Int.self) == 0)
    }

    /// The function is the notifier's alone: PUBLIC and the other service roles cannot call it; it is
    /// SECURITY DEFINER with a pinned search_path.
    @Test func onlyTheNotifierMayCallThePhoneFunction() async throws {
        let fixture = try await offPool { try NotifyFixture() }
        let s = fixture.session
        for role in ["tierguard_scorer", "tierguard_feedback", "tierguard_rm", "tierguard_operator", "tierguard_ingest"] {
            _ = try s.execute(PostgresQuery(unsafeSQL: "SET ROLE \(role)"))
            #expect(SecurityTests.sqlState { _ = try s.query(PostgresQuery("SELECT tierguard_birthday_sms_recipient('B1')")) } == "42501",
                    "\(role)")
            _ = try s.execute(PostgresQuery("RESET ROLE"))
        }
        #expect(try fixture.scalar("""
            SELECT prosecdef AND proconfig = ARRAY['search_path=pg_catalog, public'] FROM pg_proc
            WHERE proname = 'tierguard_birthday_sms_recipient'
            """, as: Bool.self))
        #expect(try fixture.scalar("""
            SELECT string_agg(grantee, ',' ORDER BY grantee) FROM information_schema.role_routine_grants
            WHERE routine_name = 'tierguard_birthday_sms_recipient' AND privilege_type = 'EXECUTE'
              AND grantee <> (SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'tierguard_birthday_sms_recipient')
            """, as: String.self) == "tierguard_notifier")
    }
}

extension NotifyFixture {
    /// A score row putting `customer` at `tier` (the newest row decides), its documents one empty one.
    func score(_ customer: String, tier: String) throws {
        _ = try session.execute(PostgresQuery("""
            WITH d AS (INSERT INTO score_documents (customer_id, body) VALUES ($1, '[]') RETURNING id)
            INSERT INTO customer_score_rows (customer_id, business_date, policy_version, catalog_version, tier, is_provisional,
                aum_fen, mtd_sum_fen, mtd_days, m3_month, m3_sum_fen, m3_days, m3_before_first, m2_month, m2_sum_fen, m2_days,
                m2_before_first, m1_month, m1_sum_fen, m1_days, m1_before_first, watch_months, signals_doc, signal_codes, value_doc,
                contribution_fen, retention_probability, recommendations_doc, suitability_doc)
            SELECT $1, '2026-11-26', 'p', 'c', $2, false, 0, 0, 1, '2026-08-01', 0, 31, false, '2026-09-01', 0, 30, false,
                '2026-10-01', 0, 31, false, 0, d.id, '{}', d.id, 0, 0.1, d.id, d.id FROM d
            """).binding(customer, tier))
    }

    /// `day` at `hour`:`minute` Asia/Shanghai.
    static func at(_ day: CalendarDate, hour: Int, minute: Int = 0) -> Date {
        var components = DateComponents()
        components.year = day.year; components.month = day.month; components.day = day.day
        components.hour = hour; components.minute = minute
        components.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        return Calendar(identifier: .gregorian).date(from: components)!
    }
}
