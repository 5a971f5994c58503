import TierGuardModel

/// The named scenarios of a sample feed; the raw value is the name in `scenarios.json`.
///
/// Every customer belongs to exactly one scenario. Background customers are the `steady_*` ones;
/// the others are placed at random positions among them, `max(1, customers / 500)` of each (with
/// fewer customers: one of each in the order below, as far as the customers go).
public enum SampleScenario: String, CaseIterable, Sendable {
    case steadyStandard = "steady_standard"
    case steadyGold = "steady_gold"
    case steadyPlatinum = "steady_platinum"
    case steadyDiamond = "steady_diamond"
    case steadyPrivate = "steady_private"
    case aumDrift = "aum_drift_to_lower_tier"
    case competitorTransfer = "outflow_to_competitor"
    case maturitySoon = "maturity_upcoming"
    case inactive = "long_inactive"
    case birthdaySoon = "birthday_this_week"
    case newHighValue = "new_high_value"
    case marketingOptOut = "marketing_opt_out"
    case riskAssessmentExpired = "risk_assessment_expired"
    case cardSpendOverIncome = "card_spend_over_income"

    /// What the scenario's data look like and why the scorer should react (or not).
    public var summary: String {
        switch self {
        case .steadyStandard, .steadyGold, .steadyPlatinum, .steadyDiamond, .steadyPrivate:
            "Steady customers: AUM between 1.35× the tier's floor and 0.7× the next floor (普通: 8,000–30,000 yuan), "
                + "monthly salary, card spend and repayments, living transfers; no signal and no downgrade expected."
        case .aumDrift:
            "Slow AUM drift: 1.3× the floor, then weekly transfers out bring AUM to 0.98× and down to 0.86× the floor, "
                + "so the last complete months and the projection are all below it: downgrade_risk to the next tier "
                + "down within 45 days."
        case .competitorTransfer:
            "A transfer of half the AUM to another bank two days before the business date: sudden_drop "
                + "(AUM ≤ 70% of the 7-day high ≥ 50,000 yuan) and outflow_to_competitor (≥ 30% of AUM(BD−7) and ≥ 100,000 yuan)."
        case .maturitySoon:
            "A time deposit of at least 150,000 yuan maturing 2–12 days after the business date: maturity_upcoming."
        case .inactive:
            "金卡 or above, last customer-initiated transaction 65–85 days before the business date, only interest and "
                + "fees since: inactive."
        case .birthdaySoon:
            "Birthday 1–7 days after the business date (birth_date and the resident ID agree); no signal, "
                + "a 生日关怀 task for the RM."
        case .newHighValue:
            "First balance in the business date's month (up to 10 days before it), a large transfer in from another "
                + "bank: provisional tier 钻石 from the month-to-date 月日均."
        case .marketingOptOut:
            "Steady customers with marketing_opt_out true: no products may be recommended, no SMS."
        case .riskAssessmentExpired:
            "Risk assessment 400–900 days before the business date: risk_assessment_expired."
        case .cardSpendOverIncome:
            "Card spend over the last 30 days of 2.5–3.2 months of annual_income / 12: credit_risk."
        }
    }

    static func steady(_ tier: Tier) -> SampleScenario {
        switch tier {
        case .standard: .steadyStandard
        case .gold: .steadyGold
        case .platinum: .steadyPlatinum
        case .diamond: .steadyDiamond
        case .privateBanking: .steadyPrivate
        }
    }
}
