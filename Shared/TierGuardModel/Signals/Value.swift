import Foundation

/// What a customer is worth to the bank and how likely it is to leave: contribution, activity and
/// retention risk, judged on the business date (BD).
public struct CustomerValue: Codable, Sendable, Hashable {
    public var contribution: Contribution
    public var activity: Activity
    public var retention: RetentionRisk

    public init(contribution: Contribution, activity: Activity, retention: RetentionRisk) {
        self.contribution = contribution
        self.activity = activity
        self.retention = retention
    }

    /// Estimated annual revenue in fen.
    ///
    /// AUM revenue of a product = ⌊(AUM on BD of its accounts × margin bps + 5,000) / 10,000⌋, i.e.
    /// rounded half up to the fen, each product on its own (so each line can be checked by hand);
    /// `aumRevenue` is the sum of those lines. A negative AUM contribution counts as 0; loans and
    /// cards hold no AUM. Fee income = Σ −amount of `fee` transactions over the policy's
    /// `fee_income_days` (365) days BD−364 … BD (a refunded fee, positive, nets off).
    /// `total` = `aumRevenue` + `feeIncome`.
    public struct Contribution: Codable, Sendable, Hashable {
        /// AUM on BD per asset product (`Product.rawValue`), only products held.
        public var aumByProduct: [String: Fen]
        /// Revenue per asset product, rounded as above.
        public var revenueByProduct: [String: Fen]
        public var aumRevenue: Fen
        public var feeIncome: Fen
        public var total: Fen

        enum CodingKeys: String, CodingKey {
            case aumByProduct = "aum_by_product", revenueByProduct = "revenue_by_product"
            case aumRevenue = "aum_revenue", feeIncome = "fee_income", total
        }
    }

    /// RFM-style activity over customer-initiated transactions (not `interest`, not `fee`), up to BD.
    ///
    /// - recency: the Shanghai day of the last such transaction, `last_activity_on` (nil when there never
    ///   was one); the days since it are BD − that day. A date rather than the count, so the document
    ///   does not change every day while nothing happens (`SignalEvaluator`: no day counts from BD).
    /// - frequency: how many there were in the policy's activity window (90 days, BD−89 … BD).
    /// - monetary: Σ |amount| of those, in fen (turnover, both directions).
    /// - frequencyScore: min(1, frequency / `full_frequency_count` (30)).
    public struct Activity: Codable, Sendable, Hashable {
        public var lastActivityOn: CalendarDate?
        public var frequency: Int
        public var monetary: Fen
        public var frequencyScore: Double

        enum CodingKeys: String, CodingKey {
            case lastActivityOn = "last_activity_on", frequency, monetary, frequencyScore = "frequency_score"
        }
    }

    /// The retention-risk probability and the terms it was computed from.
    public struct RetentionRisk: Codable, Sendable, Hashable {
        /// Codes that entered the model: the raised signals, plus `downgrade_risk` when a downgrade
        /// early warning is raised; sorted.
        public var codes: [String]
        /// intercept + Σ coefficient of each code.
        public var linearScore: Double
        /// 1 / (1 + e^−linearScore).
        public var probability: Double

        enum CodingKeys: String, CodingKey { case codes, linearScore = "linear_score", probability }
    }
}

/// Pure computation of `CustomerValue`.
public enum ValueModel {
    /// Contribution on BD from the holdings' AUM and the fee transactions (see `CustomerValue.Contribution`).
    public static func contribution(holdings: [AccountHolding], transactions: [Transaction], businessDate: CalendarDate,
                                    margins: ScoringPolicy.Margins) -> CustomerValue.Contribution {
        var aumByProduct: [Product: Fen] = [:]
        for holding in holdings where holding.account.product.isAsset {
            aumByProduct[holding.account.product, default: .zero] += max(.zero, holding.aum)
        }
        var revenueByProduct: [String: Fen] = [:]
        var aumRevenue = Fen.zero
        for (product, aum) in aumByProduct {
            let revenue = revenue(aum: aum, basisPoints: margins.basisPoints(for: product))
            revenueByProduct[product.rawValue] = revenue
            aumRevenue += revenue
        }
        let from = businessDate.adding(days: -(margins.feeIncomeDays - 1))
        var fees = Fen.zero
        for txn in transactions where txn.category == .fee {
            let day = txn.bookedOnShanghai
            if day >= from && day <= businessDate { fees -= txn.amount }
        }
        return CustomerValue.Contribution(
            aumByProduct: Dictionary(uniqueKeysWithValues: aumByProduct.map { ($0.key.rawValue, $0.value) }),
            revenueByProduct: revenueByProduct, aumRevenue: aumRevenue, feeIncome: fees, total: aumRevenue + fees)
    }

