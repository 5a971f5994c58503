import Foundation
import TierGuardModel

/// One customer's scoring on one business date: the model's outputs, nothing added.
public struct CustomerScore: Sendable, Hashable {
    public var customerId: String
    public var catalogVersion: String
    public var assessment: TierAssessment
    public var signals: [Signal]
    public var value: CustomerValue
    public var nextBestAction: NextBestActionResult

    /// Runs the pure model (TierAssessment, SignalEvaluator, ValueModel, NextBestAction) on one
    /// customer's archive data. Both scoring paths call this, so they cannot disagree on a rule.
    ///
    /// The signals read daily AUM over BD−n … BD with n the longest look-back of the policy
    /// (`sudden_drop_lookback_days`, `outflow_days`; 7 by default), taken from the same
    /// `DailyAum` series the tier rule uses.
    public static func compute(_ input: CustomerInput, businessDate: CalendarDate, policy: ScoringPolicy,
                               catalog: ProductCatalog) -> CustomerScore {
        let daily = DailyAum(accounts: input.accounts, balances: input.balances, businessDate: businessDate)
        let assessment = TierAssessment.assess(daily: daily, policy: policy)
        let lookback = max(policy.signals.suddenDropLookbackDays, policy.signals.outflowDays)
        var dailyAUM: [CalendarDate: Fen] = [:]
        dailyAUM.reserveCapacity(lookback + 1)
        for back in 0...lookback {
            let day = businessDate.adding(days: -back)
            dailyAUM[day] = daily.aum(on: day)
        }
        let holdings = input.accounts.map { AccountHolding(account: $0, aum: assessment.accountAum[$0.accountId] ?? .zero) }
        let signals = SignalEvaluator.evaluate(
            SignalInput(businessDate: businessDate, dailyAUM: dailyAUM, holdings: holdings, transactions: input.transactions,
                        customer: input.customer, tier: assessment.tier, feedback: input.feedback),
            policy: policy)
        let value = ValueModel.evaluate(holdings: holdings, transactions: input.transactions, signals: signals,
                                        downgradeWarning: assessment.warning != nil, businessDate: businessDate, policy: policy)
        let nba = NextBestAction.recommend(
            customer: input.customer, tier: assessment.tier, holdings: holdings, signals: signals,
            downgrade: assessment.warning.map(DowngradeOutlook.init), feedback: input.feedback, consent: input.consent,
            catalog: catalog, businessDate: businessDate, policy: policy)
        return CustomerScore(customerId: input.customer.customerId, catalogVersion: catalog.version, assessment: assessment,
                             signals: signals, value: value, nextBestAction: nba)
    }

    /// The conditions this score raises as alerts: `downgrade_risk` when a downgrade is projected,
    /// and each raised signal.
    public var alertConditions: [AlertCondition] {
        var conditions: [AlertCondition] = []
        if let w = assessment.warning {
            conditions.append(AlertCondition(
                kind: "downgrade_risk", dedupKey: "downgrade_risk:\(customerId):\(w.date):\(w.toTier.code)",
                payload: .downgrade(w, tier: assessment.tier)))
        }
        for s in signals {
            conditions.append(AlertCondition(kind: s.code.rawValue, dedupKey: "\(s.code.rawValue):\(customerId)",
                                             payload: .signal(s, tier: assessment.tier)))
        }
        return conditions
    }
}

/// A condition that should have an open alert.
public struct AlertCondition: Sendable, Hashable {
    public enum Payload: Sendable, Hashable, Encodable {
        case downgrade(DowngradeWarning, tier: Tier)
        case signal(Signal, tier: Tier)

        private enum Keys: String, CodingKey { case kind, tier, warning, signal }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            switch self {
            case .downgrade(let w, let tier):
                try c.encode("downgrade_risk", forKey: .kind)
                try c.encode(tier, forKey: .tier)
                try c.encode(w, forKey: .warning)
            case .signal(let s, let tier):
                try c.encode(s.code.rawValue, forKey: .kind)
                try c.encode(tier, forKey: .tier)
                try c.encode(s, forKey: .signal)
            }
        }
    }

    public var kind: String
    /// `downgrade_risk:<customer>:<date>:<to tier>` or `<signal>:<customer>`.
    public var dedupKey: String
    public var payload: Payload
}
