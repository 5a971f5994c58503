import Foundation

/// The versioned scoring policy: tier floors, grace months, horizon, signal thresholds, margins
/// and the retention model.
///
/// Every score records `version`, so a figure can be recomputed by hand from the archive and
/// the policy that produced it. The built-in defaults (`ScoringPolicy.builtIn`) are the product's;
/// a JSON file (snake_case keys, amounts in fen as integers) replaces them as a whole, and
/// `load(json:)` refuses a file that `validate()` finds fault with. Every field is required in a
/// file: a misspelt key must not fall back silently to a default.
public struct ScoringPolicy: ConfigurationDocument, Sendable, Hashable {
    /// Recorded with every score (`customer_scores.policy_version`).
    public var version: String
    /// Floor of 月日均 per tier, in fen: 0 / 50,000 / 500,000 / 2,000,000 / 6,000,000 yuan.
    /// A tier's floor is reached when the month's AUM sum ≥ floor × days in the month.
    public var floors: PerTier<Fen>
    /// Complete months in a row below a tier's floor before it is lost: 3, and 6 for 私人银行.
    public var graceMonths: PerTier<Int>
    /// Days after the business date that the early warning looks ahead, last day included: 45.
    public var horizonDays: Int
    /// Thresholds of the retention and risk signals.
    public var signals: SignalThresholds
    /// The bank's own code: a transfer to any other present counterparty bank is an outflow.
    public var bankCode: String
    /// Annual margins per product, for the contribution estimate.
    public var margins: Margins
    /// Windows of the activity (RFM-style) score.
    public var activity: Activity
    /// Logistic retention-risk model over the signal codes.
    public var retention: RetentionModel
    /// Alert kinds notified at once rather than in the daily digest.
    public var urgentAlertKinds: [String]

    public init(version: String, floors: PerTier<Fen>, graceMonths: PerTier<Int>, horizonDays: Int,
                signals: SignalThresholds, bankCode: String, margins: Margins, activity: Activity,
                retention: RetentionModel, urgentAlertKinds: [String]) {
        self.version = version
        self.floors = floors
        self.graceMonths = graceMonths
        self.horizonDays = horizonDays
        self.signals = signals
        self.bankCode = bankCode
        self.margins = margins
        self.activity = activity
        self.retention = retention
        self.urgentAlertKinds = urgentAlertKinds
    }

    enum CodingKeys: String, CodingKey {
        case version
        case floors = "floors_fen"
        case graceMonths = "grace_months"
        case horizonDays = "horizon_days"
        case signals
        case bankCode = "bank_code"
        case margins
        case activity
        case retention
        case urgentAlertKinds = "urgent_alert_kinds"
    }

    /// The product's defaults.
    public static let builtIn = ScoringPolicy(
        version: "builtin-2026.1",
        floors: PerTier(
            standard: Fen(yuan: 0), gold: Fen(yuan: 50_000), platinum: Fen(yuan: 500_000),
            diamond: Fen(yuan: 2_000_000), privateBanking: Fen(yuan: 6_000_000)),
        graceMonths: PerTier(standard: 3, gold: 3, platinum: 3, diamond: 3, privateBanking: 6),
        horizonDays: 45,
        signals: SignalThresholds(),
        bankCode: "TGBK",
        margins: Margins(),
        activity: Activity(),
        retention: RetentionModel(),
        urgentAlertKinds: ["downgrade_risk", "outflow_to_competitor", "sudden_drop"])

    /// Every alert or signal kind the policy may name.
    public static let knownKinds: [String] = [
        "downgrade_risk", "sudden_drop", "outflow_to_competitor", "maturity_upcoming", "inactive",
        "dissatisfied", "credit_risk", "risk_assessment_expired",
    ]

    /// The highest tier whose floor a month's AUM `sum` over `days` days reaches
    /// (sum ≥ floor × days: exact, no rounded average).
    public func tier(sum: Int64, days: Int) -> Tier {
        precondition(days > 0, "a month has at least one day")
        var best = Tier.standard
        for tier in Tier.allCases where !Self.isBelow(sum: sum, days: days, floor: floors[tier]) {
            best = tier
        }
        return best
    }

