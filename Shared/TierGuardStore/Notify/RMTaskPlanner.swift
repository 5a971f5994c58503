import Foundation
import JobQueue
import Postgres
import TierGuardModel

/// RM tasks (`rm_tasks`, open → done / expired / cancelled). The notifier creates, expires and
/// escalates them; the feedback service closes them from visit outcomes. One task per reason
/// (`dedup_key`), each rule with its numbers:
/// - 回访 (follow-up) for each downgrade_risk alert, due 3 business days after the alert's business
///   date (the daily run: after its business date), counted by the bank's calendar in PostgreSQL
///   (`tierguard_add_business_days`, table `business_calendar`, migration 0008: Monday–Friday minus
///   public holidays plus 调休 make-up workdays); urgent when the alert was urgent. Created when the
///   alert is delivered and by the daily run.
/// - 生日关怀 7 days before the birthday (due on it) of every customer whose newest tier is 金卡 or
///   above; a 29 February birthday falls on 28 February in other years.
/// - 到期提醒 14 days before a time_deposit or wealth account matures (due on the maturity day) when
///   its latest balance is at least ¥100,000.00.
/// - An open task past its due date becomes `expired`.
/// - An urgent task still open 24 hours after it was created is escalated once to the RM's manager
///   (`manager_rm_id`): an `escalation:<task id>` notification and `escalated_at`.
public enum RMTaskPlanner {
    public static let followUpBusinessDays = 3
    public static let birthdayLeadDays = 7
    public static let maturityLeadDays = 14
    public static let maturityMin = Fen(yuan: 100_000)
    public static let escalateAfterSeconds = 24 * 3600

    public struct Summary: Sendable, Equatable {
        public var followUps = 0, birthdays = 0, maturities = 0, expired = 0
        public var escalations: [Int64] = []
    }

    static let insertFollowUp = PostgresQuery("""
        INSERT INTO rm_tasks (rm_id, customer_id, kind, due_on, alert_id, dedup_key, urgent, detail)
        VALUES ($1, $2, '回访', tierguard_add_business_days($3::date, $7), $4::bigint, 'follow_up:' || $4::bigint, $5, $6)
        ON CONFLICT (dedup_key) DO NOTHING
        """, name: "RMTaskPlanner.insertFollowUp")

    static func followUp(_ session: PostgresSession, facts: AlertFacts, urgent: Bool) throws {
        _ = try session.execute(insertFollowUp.binding(facts.rmId, facts.customerId, facts.businessDate.description, facts.alertId,
                                                       urgent, NotifyMessage.downgradeLine(facts), followUpBusinessDays))
    }

    /// `day` plus `count` business days by the bank's calendar (`business_calendar`): what a 回访 task
    /// raised on business date `day` is due on.
    public static func addingBusinessDays(_ session: PostgresSession, _ day: CalendarDate, _ count: Int) throws -> CalendarDate {
        let rows = try session.query(PostgresQuery("SELECT tierguard_add_business_days($1::date, $2)::text",
                                                   name: "RMTaskPlanner.addBusinessDays").binding(day.description, count))
        guard let day = CalendarDate(try rows[0].decode(String.self, at: 0)) else {
            throw NotifyConfigurationError(message: "tierguard_add_business_days returned an unreadable date")
        }
        return day
    }

