import Foundation
import Postgres
import ServiceKit
import Synchronization
import TierGuardModel

/// Everything the model reads about one customer on one business date.
public struct CustomerInput: Sendable, Hashable {
    public var customer: Customer
    public var accounts: [Account]
    /// Up to BD, grouped by account (in any order within an account: `DailyAum` sorts them).
    public var balances: [Balance]
    /// Booked (Shanghai day) in BD−364 … BD; for a customer with no customer-initiated transaction in
    /// that window, also its latest one before it (`ScoringSQL.lastActivityBeforeWindow`).
    public var transactions: [Transaction]
    public var feedback: FeedbackSummary
    public var consent: ConsentState

    public init(customer: Customer, accounts: [Account], balances: [Balance], transactions: [Transaction],
                feedback: FeedbackSummary = .none, consent: ConsentState = .none) {
        self.customer = customer; self.accounts = accounts; self.balances = balances
        self.transactions = transactions; self.feedback = feedback; self.consent = consent
    }
}

/// Loads a chunk of customers from the archive with a few set-based statements (one each for
/// customers, accounts, balances, transactions and feedback), whatever the chunk's size.
///
/// Feedback (issue 8, migration 0003) is read defensively, so the scorer runs against an archive
/// without it: `feedback_surveys` (customer_id, kind 'csat'/'nps', score, answered_at),
/// `complaints` (customer_id, received_on, closed_at, and state when present: open on BD when received
/// on or before BD and not closed by the end of BD, closed_at's Asia/Shanghai day — so a complaint
/// received or closed after BD does not change BD's score, and a replayed date scores the same; found
/// by an independent oracle, which read "an open complaint" as open on BD while the loader read the
/// complaint's state at the moment of scoring),
/// and `customer_preferences` (customer_id, marketing_opt_out_recorded,
/// automated_profiling_refused). When a table or one of those columns is missing, that part is
/// empty — `dissatisfied` cannot fire from data that does not exist — and the probe says so once.
public final class ArchiveLoader: Sendable {
    struct FeedbackSources: Sendable {
        var surveys = false
        var complaintsClosedAt = false
        var complaintsState = false
        var preferences = false
    }

    private let sources = Mutex<FeedbackSources?>(nil)

    public init() {}

