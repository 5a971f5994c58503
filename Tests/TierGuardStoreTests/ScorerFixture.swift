import Foundation
import Postgres
import TestSupport
import TierGuardModel
import TierGuardStore

/// Inserts archive rows directly (as ingest would have applied them) for the scorer's tests.
struct ScorerFixture {
    let session: PostgresSession

    static func database() throws -> (TestDatabase, PostgresSession) {
        let db = try TestDatabase.create(migrations: TierGuardSchema.migrations(), prefix: "scorer")
        return (db, try db.session())
    }

    /// A fresh database with every migration before TierGuard's migration `version`, and the full list
    /// to finish with: for a test of what `version` does to rows written before it. Throws when there is
    /// no such migration, so a renumbered one cannot leave its test testing nothing.
    static func databaseBefore(migration version: Int) throws -> (database: TestDatabase, all: [Migration]) {
        let all = try TierGuardSchema.migrations()
        guard all.contains(where: { $0.component == TierGuardSchema.component && $0.version == version }) else {
            throw ScoringError("there is no tierguard migration \(version) to test")
        }
        let before = all.filter { $0.component != TierGuardSchema.component || $0.version < version }
        return (try TestDatabase.create(migrations: before, prefix: "mig"), all)
    }

    func customer(_ id: String, name: String = "张三丰", risk: String = "C3", assessed: String = "2025-01-01",
                  income: Int64? = nil, opened: String = "2024-01-01", optOut: Bool = false, rm: String = "RM1") throws {
        try session.execute(PostgresQuery("""
            INSERT INTO customers (customer_id, name, id_type, risk_level, risk_assessed_on, annual_income_fen,
                rm_id, branch_id, opened_on, status, marketing_opt_out, content_hash, first_batch_id, last_batch_id)
            VALUES ($1, $2, 'resident_id', $3, $4::date, $5, $6, 'B01', $7::date, 'active', $8, '\\x00', 0, 0)
            """).binding(id, name, risk, assessed, income, rm, opened, optOut))
    }

    func account(_ id: String, customer: String, product: String = "demand_deposit", opened: String = "2024-01-01",
                 maturity: String? = nil, closed: String? = nil) throws {
        try session.execute(PostgresQuery("""
            INSERT INTO accounts (account_id, customer_id, product, currency, opened_on, maturity_on, closed_on,
                content_hash, first_batch_id, last_batch_id)
            VALUES ($1, $2, $3, 'CNY', $4::date, $5::date, $6::date, '\\x00', 0, 0)
            """).binding(id, customer, product, opened, maturity, closed))
    }

    func balance(_ account: String, customer: String, _ asOf: String, _ fen: Int64) throws {
        try session.execute(PostgresQuery("""
            INSERT INTO balances (account_id, as_of, customer_id, balance_fen, content_hash, first_batch_id, last_batch_id)
            VALUES ($1, $2::date, $3, $4, '\\x00', 0, 0)
            ON CONFLICT (account_id, as_of) DO UPDATE SET balance_fen = excluded.balance_fen
            """).binding(account, asOf, customer, fen))
    }

    /// `bookedAt` is RFC 3339 with an offset; booked_on is its Shanghai day, as ingest stores it.
    func transaction(_ id: String, account: String, customer: String, _ bookedAt: String, _ fen: Int64,
                     category: String, bank: String? = nil) throws {
        try session.execute(PostgresQuery("""
            INSERT INTO transactions (txn_id, account_id, customer_id, booked_at, booked_on, amount_fen, category, channel,
                counterparty_bank, content_hash, first_batch_id, last_batch_id)
            VALUES ($1, $2, $3, $4::timestamptz, ($4::timestamptz AT TIME ZONE 'Asia/Shanghai')::date, $5, $6, 'mobile', $7,
                '\\x00', 0, 0)
            """).binding(id, account, customer, bookedAt, fen, category, bank))
    }

    func count(_ sql: StaticString, _ binds: (any PostgresEncodable)?...) throws -> Int {
        try session.query(PostgresQuery(sql).binding(binds.map { $0?.postgresBind ?? .null }))[0].decode(Int.self, at: 0)
    }
}

