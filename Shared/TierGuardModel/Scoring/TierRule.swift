/// The tier rule, applied in order to each complete month m_k (k = 1, 2, …); a tier decided by
/// m_k takes effect on the 1st of the next month.
///
/// - k = 1: T_1 is the tier of 月日均(m_1): the initial tier, never a downgrade (a partial first
///   month counts its days before the first balance as 0).
/// - k ≥ 2: if the tier of 月日均(m_k) is above T_(k−1), upgrade to it at once. Otherwise, with g
///   the grace months of T_(k−1) (3; 6 for 私人银行), if k ≥ g and each of the last g complete
///   months m_(k−g+1) … m_k is below the floor of T_(k−1), downgrade to the tier of the best of
///   those g months (highest 月日均, compared as exact rationals; the earliest wins a tie, which
///   cannot change the tier). Otherwise T_k = T_(k−1).
///
/// The window is literally the last g complete months: it does not restart after a tier change.
/// A month is "below" a floor when its sum < floor × days.
public enum TierRule {
    /// The change that complete month `months[k − 1]` causes, given T_(k−1) (`previous`, nil for
    /// k = 1), or nil when the tier stays. `months` holds m_1 … m_k at least, each a whole month.
    public static func decide(k: Int, months: [MonthAum], previous: Tier?, policy: ScoringPolicy) -> TierChange? {
        precondition(k >= 1 && k <= months.count, "month index \(k) outside 1…\(months.count)")
        let current = months[k - 1]
        let effective = current.month.next.first
        let reached = policy.tier(sum: current.sum, days: current.days)
        guard let held = previous else {
            return TierChange(effectiveOn: effective, from: nil, to: reached, kind: .initial, decidingMonth: current.month,
                              months: [current], floor: policy.floors[reached])
        }
        if reached > held {
            return TierChange(effectiveOn: effective, from: held, to: reached, kind: .upgrade, decidingMonth: current.month,
                              months: [current], floor: policy.floors[reached])
        }
        let g = policy.graceMonths[held]
        guard k >= g else { return nil }
        let floor = policy.floors[held]
        let window = Array(months[(k - g)..<k])
        guard window.allSatisfy({ $0.isBelow(floor) }) else { return nil }
        var best = window[0]
        for month in window.dropFirst() where month.hasHigherAverage(than: best) { best = month }
        let to = policy.tier(sum: best.sum, days: best.days)
        return TierChange(effectiveOn: effective, from: held, to: to, kind: .downgrade, decidingMonth: current.month,
                          months: window, floor: floor, bestMonth: best.month)
    }

    /// Runs the rule over complete months m_1 … m_n: the tier after each (T_1 … T_n) and the
    /// history of changes, the initial tier first.
    public static func history(completeMonths months: [MonthAum], policy: ScoringPolicy) -> (tiers: [Tier], changes: [TierChange]) {
        var tiers: [Tier] = []
        var changes: [TierChange] = []
        tiers.reserveCapacity(months.count)
        for index in months.indices {
            let previous = tiers.last
            if let change = decide(k: index + 1, months: months, previous: previous, policy: policy) {
                changes.append(change)
                tiers.append(change.to)
            } else {
                tiers.append(previous!)
            }
        }
        return (tiers, changes)
    }

    /// 观察期: the number of consecutive complete months, ending with the latest, whose 月日均 is
    /// below `floor` (the floor of the tier in force on BD), counted back across earlier tier changes.
    public static func watchMonths(completeMonths months: [MonthAum], floor: Fen) -> Int {
        var count = 0
        for month in months.reversed() {
            guard month.isBelow(floor) else { break }
            count += 1
        }
        return count
    }
}