    /// Loads the chunk. With `rollupLookbackDays` (the scoring paths pass
    /// `ScoringRollups.lookbackDays(policy)`), balances before the rollup window come from
    /// `balance_month_rollups` as synthetic balances with the same month sums and carries
    /// (`ScoringRollups`); with nil every balance is read raw (`customer explain`, the golden test).
    public func load(_ session: PostgresSession, customerIds: [String], businessDate: CalendarDate,
                     logger: Logger? = nil, rollupLookbackDays: Int? = nil) throws -> [CustomerInput] {
        guard !customerIds.isEmpty else { return [] }
        let bd = PostgresDate(year: businessDate.year, month: businessDate.month, day: businessDate.day)
        var customers: [String: Customer] = [:]
        customers.reserveCapacity(customerIds.count)
        for row in try session.query(ScoringSQL.customers.binding(customerIds)) {
            let id: String = try row.decode(at: 0)
            let riskText: String = try row.decode(at: 3)
            let customer = Customer(
                customerId: id, name: try row.decode(at: 1),
                idType: IdType(rawValue: try row.decode(String.self, at: 2)) ?? .other, idNumber: "",
                riskLevel: RiskLevel(code: riskText) ?? .c1,
                riskAssessedOn: CalendarDate(dayNumber: try row.decode(Int.self, at: 4)),
                annualIncome: try row.decode(Int64?.self, at: 5).map { Fen($0) },
                rmId: try row.decode(at: 6), branchId: try row.decode(at: 7),
                openedOn: CalendarDate(dayNumber: try row.decode(Int.self, at: 8)),
                status: CustomerStatus(rawValue: try row.decode(String.self, at: 9)) ?? .active,
                marketingOptOut: try row.decode(Bool.self, at: 10))
            customers[id] = customer
        }
        // The chunk's id range (`ScoringSQL`): every load below reads it; rows of customers in the
        // range but not in the chunk are skipped (only the chunk's customers get an input).
        let bounds = try session.query(ScoringSQL.chunkBounds.binding(customerIds))[0]
        let lo: String = try bounds.decode(at: 0), hi: String = try bounds.decode(at: 1)
        var accounts: [String: [Account]] = [:]
        for row in try session.query(ScoringSQL.accounts.binding(lo, hi)) {
            let customerId: String = try row.decode(at: 0)
            guard customers[customerId] != nil else { continue }
            let productText: String = try row.decode(at: 2)
            guard let product = Product(rawValue: productText) else { continue }
            let account = Account(
                accountId: try row.decode(at: 1), customerId: customerId, product: product,
                productCode: try row.decode(String?.self, at: 3), currency: try row.decode(at: 4),
                openedOn: CalendarDate(dayNumber: try row.decode(Int.self, at: 5)),
                maturityOn: try row.decode(Int?.self, at: 6).map(CalendarDate.init(dayNumber:)),
                closedOn: try row.decode(Int?.self, at: 7).map(CalendarDate.init(dayNumber:)))
            accounts[customerId, default: []].append(account)
        }
        var balances: [String: [Balance]] = [:]
        let lastDay = Int64(businessDate.dayNumber)
        /// Appends one account's balances, `days` and `amounts` as parallel arrays, up to BD.
        func append(_ customerId: String, _ accountId: String, _ days: IntegerList, _ amounts: IntegerList) throws {
            guard days.values.count == amounts.values.count else {
                throw ScoringError("balances of one account came back with unequal arrays")
            }
            var list = balances[customerId, default: []]
            list.reserveCapacity(list.count + days.values.count)
            for i in days.values.indices where days.values[i] <= lastDay {
                list.append(Balance(accountId: accountId, asOf: CalendarDate(dayNumber: Int(days.values[i])),
                                    balance: Fen(amounts.values[i])))
            }
            balances[customerId] = list
        }
        /// Appends each row's balances (customer id, account id, days, amounts).
        func appendRows(_ query: PostgresQuery) throws {
            for row in try session.query(query) {
                let customerId: String = try row.decode(at: 0)
                guard customers[customerId] != nil else { continue }
                try append(customerId, try row.decode(at: 1), try row.decode(at: 2), try row.decode(at: 3))
            }
        }
        if let lookback = rollupLookbackDays {
            let w = ScoringRollups.windowStart(businessDate: businessDate, lookbackDays: lookback)
            let wDate = PostgresDate(year: w.year, month: w.month, day: w.day)
            var closedBefore = Set<String>()
            for list in accounts.values {
                for account in list where account.closedOn.map({ $0 < w }) ?? false { closedBefore.insert(account.accountId) }
            }
            // Rollups first: per account, the synthetic balances must come before the raw ones of W on.
            for row in try session.query(ScoringSQL.rollups.binding(lo, hi, wDate)) {
                let customerId: String = try row.decode(at: 0)
                let accountId: String = try row.decode(at: 1)
                guard customers[customerId] != nil, !closedBefore.contains(accountId) else { continue }
                let months: IntegerList = try row.decode(at: 2), firsts: IntegerList = try row.decode(at: 3)
                let lasts: IntegerList = try row.decode(at: 4), lastFens: IntegerList = try row.decode(at: 5)
                let sums: IntegerList = try row.decode(at: 6)
                let n = months.values.count
                guard firsts.values.count == n, lasts.values.count == n, lastFens.values.count == n, sums.values.count == n else {
                    throw ScoringError("rollups of one account came back with unequal arrays")
                }
                let rollups = (0..<n).map { i in
                    BalanceMonthRollup(month: CalendarDate(dayNumber: Int(months.values[i])).yearMonth,
                                       firstDay: CalendarDate(dayNumber: Int(firsts.values[i])),
                                       lastDay: CalendarDate(dayNumber: Int(lasts.values[i])),
                                       lastFen: lastFens.values[i], sumFen: sums.values[i])
                }
                balances[customerId, default: []].append(contentsOf: ScoringRollups.syntheticBalances(accountId: accountId, months: rollups))
            }
            if !closedBefore.isEmpty {
                try appendRows(ScoringSQL.balancesBefore.binding(lo, hi, closedBefore.sorted(), wDate))
            }
            // W … BD day by day: the months' balances as their rollup rows store them (0019); a row whose
            // month was last written before 0019 and not filled by it has none, and then the whole chunk's
            // W … BD comes from `balances`, exact either way.
            let bdMonth = businessDate.firstOfMonth
            var stored: [(customerId: String, accountId: String, days: IntegerList, amounts: IntegerList)] = []
            var complete = true
            for row in try session.query(ScoringSQL.monthBalancesFrom.binding(
                lo, hi, wDate, PostgresDate(year: bdMonth.year, month: bdMonth.month, day: bdMonth.day))) {
                let customerId: String = try row.decode(at: 0)
                guard customers[customerId] != nil else { continue }
                guard let days = try row.decode(IntegerList?.self, at: 2), let amounts = try row.decode(IntegerList?.self, at: 3) else {
                    complete = false
                    break
                }
                stored.append((customerId, try row.decode(at: 1), days, amounts))
            }
            if complete {
                for s in stored { try append(s.customerId, s.accountId, s.days, s.amounts) }
            } else {
                try appendRows(ScoringSQL.balancesFrom.binding(lo, hi, bd, wDate))
            }
        } else {
            try appendRows(ScoringSQL.balances.binding(lo, hi, bd))
        }
        var transactions: [String: [Transaction]] = [:]
        /// A row of `ScoringSQL.transactions` / `lastActivityBeforeWindow` (customer id first).
        func transaction(_ row: PostgresRow) throws -> Transaction? {
            guard let category = TransactionCategory(rawValue: try row.decode(String.self, at: 6)) else { return nil }
            return Transaction(
                txnId: try row.decode(at: 1), accountId: try row.decode(at: 2),
                bookedAtEpochSeconds: try row.decode(at: 3), bookedAtNanos: Int32(try row.decode(Int64.self, at: 4)),
                amount: Fen(try row.decode(Int64.self, at: 5)), category: category,
                channel: Channel(rawValue: try row.decode(String.self, at: 7)) ?? .online,
                counterpartyBank: try row.decode(String?.self, at: 8))
        }
        for row in try session.query(ScoringSQL.transactions.binding(lo, hi, bd)) {
            let customerId: String = try row.decode(at: 0)
            guard customers[customerId] != nil, let txn = try transaction(row) else { continue }
            transactions[customerId, default: []].append(txn)
        }
        // A customer with no activity in the window: its latest activity before it, so `inactive` counts
        // the days from the real last activity (not from opened_on, as if there never was one) and the
        // activity's recency is right. Older than every windowed rule (fee income's 365 days included,
        // and fees and interest are not activity), it changes nothing else.
        let idle = customerIds.filter { id in
            customers[id] != nil && !(transactions[id] ?? []).contains { $0.category.isCustomerInitiated }
        }
        if !idle.isEmpty {
            let activity = TransactionCategory.allCases.filter(\.isCustomerInitiated).map(\.rawValue)
            for row in try session.query(ScoringSQL.lastActivityBeforeWindow.binding(idle, bd, activity)) {
                guard let txn = try transaction(row) else { continue }
                transactions[try row.decode(String.self, at: 0), default: []].append(txn)
            }
        }
        // Same order whatever the plan: by txn id (the rules do not depend on it, the figures' text might).
        for key in transactions.keys { transactions[key]!.sort { $0.txnId < $1.txnId } }

        let (feedback, consent) = try loadFeedback(session, customerIds: customerIds, businessDate: businessDate,
                                                   logger: logger)
        var inputs: [CustomerInput] = []
        inputs.reserveCapacity(customerIds.count)
        for id in customerIds {
            guard let customer = customers[id] else { continue }
            inputs.append(CustomerInput(
                customer: customer, accounts: accounts[id] ?? [], balances: balances[id] ?? [],
                transactions: transactions[id] ?? [], feedback: feedback[id] ?? .none, consent: consent[id] ?? .none))
        }
        return inputs
    }

