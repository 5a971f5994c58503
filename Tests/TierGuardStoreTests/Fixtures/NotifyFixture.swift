import Foundation
import PersonalDataVault
import Postgres
import TestSupport
import TierGuardStore

/// Archive rows for notifier tests: RMs, customers and alerts inserted directly (as the scorer
/// would), so each test states exactly what the notifier sees.
struct NotifyFixture {
    let database: TestDatabase
    let session: PostgresSession

    init() throws {
        database = try TestDatabase.create(migrations: try TierGuardSchema.migrations(), prefix: "tgnotify")
        session = try database.session()
    }

    func rm(_ id: String, branch: String = "B01", manager: String? = nil, wecom: String? = nil, email: String? = nil,
            active: Bool = true) throws {
        _ = try session.execute(PostgresQuery("""
            INSERT INTO relationship_managers (rm_id, name, branch_id, manager_rm_id, wecom_userid, email, active,
                                               content_hash, first_batch_id, last_batch_id)
            VALUES ($1, '王经理', $2, $3, $4, $5, $6, '\\x00', 1, 1)
            """).binding(id, branch, manager, wecom, email, active))
    }

    func customer(_ id: String, name: String = "张三丰", rm: String = "RM01", branch: String = "B01", optOut: Bool = false,
                  phone: String? = "13812345678", birth: String? = nil) throws {
        // The phone is stored sealed (0006_pii_encryption.sql) with the development key, as ingest would.
        let vault = PersonalDataVault.development
        let sealed = try phone.map { try vault.seal($0, field: .phone) }
        _ = try session.execute(PostgresQuery("""
            INSERT INTO customers (customer_id, name, id_type, phone_enc, phone_key_id, phone_hmac, birth_date, risk_level,
                                   risk_assessed_on, rm_id, branch_id, opened_on, status, marketing_opt_out, content_hash,
                                   first_batch_id, last_batch_id)
            VALUES ($1, $2, 'passport', $3, $4, $5, $6::date, 'C3', '2026-01-01', $7, $8, '2020-01-01', 'active', $9, '\\x00', 1, 1)
            """).binding(id, name, sealed.map { Data($0.bytes) }, sealed?.keyId, phone.map { Data(vault.blindIndex($0, field: .phone)) },
                          birth, rm, branch, optOut))
    }

    /// A downgrade_risk alert: tier `tier`, projected on `date` to `to`, with the figures in fen.
    @discardableResult
    func downgradeAlert(_ customer: String, tier: String = "diamond", to: String = "platinum", bd: String = "2026-11-26",
                        date: String = "2026-12-01", gap: Int64 = 50_000_000, extra: Int64 = 12_345_678,
                        aum: Int64 = 800_000_000, risk: Double = 0.4) throws -> Int64 {
        let payload = """
            {"kind":"downgrade_risk","tier":"\(tier)","aum_fen":\(aum),"retention_probability":\(risk),\
            "warning":{"date":"\(date)","from_tier":"\(tier)","to_tier":"\(to)","gap":\(gap),"extra_daily_average_needed":\(extra)}}
            """
        return try alert(customer, kind: "downgrade_risk", key: "downgrade_risk:\(customer):\(date):\(to)", bd: bd, payload: payload)
    }

    @discardableResult
    func signalAlert(_ customer: String, kind: String, tier: String = "diamond", aum: Int64 = 500_000_000,
                     risk: Double = 0.3, bd: String = "2026-11-26") throws -> Int64 {
        let payload = """
            {"kind":"\(kind)","tier":"\(tier)","aum_fen":\(aum),"retention_probability":\(risk),\
            "signal":{"code":"\(kind)","reason":"近7日资产下降 35%","figures":{},"accounts":[]}}
            """
        return try alert(customer, kind: kind, key: "\(kind):\(customer):\(UUID().uuidString)", bd: bd, payload: payload)
    }

    func alert(_ customer: String, kind: String, key: String, bd: String, payload: String) throws -> Int64 {
        try session.query(PostgresQuery("""
            INSERT INTO alerts (customer_id, kind, dedup_key, business_date, first_business_date, cooldown_until, payload)
            VALUES ($1, $2, $3, $4::date, $4::date, $4::date + 7, $5::jsonb) RETURNING id
            """).binding(customer, kind, key, bd, payload))[0].decode(Int64.self, at: 0)
    }

    func scalar<T: PostgresDecodable>(_ sql: String, _ binds: (any PostgresEncodable)?..., as type: T.Type = T.self) throws -> T {
        try session.query(PostgresQuery(unsafeSQL: sql, binds.map { $0?.postgresBind ?? .null }))[0].decode(T.self, at: 0)
    }

    /// 2026-11-27 at `hour`:`minute` Asia/Shanghai.
    static func shanghai(_ hour: Int, _ minute: Int = 0, day: Int = 27) -> Date {
        var components = DateComponents()
        components.year = 2026; components.month = 11; components.day = day
        components.hour = hour; components.minute = minute
        components.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        return Calendar(identifier: .gregorian).date(from: components)!
    }
}

extension NotifyFixture {
    func deliver(_ notifier: AlertNotifier, _ alert: Int64, _ now: Date) async throws -> NotifyOutcome {
        try await offPool { try notifier.deliver(session: session, alertId: alert, now: now) }
    }
    func send(_ notifier: AlertNotifier, _ id: Int64) async throws -> NotifyOutcome {
        try await offPool { try notifier.send(session: session, notificationId: id) }
    }
    func sms(_ notifier: AlertNotifier, _ customer: String, _ now: Date) async throws -> NotifyOutcome {
        try await offPool { try notifier.sendBirthdaySMS(session: session, customerId: customer, now: now) }
    }
    func send(_ channel: any NotificationChannel, _ message: OutgoingMessage) async throws -> [DeliveryAttempt] {
        try await offPool { channel.send(message, session: session) }
    }
}
