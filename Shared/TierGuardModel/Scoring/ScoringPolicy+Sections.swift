import Foundation

extension ScoringPolicy {
    /// Thresholds of the retention and risk signals, judged on the business date (BD).
    /// Amounts are in fen; every bound is inclusive unless the name says otherwise.
    public struct SignalThresholds: Codable, Sendable, Hashable {
        /// `sudden_drop`: AUM(BD) ≤ 70% of the highest AUM over the previous 7 days …
        public var suddenDropRatioPercent: Int = 70
        /// … that high being at least 50,000 yuan.
        public var suddenDropMinHigh: Fen = Fen(yuan: 50_000)
        /// … the previous days being BD−7 … BD−1.
        public var suddenDropLookbackDays: Int = 7
        /// `outflow_to_competitor`: transfers out over BD−6 … BD (7 days) …
        public var outflowDays: Int = 7
        /// … at least 30% of AUM(BD−7) …
        public var outflowRatioPercent: Int = 30
        /// … and at least 100,000 yuan.
        public var outflowMin: Fen = Fen(yuan: 100_000)
        /// `maturity_upcoming`: a time deposit or wealth account maturing in 0 … 14 days …
        public var maturityWithinDays: Int = 14
        /// … with an AUM contribution on BD of at least 100,000 yuan.
        public var maturityMin: Fen = Fen(yuan: 100_000)
        /// `inactive`: no customer-initiated transaction for 60 days (tier 金卡 or above).
        public var inactiveDays: Int = 60
        /// `credit_risk`: card spend over BD−29 … BD (30 days) …
        public var creditSpendDays: Int = 30
        /// … strictly above 2 months of income (annual_income / 12 × 2).
        public var creditSpendIncomeMonths: Int = 2
        /// `risk_assessment_expired`: BD − risk_assessed_on > 365 days.
        public var riskAssessmentValidDays: Int = 365
        /// `dissatisfied`: a CSAT of at most 2 …
        public var dissatisfiedCsatMax: Int = 2
        /// … or an NPS of at most 6 …
        public var dissatisfiedNpsMax: Int = 6
        /// … within the last 30 days (or an open complaint).
        public var dissatisfiedWindowDays: Int = 30

        public init() {}

        enum CodingKeys: String, CodingKey {
            case suddenDropRatioPercent = "sudden_drop_ratio_percent"
            case suddenDropMinHigh = "sudden_drop_min_high_fen"
            case suddenDropLookbackDays = "sudden_drop_lookback_days"
            case outflowDays = "outflow_days"
            case outflowRatioPercent = "outflow_ratio_percent"
            case outflowMin = "outflow_min_fen"
            case maturityWithinDays = "maturity_within_days"
            case maturityMin = "maturity_min_fen"
            case inactiveDays = "inactive_days"
            case creditSpendDays = "credit_spend_days"
            case creditSpendIncomeMonths = "credit_spend_income_months"
            case riskAssessmentValidDays = "risk_assessment_valid_days"
            case dissatisfiedCsatMax = "dissatisfied_csat_max"
            case dissatisfiedNpsMax = "dissatisfied_nps_max"
            case dissatisfiedWindowDays = "dissatisfied_window_days"
        }

        func validate() -> [String] {
            var problems: [String] = []
            func percent(_ name: String, _ value: Int) {
                if !(0...100).contains(value) { problems.append("\(name) must be 0…100, got \(value)") }
            }
            func days(_ name: String, _ value: Int, _ range: ClosedRange<Int> = 1...3660) {
                if !range.contains(value) { problems.append("\(name) must be \(range.lowerBound)…\(range.upperBound), got \(value)") }
            }
            func money(_ name: String, _ value: Fen) {
                if value < .zero { problems.append("\(name) must not be negative, got \(value.value)") }
            }
            percent("sudden_drop_ratio_percent", suddenDropRatioPercent)
            money("sudden_drop_min_high_fen", suddenDropMinHigh)
            days("sudden_drop_lookback_days", suddenDropLookbackDays, 1...366)
            days("outflow_days", outflowDays, 1...366)
            percent("outflow_ratio_percent", outflowRatioPercent)
            money("outflow_min_fen", outflowMin)
            days("maturity_within_days", maturityWithinDays, 0...366)
            money("maturity_min_fen", maturityMin)
            days("inactive_days", inactiveDays)
            days("credit_spend_days", creditSpendDays, 1...366)
            if !(1...120).contains(creditSpendIncomeMonths) {
                problems.append("credit_spend_income_months must be 1…120, got \(creditSpendIncomeMonths)")
            }
            days("risk_assessment_valid_days", riskAssessmentValidDays)
            if !(0...5).contains(dissatisfiedCsatMax) { problems.append("dissatisfied_csat_max must be 0…5, got \(dissatisfiedCsatMax)") }
            if !(0...10).contains(dissatisfiedNpsMax) { problems.append("dissatisfied_nps_max must be 0…10, got \(dissatisfiedNpsMax)") }
            days("dissatisfied_window_days", dissatisfiedWindowDays, 1...366)
            return problems
        }
    }