    private func probe(_ session: PostgresSession, logger: Logger?) throws -> FeedbackSources {
        if let known = sources.withLock({ $0 }) { return known }
        var columns: [String: Set<String>] = [:]
        let rows = try session.query(PostgresQuery("""
            SELECT table_name::text, column_name::text FROM information_schema.columns
            WHERE table_schema = current_schema()
              AND table_name IN ('feedback_surveys', 'complaints', 'customer_preferences')
            """, name: "ArchiveLoader.probeFeedback"))
        for row in rows { columns[try row.decode(String.self, at: 0), default: []].insert(try row.decode(String.self, at: 1)) }
        var found = FeedbackSources()
        found.surveys = ["customer_id", "kind", "score", "answered_at"].allSatisfy { columns["feedback_surveys"]?.contains($0) ?? false }
        let complaints = columns["complaints"] ?? []
        let datedComplaints = ["customer_id", "received_on", "closed_at"].allSatisfy(complaints.contains)
        found.complaintsState = datedComplaints && complaints.contains("state")
        found.complaintsClosedAt = datedComplaints && !found.complaintsState
        found.preferences = ["customer_id", "marketing_opt_out_recorded", "automated_profiling_refused"]
            .allSatisfy { columns["customer_preferences"]?.contains($0) ?? false }
        if !found.surveys || !(found.complaintsClosedAt || found.complaintsState) {
            logger?.notice("feedback tables not (all) present: dissatisfied reads only what exists",
                           metadata: ["surveys": "\(found.surveys)", "complaints": "\(found.complaintsClosedAt || found.complaintsState)"])
        }
        sources.withLock { $0 = found }
        return found
    }