    static let dailyFollowUps = PostgresQuery("""
        INSERT INTO rm_tasks (rm_id, customer_id, kind, due_on, alert_id, dedup_key)
        SELECT c.rm_id, a.customer_id, '回访', tierguard_add_business_days($1::date, $2), a.id, 'follow_up:' || a.id
        FROM alerts a JOIN customers c ON c.customer_id = a.customer_id
        WHERE a.kind = 'downgrade_risk' AND a.state = 'open'
        ON CONFLICT (dedup_key) DO NOTHING
        """, name: "RMTaskPlanner.dailyFollowUps")
    static let birthdays = PostgresQuery("""
        INSERT INTO rm_tasks (rm_id, customer_id, kind, due_on, dedup_key)
        SELECT c.rm_id, c.customer_id, '生日关怀', b.day, 'birthday:' || c.customer_id || ':' || extract(year FROM b.day)
        FROM customers c
        CROSS JOIN LATERAL (
            SELECT CASE WHEN y.d < $1::date THEN (c.birth_date + make_interval(years => y.n + 1))::date ELSE y.d END AS day
            FROM (SELECT (c.birth_date + make_interval(years => n))::date AS d, n
                  FROM (SELECT extract(year FROM $1::date)::int - extract(year FROM c.birth_date)::int AS n) k) y
        ) b
        JOIN LATERAL (SELECT tier FROM customer_scores s WHERE s.customer_id = c.customer_id ORDER BY s.id DESC LIMIT 1) t ON true
        WHERE c.birth_date IS NOT NULL AND c.status = 'active'
          AND t.tier IN ('gold', 'platinum', 'diamond', 'private')
          AND b.day - $1::date BETWEEN 0 AND $2
        ON CONFLICT (dedup_key) DO NOTHING
        """, name: "RMTaskPlanner.birthdays")
    static let maturities = PostgresQuery("""
        INSERT INTO rm_tasks (rm_id, customer_id, kind, due_on, dedup_key)
        SELECT c.rm_id, a.customer_id, '到期提醒', a.maturity_on, 'maturity:' || a.account_id || ':' || a.maturity_on
        FROM accounts a
        JOIN customers c ON c.customer_id = a.customer_id
        JOIN LATERAL (SELECT balance_fen FROM balances b WHERE b.account_id = a.account_id ORDER BY as_of DESC LIMIT 1) b ON true
        WHERE a.product IN ('time_deposit', 'wealth') AND a.closed_on IS NULL
          AND a.maturity_on - $1::date BETWEEN 0 AND $2 AND b.balance_fen >= $3
        ON CONFLICT (dedup_key) DO NOTHING
        """, name: "RMTaskPlanner.maturities")
    static let expire = PostgresQuery("""
        UPDATE rm_tasks SET status = 'expired', closed_at = clock_timestamp() WHERE status = 'open' AND due_on < $1::date
        """, name: "RMTaskPlanner.expire")
    static let overdueUrgent = PostgresQuery("""
        SELECT t.id, t.customer_id, t.kind, t.alert_id, m.rm_id, m.wecom_userid, m.email, c.name
        FROM rm_tasks t
        JOIN relationship_managers r ON r.rm_id = t.rm_id
        JOIN relationship_managers m ON m.rm_id = r.manager_rm_id AND m.active
        JOIN customers c ON c.customer_id = t.customer_id
        WHERE t.status = 'open' AND t.urgent AND t.escalated_at IS NULL
          AND t.created_at <= $1::timestamptz - make_interval(secs => $2)
        FOR UPDATE OF t SKIP LOCKED
        """, name: "RMTaskPlanner.overdueUrgent")
    static let markEscalated = PostgresQuery(
        "UPDATE rm_tasks SET escalated_at = $2::timestamptz WHERE id = $1", name: "RMTaskPlanner.markEscalated")

    /// The daily run for business date `today` at instant `now`.
    public static func run(session: PostgresSession, configuration: NotifierConfiguration, today: CalendarDate,
                           now: Date) throws -> Summary {
        try session.withTransaction { tx in
            var summary = Summary()
            summary.followUps = try tx.execute(dailyFollowUps.binding(today.description, followUpBusinessDays))
            summary.birthdays = try tx.execute(birthdays.binding(today.description, birthdayLeadDays))
            summary.maturities = try tx.execute(maturities.binding(today.description, maturityLeadDays, maturityMin.value))
            summary.expired = try tx.execute(expire.binding(today.description))
            summary.escalations = try escalate(tx, configuration: configuration, now: now)
            return summary
        }
    }

    /// Escalates each urgent task open for 24 h to the RM's manager, once; returns the notification ids.
    public static func escalate(_ session: PostgresSession, configuration: NotifierConfiguration, now: Date) throws -> [Int64] {
        var ids: [Int64] = []
        var jobs: [NewJob] = []
        for row in try session.query(overdueUrgent.binding(now, escalateAfterSeconds)) {
            let taskId = try row.decode(Int64.self, at: 0)
            let manager = try row.decode(String.self, at: 4)
            _ = try session.execute(markEscalated.binding(taskId, now))
            guard let route = configuration.route(rmId: manager, wecomUserId: try row.decode(String?.self, at: 5),
                                                  email: try row.decode(String?.self, at: 6)) else { continue }
            let name = Masking.name(try row.decode(String.self, at: 7))
            let alert = try row.decode(Int64?.self, at: 3).map { "预警编号 \($0)" } ?? ""
            let title = "【升级】客户 \(name) 的\(try row.decode(String.self, at: 2))任务超过 24 小时未处理"
            let inserted = try session.query(AlertNotifier.insertNotification.binding(
                "escalation:\(taskId)", try row.decode(Int64?.self, at: 3), try row.decode(String.self, at: 1), manager,
                route.channel.rawValue, route.target, true, "pending", nil as String?, 0, title, "**\(title)**\n> \(alert)"))
            let id = try inserted[0].decode(Int64.self, at: 0)
            ids.append(id)
            jobs.append(try NewJob(queue: AlertNotifier.queue, kind: NotifyJobs.sendNotification,
                                   args: NotifyJobs.NotificationArgs(notification_id: id), uniqueKey: "notification:\(id)"))
        }
        if !jobs.isEmpty { _ = try JobEnqueuer.enqueue(session, jobs) }
        return ids
    }
}
