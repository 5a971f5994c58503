/// A customer's daily AUM from the first day of the month of its first balance through the
/// business date (BD).
///
/// Daily AUM on day d is the sum, over the customer's asset accounts (`Product.isAsset`: never a
/// loan or credit card), of each account's latest balance on or before d, where
/// - an account counts 0 before its first balance and from its `closed_on` (on `closed_on` itself it is 0),
/// - a negative balance counts 0,
/// - `opened_on` plays no part: only balances do.
///
/// The customer's months start with the month of its first balance on ANY of its accounts,
/// loans and cards included, whatever the amount; the days of that month before the first balance
/// count 0. Balances after BD, and balances of accounts not in `accounts`, are ignored; two
/// balances of one account on one day: the later in the input wins.
///
/// Built in one sweep: each balance opens a constant segment that runs until the account's next
/// balance or its `closed_on`, added to a difference array, so the cost is
/// O(balances log balances + days) whatever the number of accounts.
public struct DailyAum: Sendable, Hashable {
    public let businessDate: CalendarDate
    /// The customer's first balance on or before BD, any account; nil when there is none.
    public let firstBalanceDate: CalendarDate?
    /// The first day of the month of `firstBalanceDate`: day 0 of `values`.
    public let start: CalendarDate?
    /// Daily AUM in fen from `start` through `businessDate`; empty when `start` is nil.
    public let values: [Int64]
    /// Each asset account's contribution to AUM(BD), by account id (0 for a closed account,
    /// a negative balance or no balance yet).
    public let accountAumOnBusinessDate: [String: Fen]

    public init(accounts: [Account], balances: [Balance], businessDate: CalendarDate) {
        self.businessDate = businessDate
        var indexOf: [String: Int] = [:]
        indexOf.reserveCapacity(accounts.count)
        for (i, account) in accounts.enumerated() { indexOf[account.accountId] = i }

        // Group the balances up to BD by account, keeping input order for ties.
        var perAccount = [[(day: Int, order: Int, value: Int64)]](repeating: [], count: accounts.count)
        var first: Int? = nil
        let bdNumber = businessDate.dayNumber
        // Balances usually come grouped by account: reuse the last lookup rather than hash every id.
        var lastId: String? = nil
        var lastIndex: Int? = nil
        for (order, balance) in balances.enumerated() {
            if balance.accountId != lastId {
                lastId = balance.accountId
                lastIndex = indexOf[balance.accountId]
            }
            guard let i = lastIndex else { continue }
            let day = balance.asOf.dayNumber
            guard day <= bdNumber else { continue }
            if first.map({ day < $0 }) ?? true { first = day }
            if accounts[i].product.isAsset { perAccount[i].append((day, order, balance.balance.value)) }
        }

        var onBD: [String: Fen] = [:]
        for account in accounts where account.product.isAsset { onBD[account.accountId] = .zero }
        guard let firstDay = first else {
            firstBalanceDate = nil
            start = nil
            values = []
            accountAumOnBusinessDate = onBD
            return
        }
        let firstDate = CalendarDate(dayNumber: firstDay)
        let startDate = firstDate.firstOfMonth
        let startNumber = startDate.dayNumber
        let count = bdNumber - startNumber + 1
        var diff = [Int64](repeating: 0, count: count + 1)

        for (i, var list) in perAccount.enumerated() where !list.isEmpty {
            if !zip(list, list.dropFirst()).allSatisfy({ $0.day <= $1.day }) {
                list.sort { ($0.day, $0.order) < ($1.day, $1.order) }
            }
            let closed = accounts[i].closedOn.map { $0.dayNumber } ?? Int.max
            var last: Int64 = 0
            for j in list.indices {
                let (day, _, raw) = list[j]
                if j + 1 < list.count, list[j + 1].day == day { continue }  // a later balance of the same day wins
                let nextDay = j + 1 < list.count ? list[j + 1].day : bdNumber + 1
                let end = min(nextDay, closed)
                let value = max(raw, 0)
                if j + 1 == list.count { last = bdNumber < closed ? value : 0 }
                guard day < end, value > 0 else { continue }
                diff[day - startNumber] += value
                diff[end - startNumber] -= value
            }
            onBD[accounts[i].accountId] = Fen(last)
        }

        var daily = [Int64](repeating: 0, count: count)
        var running: Int64 = 0
        for k in 0..<count {
            running += diff[k]
            daily[k] = running
        }
        firstBalanceDate = firstDate
        start = startDate
        values = daily
        accountAumOnBusinessDate = onBD
    }

    /// AUM on `day`: 0 before `start`; days after BD are not known (0 here: the projection is
    /// the early warning's business).
    public func aum(on day: CalendarDate) -> Fen {
        guard let start else { return .zero }
        let k = day.dayNumber - start.dayNumber
        return values.indices.contains(k) ? Fen(values[k]) : .zero
    }

    /// AUM(BD).
    public var aumOnBusinessDate: Fen { aum(on: businessDate) }

    /// Σ daily AUM over `from … through` (inclusive), days outside the known range counting 0.
    public func sum(from: CalendarDate, through: CalendarDate) -> Int64 {
        guard let start, from <= through else { return 0 }
        let lo = max(from.dayNumber - start.dayNumber, 0)
        let hi = min(through.dayNumber - start.dayNumber, values.count - 1)
        guard lo <= hi else { return 0 }
        var total: Int64 = 0
        for k in lo...hi { total += values[k] }
        return total
    }

    /// The month of the first balance (m_1's month), nil without a balance.
    public var firstMonth: YearMonth? { start?.yearMonth }

    /// The complete months m_1 … m_n: every month from the first balance's month whose last day
    /// is before BD, each summed over all its days.
    public var completeMonths: [MonthAum] {
        guard let start else { return [] }
        var months: [MonthAum] = []
        var ym = start.yearMonth
        var offset = 0
        while ym.last < businessDate {
            var total: Int64 = 0
            for k in offset..<(offset + ym.days) { total += values[k] }
            months.append(MonthAum(month: ym, sum: total, days: ym.days))
            offset += ym.days
            ym = ym.next
        }
        return months
    }

    /// Month-to-date: BD's month from its 1st through BD, divided by those days (1 on the 1st);
    /// days before the first balance count 0.
    public var monthToDate: MonthAum {
        let first = businessDate.firstOfMonth
        return MonthAum(month: businessDate.yearMonth, sum: sum(from: first, through: businessDate),
                        days: businessDate.day, isBeforeFirstBalance: start.map { businessDate.yearMonth < $0.yearMonth } ?? true)
    }

    /// A whole calendar month's figures (complete months only make sense here); a month wholly
    /// before the first balance's month is 0 and marked so.
    public func month(_ ym: YearMonth) -> MonthAum {
        let before = start.map { ym < $0.yearMonth } ?? true
        return MonthAum(month: ym, sum: before ? 0 : sum(from: ym.first, through: ym.last), days: ym.days,
                        isBeforeFirstBalance: before)
    }

    /// The three calendar months before BD's month, oldest first, even before the first balance.
    public var lastThreeMonths: [MonthAum] {
        let current = businessDate.yearMonth
        return [current.previous.previous.previous, current.previous.previous, current.previous].map(month)
    }

    /// Daily AUM over BD−(count−1) … BD, oldest first (the signals read BD−7 … BD).
    public func recent(days count: Int) -> [Fen] {
        (0..<count).map { aum(on: businessDate.adding(days: $0 - count + 1)) }
    }
}