    /// Whether a month's AUM `sum` over `days` days has an average below `floor`:
    /// `sum < floor × days`, computed without overflow.
    public static func isBelow(sum: Int64, days: Int, floor: Fen) -> Bool {
        Scoring.compareProducts(sum, 1, floor.value, Int64(days)) < 0
    }

    /// Human-readable problems, empty when the policy is usable.
    public func validate() -> [String] {
        var problems: [String] = []
        if version.trimmingCharacters(in: .whitespaces).isEmpty { problems.append("version must not be empty") }
        if floors.standard != .zero {
            problems.append("floors_fen.standard must be 0 (every customer has a tier), got \(floors.standard.value)")
        }
        for tier in Tier.allCases.dropFirst() {
            let lower = tier.below!
            if floors[tier] <= floors[lower] {
                problems.append(
                    "floors_fen.\(tier.code) (\(floors[tier].value)) must be above floors_fen.\(lower.code) (\(floors[lower].value))")
            }
        }
        // 10^15 fen (10 trillion yuan) keeps floor × 31 days and every sum comparison far inside Int64.
        for tier in Tier.allCases where floors[tier].value > 1_000_000_000_000_000 {
            problems.append("floors_fen.\(tier.code) must be at most 1000000000000000 fen, got \(floors[tier].value)")
        }
        for tier in Tier.allCases where !(1...120).contains(graceMonths[tier]) {
            problems.append("grace_months.\(tier.code) must be 1…120, got \(graceMonths[tier])")
        }
        if !(1...366).contains(horizonDays) { problems.append("horizon_days must be 1…366, got \(horizonDays)") }
        if bankCode.isEmpty { problems.append("bank_code must not be empty") }
        problems += signals.validate().map { "signals.\($0)" }
        problems += margins.validate().map { "margins.\($0)" }
        problems += activity.validate().map { "activity.\($0)" }
        problems += retention.validate().map { "retention.\($0)" }
        for kind in urgentAlertKinds where !Self.knownKinds.contains(kind) {
            problems.append("urgent_alert_kinds: unknown kind \(kind); known: \(Self.knownKinds.joined(separator: ", "))")
        }
        return problems
    }

    /// Decodes a policy file, then validates it.
    ///
    /// - Throws: `ScoringPolicyError` with `.malformed` (not JSON, a field missing or of the wrong
    ///   type) or `.invalid` (decoded, but `validate()` found problems, all listed).
    public static func load(json: Data) throws(ScoringPolicyError) -> ScoringPolicy {
        do {
            return try ConfigurationJSON.load(ScoringPolicy.self, json: json)
        } catch {
            switch error {
            case .malformed(let problems): throw ScoringPolicyError(code: .malformed, problems: problems)
            case .invalid(let problems): throw ScoringPolicyError(code: .invalid, problems: problems)
            }
        }
    }

    /// Pretty, key-sorted JSON: what `tierguardctl policy show` prints and `load(json:)` reads back.
    public func jsonData() throws -> Data {
        try ConfigurationJSON.prettyData(self)
    }
}

/// Why a policy file was refused.
public struct ScoringPolicyError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// Not JSON, or a field missing or of the wrong type.
        case malformed
        /// Well-formed but fails `ScoringPolicy.validate()`.
        case invalid
    }

    public var code: Code
    /// Each problem, naming the field.
    public var problems: [String]

    public init(code: Code, problems: [String]) {
        self.code = code
        self.problems = problems
    }

    public var description: String {
        let what = code == .malformed ? "policy file is not a valid policy document" : "policy file has invalid values"
        return "\(what): " + problems.joined(separator: "; ") + ". Fix the file and check it with `tierguardctl policy check FILE`."
    }

    static func describe(_ error: DecodingError) -> String { ConfigurationJSON.describe(error) }
}