    /// Annual margins for the contribution estimate: revenue ≈ Σ AUM(product) × bps / 10,000,
    /// plus the fees the customer paid over the last `feeIncomeDays` days.
    public struct Margins: Codable, Sendable, Hashable {
        /// Basis points a year per asset product (1 bp = 0.01%).
        public var demandDepositBasisPoints: Int = 150
        public var timeDepositBasisPoints: Int = 60
        public var wealthBasisPoints: Int = 50
        public var fundBasisPoints: Int = 80
        public var insuranceBasisPoints: Int = 120
        /// Fee income is the sum of `fee` transactions over this many days up to BD (365: a year).
        public var feeIncomeDays: Int = 365

        public init() {}

        /// Basis points a year for `product`; 0 for loans and cards, which hold no AUM.
        public func basisPoints(for product: Product) -> Int {
            switch product {
            case .demandDeposit: demandDepositBasisPoints
            case .timeDeposit: timeDepositBasisPoints
            case .wealth: wealthBasisPoints
            case .fund: fundBasisPoints
            case .insurance: insuranceBasisPoints
            case .loan, .creditCard: 0
            }
        }

        enum CodingKeys: String, CodingKey {
            case demandDepositBasisPoints = "demand_deposit_bps"
            case timeDepositBasisPoints = "time_deposit_bps"
            case wealthBasisPoints = "wealth_bps"
            case fundBasisPoints = "fund_bps"
            case insuranceBasisPoints = "insurance_bps"
            case feeIncomeDays = "fee_income_days"
        }

        func validate() -> [String] {
            var problems: [String] = []
            for product in Product.allCases where product.isAsset {
                let bps = basisPoints(for: product)
                if !(0...10_000).contains(bps) { problems.append("\(product.rawValue)_bps must be 0…10000, got \(bps)") }
            }
            if !(1...3660).contains(feeIncomeDays) { problems.append("fee_income_days must be 1…3660, got \(feeIncomeDays)") }
            return problems
        }
    }

    /// Windows of the activity (recency and frequency, RFM-style) score over customer-initiated
    /// transactions (not `interest`, not `fee`).
    public struct Activity: Codable, Sendable, Hashable {
        /// Frequency counts transactions over the last 90 days up to BD.
        public var windowDays: Int = 90
        /// That many transactions in the window (30) or more is full frequency.
        public var fullFrequencyCount: Int = 30

        public init() {}

        enum CodingKeys: String, CodingKey {
            case windowDays = "window_days"
            case fullFrequencyCount = "full_frequency_count"
        }

        func validate() -> [String] {
            var problems: [String] = []
            if !(1...3660).contains(windowDays) { problems.append("window_days must be 1…3660, got \(windowDays)") }
            if fullFrequencyCount < 1 { problems.append("full_frequency_count must be at least 1, got \(fullFrequencyCount)") }
            return problems
        }
    }

    /// Retention risk: p = 1 / (1 + e^−(intercept + Σ coefficient of each raised signal)).
    ///
    /// Probabilities are not money, so this is the one place with `Double`. A signal code with no
    /// coefficient adds 0.
    public struct RetentionModel: Codable, Sendable, Hashable {
        public var intercept: Double = -3.0
        /// Coefficient per signal code (`sudden_drop`, `downgrade_risk`, …).
        public var coefficients: [String: Double] = [
            "downgrade_risk": 1.5,
            "sudden_drop": 1.6,
            "outflow_to_competitor": 2.0,
            "maturity_upcoming": 0.8,
            "inactive": 1.0,
            "dissatisfied": 1.4,
            "credit_risk": 0.4,
            "risk_assessment_expired": 0.3,
        ]

        public init() {}

        public init(intercept: Double, coefficients: [String: Double]) {
            self.intercept = intercept
            self.coefficients = coefficients
        }

        /// intercept + Σ coefficients of the distinct `codes`, added in sorted code order: floating
        /// addition is not associative, and a `Set`'s order differs between instances, so any other
        /// order could change z in its last bit between two runs on the same data (seen: −1.8 vs
        /// −1.8000000000000003), and a stored score would then differ for no reason.
        public func linearScore(codes: some Sequence<String>) -> Double {
            Set(codes).sorted().reduce(intercept) { $0 + (coefficients[$1] ?? 0) }
        }

        /// The logistic of `linearScore(codes:)`, in 0…1.
        public func probability(codes: some Sequence<String>) -> Double {
            1 / (1 + exp(-linearScore(codes: codes)))
        }

        func validate() -> [String] {
            var problems: [String] = []
            if !intercept.isFinite { problems.append("intercept must be a finite number") }
            for (code, value) in coefficients.sorted(by: { $0.key < $1.key }) {
                if !ScoringPolicy.knownKinds.contains(code) { problems.append("coefficients: unknown signal code \(code)") }
                if !value.isFinite { problems.append("coefficients.\(code) must be a finite number") }
            }
            return problems
        }
    }
}
