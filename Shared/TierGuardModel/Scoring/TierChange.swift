/// One entry of a customer's tier history: a tier taking effect on the 1st of a month, and why.
public struct TierChange: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, Hashable {
        /// m_1 completed: the first tier, never a downgrade.
        case initial
        /// The deciding month's 月日均 reached a higher tier's floor.
        case upgrade
        /// Each of the last g complete months was below the floor of the tier held.
        case downgrade
    }

    /// The 1st of the month after the deciding month.
    public var effectiveOn: CalendarDate
    /// The tier held before; nil for `initial`.
    public var from: Tier?
    public var to: Tier
    public var kind: Kind
    /// m_k, the month whose completion decided the change.
    public var decidingMonth: YearMonth
    /// The months behind the decision: m_k for `initial` and `upgrade`, the g months of the
    /// grace window (oldest first) for `downgrade`.
    public var months: [MonthAum]
    /// The floor compared: the floor `to` reached for `initial` and `upgrade`, the floor of
    /// `from` that every month of the window missed for `downgrade`.
    public var floor: Fen
    /// For `downgrade`: the window month with the highest 月日均, whose tier is `to`.
    public var bestMonth: YearMonth?

    public init(effectiveOn: CalendarDate, from: Tier?, to: Tier, kind: Kind, decidingMonth: YearMonth,
                months: [MonthAum], floor: Fen, bestMonth: YearMonth? = nil) {
        self.effectiveOn = effectiveOn
        self.from = from
        self.to = to
        self.kind = kind
        self.decidingMonth = decidingMonth
        self.months = months
        self.floor = floor
        self.bestMonth = bestMonth
    }

    /// The reason in words with its figures, e.g. `downgrade 白金→金卡: 2025-01, 2025-02, 2025-03 each
    /// below 500000.00; best 2025-02 月日均 412345.67`. Averages are rounded down to the fen for reading.
    public var reason: String {
        let figures = months.map { "\($0.month) 月日均 \($0.average) (sum \($0.sum) / \($0.days) days)" }
            .joined(separator: ", ")
        switch kind {
        case .initial:
            return "initial \(to.chineseName): \(figures) reaches floor \(floor)"
        case .upgrade:
            return "upgrade \(from?.chineseName ?? "-")→\(to.chineseName): \(figures) reaches floor \(floor)"
        case .downgrade:
            let best = bestMonth.map { " best \($0)" } ?? ""
            return "downgrade \(from?.chineseName ?? "-")→\(to.chineseName): \(figures) each below floor \(floor);\(best)"
        }
    }

    enum CodingKeys: String, CodingKey {
        case effectiveOn = "effective_on"
        case from, to, kind
        case decidingMonth = "deciding_month"
        case months, floor
        case bestMonth = "best_month"
    }
}