    private func loadFeedback(_ session: PostgresSession, customerIds: [String], businessDate: CalendarDate,
                              logger: Logger?) throws -> ([String: FeedbackSummary], [String: ConsentState]) {
        let found = try probe(session, logger: logger)
        var summaries: [String: FeedbackSummary] = [:]
        var consents: [String: ConsentState] = [:]
        let bd = PostgresDate(year: businessDate.year, month: businessDate.month, day: businessDate.day)
        if found.surveys {
            // answered_at's Shanghai day in BD−29 … BD (the policy's 30-day window is applied again by the model).
            let rows = try session.query(PostgresQuery("""
                SELECT customer_id, kind::text, score::bigint, ((answered_at AT TIME ZONE 'Asia/Shanghai')::date - DATE '1970-01-01')
                FROM feedback_surveys
                WHERE customer_id = ANY($1::text[]) AND (answered_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN $2::date - 365 AND $2::date
                """, name: "ArchiveLoader.surveys").binding(customerIds, bd))
            var answers: [String: [FeedbackSummary.SurveyAnswer]] = [:]
            for row in rows {
                guard let kind = FeedbackSummary.SurveyAnswer.Kind(rawValue: try row.decode(String.self, at: 1)) else { continue }
                answers[try row.decode(String.self, at: 0), default: []].append(FeedbackSummary.SurveyAnswer(
                    kind: kind, score: try row.decode(Int.self, at: 2), answeredOn: CalendarDate(dayNumber: try row.decode(Int.self, at: 3))))
            }
            for (id, list) in answers { summaries[id] = FeedbackSummary(surveys: list, openComplaints: 0, businessDate: businessDate, windowDays: 30) }
        }
        if found.complaintsClosedAt || found.complaintsState {
            // Open on BD: received by BD, and not closed (a closed state's closed_at day) by the end of BD.
            let stillOpen = found.complaintsState ? "state::text <> 'closed'" : "closed_at IS NULL"
            let query = PostgresQuery(unsafeSQL: """
                SELECT customer_id, count(*) FROM complaints
                WHERE customer_id = ANY($1::text[]) AND received_on <= $2::date
                  AND (\(stillOpen) OR (closed_at AT TIME ZONE 'Asia/Shanghai')::date > $2::date)
                GROUP BY customer_id
                """, name: found.complaintsState ? "ArchiveLoader.openComplaintsState" : "ArchiveLoader.openComplaintsClosedAt")
            for row in try session.query(query.binding(customerIds, bd)) {
                let id: String = try row.decode(at: 0)
                summaries[id, default: .none].openComplaints = try row.decode(Int.self, at: 1)
            }
        }
        if found.preferences {
            for row in try session.query(PostgresQuery("""
                SELECT customer_id, coalesce(marketing_opt_out_recorded, false), coalesce(automated_profiling_refused, false)
                FROM customer_preferences WHERE customer_id = ANY($1::text[])
                """, name: "ArchiveLoader.preferences").binding(customerIds)) {
                consents[try row.decode(String.self, at: 0)] = ConsentState(
                    marketingRefused: try row.decode(Bool.self, at: 1), automatedProfilingRefused: try row.decode(Bool.self, at: 2))
            }
        }
        return (summaries, consents)
    }
}

/// A `bigint[]` / `integer[]` column parsed straight from libpq's text bytes (`{1,-2,3}`): the
/// whole-book path reads millions of balances, and the generic array decoder builds a String per
/// element. NULL elements are refused.
public struct IntegerList: PostgresDecodable {
    public var values: [Int64]

    public init?(postgresCell cell: PostgresCell) {
        let b = cell.bytes
        guard b.count >= 2, b[0] == UInt8(ascii: "{"), b[b.count - 1] == UInt8(ascii: "}") else { return nil }
        var values: [Int64] = []
        values.reserveCapacity(b.count / 4)
        var i = 1
        let end = b.count - 1
        if i == end { self.values = []; return }
        while i < end {
            var negative = false
            if b[i] == UInt8(ascii: "-") { negative = true; i += 1 }
            // Every bigint, Int64.min … Int64.max (19 digits): magnitude in UInt64, overflow checked.
            var magnitude: UInt64 = 0
            var digits = 0
            while i < end, b[i] >= 48, b[i] <= 57 {
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (next, o2) = times10.addingReportingOverflow(UInt64(b[i] - 48))
                guard !o1, !o2 else { return nil }
                magnitude = next
                i += 1
                digits += 1
            }
            guard digits > 0 else { return nil }
            if negative {
                guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
                values.append(Int64(bitPattern: 0 &- magnitude))
            } else {
                guard magnitude <= UInt64(Int64.max) else { return nil }
                values.append(Int64(magnitude))
            }
            if i < end {
                guard b[i] == UInt8(ascii: ",") else { return nil }
                i += 1
            }
        }
        self.values = values
    }
}
