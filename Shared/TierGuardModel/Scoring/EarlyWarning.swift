/// A downgrade the projection says will happen inside the horizon, and what would stop it.
public struct DowngradeWarning: Codable, Sendable, Hashable {
    /// The 1st of the month the downgrade would take effect: BD < date ≤ BD + horizon.
    public var date: CalendarDate
    public var fromTier: Tier
    public var toTier: Tier
    /// The floor at risk: that of `fromTier` (T_(k−1)), which every window month misses.
    public var floor: Fen
    /// The smallest one-off deposit, made on BD + 1 and held, that stops this downgrade, in fen
    /// rounded up; nil when no window month has a projected day left (BD is the last day of the
    /// deciding month: no deposit can stop it any more).
    public var gap: Fen?
    /// The window month whose shortfall gives `gap`.
    public var gapMonth: YearMonth?
    /// The extra average daily balance BD's month needs to reach `floor`:
    /// max(0, ⌈(floor × days_in_month − projected_sum) / days_in_month⌉). Reported even when `gap` is nil.
    public var extraDailyAverageNeeded: Fen
    /// The g months of the deciding window, oldest first, with their known and projected parts.
    public var window: [MonthAum]
    /// The window month with the highest 月日均, whose tier is `toTier`.
    public var bestMonth: YearMonth

    enum CodingKeys: String, CodingKey {
        case date
        case fromTier = "from_tier"
        case toTier = "to_tier"
        case floor, gap
        case gapMonth = "gap_month"
        case extraDailyAverageNeeded = "extra_daily_average_needed"
        case window
        case bestMonth = "best_month"
    }
}

/// The downgrade early warning (防降级预警).
///
/// Every day after BD up to BD + horizon (45 days, last day included) is projected at AUM(BD),
/// even when an account matures or closes inside the horizon, and the tier rule runs forward over
/// the months that complete by then. The earliest first-of-month F with BD < F ≤ BD + horizon on
/// which a downgrade would take effect is reported; upgrades raise nothing. On the last day of a
/// month, the change that month causes is reported here with `gap` nil: it enters the history the
/// next day.
///
/// Gap, in fen: for each month of the deciding window that still has projected days,
/// ⌈(floor × days_in_month − known_sum) / projected_days⌉ − AUM(BD) — the constant extra balance
/// over that month's projected days that lifts it to the floor, which breaks "each month below";
/// the smallest of these.
public enum EarlyWarning {
    /// - Parameters:
    ///   - completeMonths: m_1 … m_n as known on BD (whole months, last day before BD).
    ///   - tierInForce: T_n, nil while provisional (no complete month).
    ///   - daily: the customer's known daily AUM.
    public static func project(completeMonths: [MonthAum], tierInForce: Tier?, daily: DailyAum,
                               policy: ScoringPolicy) -> DowngradeWarning? {
        guard let start = daily.start else { return nil }
        let bd = daily.businessDate
        let aum = daily.aumOnBusinessDate.value
        let horizonEnd = bd.adding(days: policy.horizonDays)

        var months = completeMonths
        var tier = tierInForce
        var ym = bd.yearMonth
        // Month ym decides on F = ym.last + 1; it is inside the horizon when F ≤ BD + horizon.
        while ym.last < horizonEnd {
            // Only BD's month has known days (from its 1st through BD); later months are all projected.
            let knownDays = ym == bd.yearMonth ? bd.day : 0
            let known = knownDays > 0 && ym >= start.yearMonth ? daily.sum(from: ym.first, through: bd) : 0
            let projectedDays = ym.days - knownDays
            let projectedSum = Int64(projectedDays) * aum
            months.append(MonthAum(month: ym, sum: known + projectedSum, days: ym.days,
                                   projectedDays: projectedDays, projectedSum: projectedSum))
            let k = months.count
            if let change = TierRule.decide(k: k, months: months, previous: tier, policy: policy) {
                if change.kind == .downgrade, let from = change.from {
                    return warning(for: change, from: from, months: months, aum: aum, businessDate: bd)
                }
                tier = change.to
            }
            ym = ym.next
        }
        return nil
    }

    static func warning(for change: TierChange, from: Tier, months: [MonthAum], aum: Int64,
                        businessDate bd: CalendarDate) -> DowngradeWarning {
        let floor = change.floor.value
        var gap: Int64? = nil
        var gapMonth: YearMonth? = nil
        for month in change.months where month.projectedDays > 0 {
            let needed = Scoring.ceilDivide(floor * Int64(month.days) - month.knownSum, Int64(month.projectedDays)) - aum
            if gap.map({ needed < $0 }) ?? true {
                gap = needed
                gapMonth = month.month
            }
        }
        let current = months.first { $0.month == bd.yearMonth }!
        let days = Int64(current.days)
        let extra = max(0, Scoring.ceilDivide(floor * days - current.sum, days))
        return DowngradeWarning(date: change.effectiveOn, fromTier: from, toTier: change.to, floor: change.floor,
                                gap: gap.map { Fen($0) }, gapMonth: gapMonth, extraDailyAverageNeeded: Fen(extra),
                                window: change.months, bestMonth: change.bestMonth!)
    }
}