    /// ⌊(aum × bps + 5,000) / 10,000⌋ for aum ≥ 0: a year's margin rounded half up to the fen.
    public static func revenue(aum: Fen, basisPoints: Int) -> Fen {
        let scaled = Int128(max(0, aum.value)) * Int128(basisPoints) + 5_000
        return Fen(Int64(clamping: scaled / 10_000))
    }

    /// Activity on BD (see `CustomerValue.Activity`).
    public static func activity(transactions: [Transaction], businessDate: CalendarDate,
                                policy: ScoringPolicy.Activity) -> CustomerValue.Activity {
        let from = businessDate.adding(days: -(policy.windowDays - 1))
        var last: CalendarDate?
        var frequency = 0
        var monetary: Int64 = 0
        for txn in transactions where txn.category.isCustomerInitiated {
            let day = txn.bookedOnShanghai
            guard day <= businessDate else { continue }
            if last == nil || day > last! { last = day }
            if day >= from {
                frequency += 1
                monetary = monetary.addingReportingOverflow(Int64(clamping: txn.amount.value.magnitude)).partialValue
            }
        }
        return CustomerValue.Activity(
            lastActivityOn: last, frequency: frequency, monetary: Fen(monetary),
            frequencyScore: min(1, Double(frequency) / Double(max(1, policy.fullFrequencyCount))))
    }

    /// Retention risk from the raised signals and whether a downgrade early warning is raised
    /// (model and coefficients: `ScoringPolicy.RetentionModel`).
    ///
    /// The model: p = 1 / (1 + e^−z), z = intercept + Σ_i coefficient_i × x_i, where x_i = 1 when
    /// signal i (or `downgrade_risk`) is present and 0 otherwise; a code without a coefficient adds 0.
    /// With the built-in policy a customer with no signal scores 1/(1+e³) ≈ 4.7%, and an
    /// `outflow_to_competitor` alone 1/(1+e¹) ≈ 26.9%. The coefficients are set by judgement, not
    /// fitted: the README reports their discrimination (AUC, `RetentionRiskModel.auc`) on the
    /// generator's scenarios, so a bank can see whether they rank leavers above stayers.
    public static func retentionRisk(signals: [SignalCode], downgradeWarning: Bool,
                                     model: ScoringPolicy.RetentionModel) -> CustomerValue.RetentionRisk {
        var codes = Set(signals.map(\.rawValue))
        if downgradeWarning { codes.insert("downgrade_risk") }
        let sorted = codes.sorted()
        let z = model.linearScore(codes: sorted)
        return CustomerValue.RetentionRisk(codes: sorted, linearScore: z, probability: 1 / (1 + exp(-z)))
    }

    /// All three parts at once.
    public static func evaluate(holdings: [AccountHolding], transactions: [Transaction], signals: [Signal],
                                downgradeWarning: Bool, businessDate: CalendarDate, policy: ScoringPolicy) -> CustomerValue {
        CustomerValue(
            contribution: contribution(holdings: holdings, transactions: transactions, businessDate: businessDate, margins: policy.margins),
            activity: activity(transactions: transactions, businessDate: businessDate, policy: policy.activity),
            retention: retentionRisk(signals: signals.map(\.code), downgradeWarning: downgradeWarning, model: policy.retention))
    }
}

/// How well a score ranks positives above negatives.
public enum RetentionRiskModel {
    /// The area under the ROC curve, by the Mann–Whitney U statistic: the share of (positive,
    /// negative) pairs where the positive scores higher, a tie counting one half. Computed from
    /// mid-ranks in O(n log n). 0.5 is chance, 1 is perfect. NaN when there is no positive or no
    /// negative (the figure is undefined, not 0.5).
    public static func auc(scores: [Double], labels: [Bool]) -> Double {
        precondition(scores.count == labels.count, "one label per score")
        let positives = labels.reduce(0) { $0 + ($1 ? 1 : 0) }
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return .nan }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSumPositives = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count, scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let midRank = Double(i + j) / 2 + 1  // ranks are 1-based
            for k in i...j where labels[order[k]] { rankSumPositives += midRank }
            i = j + 1
        }
        let p = Double(positives), n = Double(negatives)
        return (rankSumPositives - p * (p + 1) / 2) / (p * n)
    }
}
