/// Everything the tier rules say about one customer on one business date: the tier in force,
/// its history, the 月日均 figures, 观察期 and the downgrade early warning.
///
/// Pure and deterministic: the same accounts, balances, BD and policy always give the same
/// assessment, so a replayed history scores the same and both scoring paths can be compared.
public struct TierAssessment: Codable, Sendable, Hashable {
    public var businessDate: CalendarDate
    public var policyVersion: String
    /// The tier in force on BD (decided by the latest complete month), or the provisional tier.
    public var tier: Tier
    /// True before m_1 is complete: `tier` is that of the month-to-date 月日均, may change any
    /// day and is not in `history`.
    public var isProvisional: Bool
    /// The customer's first balance on any account, nil when it has none on or before BD.
    public var firstBalanceDate: CalendarDate?
    /// Initial tier and every change, oldest first.
    public var history: [TierChange]
    /// m_1 … m_n, oldest first.
    public var completeMonths: [MonthAum]
    /// BD's month from its 1st through BD (`days` = BD's day of month).
    public var monthToDate: MonthAum
    /// The three calendar months before BD's month, oldest first (0 and marked when before the first balance).
    public var lastThreeMonths: [MonthAum]
    /// 观察期: consecutive complete months, ending with the latest, below the floor of `tier`
    /// (0 while provisional).
    public var watchMonths: Int
    /// The earliest downgrade inside the horizon, if any.
    public var warning: DowngradeWarning?
    /// AUM(BD).
    public var aum: Fen
    /// Daily AUM over BD−7 … BD, oldest first (8 values), for the signals.
    public var recentDailyAum: [Fen]
    /// Each asset account's contribution to AUM(BD).
    public var accountAum: [String: Fen]

    /// Assesses one customer from all its accounts (any product) and their balances.
    public static func assess(accounts: [Account], balances: [Balance], businessDate: CalendarDate,
                              policy: ScoringPolicy) -> TierAssessment {
        let daily = DailyAum(accounts: accounts, balances: balances, businessDate: businessDate)
        return assess(daily: daily, policy: policy)
    }

    /// Assesses from an already built daily series.
    public static func assess(daily: DailyAum, policy: ScoringPolicy) -> TierAssessment {
        let complete = daily.completeMonths
        let (tiers, changes) = TierRule.history(completeMonths: complete, policy: policy)
        let monthToDate = daily.monthToDate
        let inForce = tiers.last
        let tier = inForce ?? policy.tier(sum: monthToDate.sum, days: monthToDate.days)
        let watch = inForce.map { TierRule.watchMonths(completeMonths: complete, floor: policy.floors[$0]) } ?? 0
        let warning = EarlyWarning.project(completeMonths: complete, tierInForce: inForce, daily: daily, policy: policy)
        return TierAssessment(
            businessDate: daily.businessDate, policyVersion: policy.version, tier: tier, isProvisional: inForce == nil,
            firstBalanceDate: daily.firstBalanceDate, history: changes, completeMonths: complete,
            monthToDate: monthToDate, lastThreeMonths: daily.lastThreeMonths, watchMonths: watch, warning: warning,
            aum: daily.aumOnBusinessDate, recentDailyAum: daily.recent(days: 8),
            accountAum: daily.accountAumOnBusinessDate)
    }

    enum CodingKeys: String, CodingKey {
        case businessDate = "business_date"
        case policyVersion = "policy_version"
        case tier
        case isProvisional = "is_provisional"
        case firstBalanceDate = "first_balance_date"
        case history
        case completeMonths = "complete_months"
        case monthToDate = "month_to_date"
        case lastThreeMonths = "last_three_months"
        case watchMonths = "watch_months"
        case warning, aum
        case recentDailyAum = "recent_daily_aum"
        case accountAum = "account_aum"
    }
}
