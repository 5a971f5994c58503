/// What the customer has told the bank about marketing and automated decisions, beyond the feed.
///
/// PIPL art. 24: a recorded refusal of personalised marketing stays until the customer consents
/// again, whatever a later feed says (the stricter of the feed's `marketing_opt_out` and this
/// applies); a refusal of automated profiling excludes the customer from product recommendations
/// while keeping service actions.
public struct ConsentState: Codable, Sendable, Hashable {
    /// A refusal of personalised marketing recorded by the feedback service.
    public var marketingRefused: Bool
    /// A refusal of automated profiling (自动化决策) recorded from any channel.
    public var automatedProfilingRefused: Bool

    public init(marketingRefused: Bool = false, automatedProfilingRefused: Bool = false) {
        self.marketingRefused = marketingRefused
        self.automatedProfilingRefused = automatedProfilingRefused
    }

    public static let none = ConsentState()

    enum CodingKeys: String, CodingKey {
        case marketingRefused = "marketing_refused", automatedProfilingRefused = "automated_profiling_refused"
    }
}

/// One suitability decision (适当性管理), logged with the levels compared.
public struct SuitabilityDecision: Codable, Sendable, Hashable {
    /// Why the product was allowed or refused; the first rule that refuses wins, in this order.
    public enum Reason: String, Codable, Sendable, CaseIterable {
        /// Refused: `marketing_opt_out` in the feed or a recorded refusal of marketing.
        case marketingOptOut = "marketing_opt_out"
        /// Refused: a recorded refusal of automated profiling.
        case automatedProfilingRefused = "automated_profiling_refused"
        /// Refused: an open complaint suppresses product recommendations until it is closed.
        case openComplaint = "open_complaint"
        /// Refused: the risk assessment is older than the policy's 365 days and the product is above R1.
        case assessmentExpired = "assessment_expired"
        /// Refused: the product's R-number is above the customer's C-number.
        case productRiskAboveCustomer = "product_risk_above_customer"
        /// Allowed: an expired assessment, and the product is R1.
        case allowedR1WithExpiredAssessment = "allowed_r1_expired_assessment"
        /// Allowed: R-number ≤ C-number with a current assessment.
        case allowedWithinRiskLevel = "allowed_within_risk_level"
    }

    public var productCode: String
    public var allowed: Bool
    public var customerLevel: RiskLevel
    public var productLevel: ProductRisk
    public var assessmentExpired: Bool
    public var reason: Reason

    public init(productCode: String, allowed: Bool, customerLevel: RiskLevel, productLevel: ProductRisk,
                assessmentExpired: Bool, reason: Reason) {
        self.productCode = productCode
        self.allowed = allowed
        self.customerLevel = customerLevel
        self.productLevel = productLevel
        self.assessmentExpired = assessmentExpired
        self.reason = reason
    }

    /// For a log line: `WM-STEADY-90 R2 vs C3 allowed (allowed_within_risk_level)`.
    public var summary: String {
        "\(productCode) \(productLevel.code) vs \(customerLevel.code) \(allowed ? "allowed" : "refused") (\(reason.rawValue))"
    }

    enum CodingKeys: String, CodingKey {
        case productCode = "product_code", allowed, customerLevel = "customer_level", productLevel = "product_level"
        case assessmentExpired = "assessment_expired", reason
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        productCode = try c.decode(String.self, forKey: .productCode)
        allowed = try c.decode(Bool.self, forKey: .allowed)
        let customer = try c.decode(String.self, forKey: .customerLevel)
        let product = try c.decode(String.self, forKey: .productLevel)
        guard let customerLevel = RiskLevel(code: customer) else {
            throw DecodingError.dataCorruptedError(forKey: .customerLevel, in: c, debugDescription: "expected C1…C5, got \(customer)")
        }
        guard let productLevel = ProductRisk(code: product) else {
            throw DecodingError.dataCorruptedError(forKey: .productLevel, in: c, debugDescription: "expected R1…R5, got \(product)")
        }
        self.customerLevel = customerLevel
        self.productLevel = productLevel
        assessmentExpired = try c.decode(Bool.self, forKey: .assessmentExpired)
        reason = try c.decode(Reason.self, forKey: .reason)
    }

    /// Levels as their codes (`"C3"`, `"R2"`), as a compliance reviewer reads them.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(productCode, forKey: .productCode)
        try c.encode(allowed, forKey: .allowed)
        try c.encode(customerLevel.code, forKey: .customerLevel)
        try c.encode(productLevel.code, forKey: .productLevel)
        try c.encode(assessmentExpired, forKey: .assessmentExpired)
        try c.encode(reason, forKey: .reason)
    }
}

/// 适当性管理: whether a product may be recommended to a customer at all.
///
/// The rules, checked in this order (the first refusal is the reason):
/// 1. opt-out — the feed's `marketing_opt_out` or a recorded refusal of marketing — means no
///    product at all, not even R1 (PIPL art. 24);
/// 2. a recorded refusal of automated profiling, the same;
/// 3. an open complaint suppresses every product until it is closed (service actions only);
/// 4. an expired assessment (BD − risk_assessed_on > `risk_assessment_valid_days`, 365) allows R1 only;
/// 5. otherwise the product's R-number must not exceed the customer's C-number.
///
/// Tier eligibility and the minimum amount are not suitability: `NextBestAction` checks them.
public enum Suitability {
    public static func decide(customer: Customer, product: CatalogProduct, businessDate: CalendarDate,
                              policy: ScoringPolicy, consent: ConsentState = .none, openComplaints: Int = 0) -> SuitabilityDecision {
        let expired = customer.riskAssessedOn.days(until: businessDate) > policy.signals.riskAssessmentValidDays
        func decision(_ allowed: Bool, _ reason: SuitabilityDecision.Reason) -> SuitabilityDecision {
            SuitabilityDecision(productCode: product.code, allowed: allowed, customerLevel: customer.riskLevel,
                                productLevel: product.risk, assessmentExpired: expired, reason: reason)
        }
        if customer.marketingOptOut || consent.marketingRefused { return decision(false, .marketingOptOut) }
        if consent.automatedProfilingRefused { return decision(false, .automatedProfilingRefused) }
        if openComplaints > 0 { return decision(false, .openComplaint) }
        if expired {
            return product.risk == .r1 ? decision(true, .allowedR1WithExpiredAssessment) : decision(false, .assessmentExpired)
        }
        return product.risk.rawValue <= customer.riskLevel.rawValue
            ? decision(true, .allowedWithinRiskLevel) : decision(false, .productRiskAboveCustomer)
    }
}
