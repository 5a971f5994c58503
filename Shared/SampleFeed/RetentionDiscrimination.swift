import FeedContract
import Foundation
public import TierGuardModel

/// How well the retention-risk model (`ValueModel.retentionRisk`, coefficients
/// `ScoringPolicy.RetentionModel`) ranks a generated book's leavers above its stayers: the AUC
/// (`RetentionRiskModel.auc`) over the customers of a sample feed, labelled by their scenario in
/// `scenarios.json`. `tierguard-bench auc` prints it; the README quotes it (issue 5).
///
/// Labels (the scenario is the ground truth; the model never sees it):
/// - positive — the four scenarios whose story is a customer leaving or about to move money:
///   `aum_drift_to_lower_tier` (AUM sliding below the floor), `outflow_to_competitor` (half the AUM
///   sent to another bank), `long_inactive` (no customer-initiated transaction for 65–85 days) and
///   `maturity_upcoming` (≥ 150,000 yuan of time deposit free to leave in 2–12 days);
/// - negative — the five `steady_*` scenarios (AUM well inside the tier, regular activity);
/// - excluded — every other scenario, since it is neither a leaver nor a plain stayer:
///   `birthday_this_week`, `new_high_value`, `marketing_opt_out` (steady data, but a consent case),
///   `risk_assessment_expired` and `card_spend_over_income` (compliance and credit cases, not
///   attrition). They are still scored and their mean probability reported.
///
/// What the figure means: the scenarios are built to raise the model's input signals, so the AUC
/// checks that the judgement-set coefficients turn those signals into a ranking (and that the
/// signals fire on the data), not that they predict real attrition; that needs a bank's own
/// outcomes. Each customer is scored exactly as the scorer does (`CustomerScore.compute` in
/// TierGuardStore, which this module cannot import): `DailyAum` → `TierAssessment.assess` →
/// `SignalEvaluator.evaluate` over BD−n … BD (n = the policy's longest look-back) →
/// `ValueModel.retentionRisk(signals, downgradeWarning)`, with no feedback and no consent (a feed
/// carries neither). The bench also runs `CustomerScore.compute` on the same records and
/// reports how many probabilities differ (expected 0).
public struct RetentionDiscrimination: Sendable {
    /// Leaver scenarios (label true).
    public static let positiveScenarios: [SampleScenario] = [.aumDrift, .competitorTransfer, .inactive, .maturitySoon]
    /// Stayer scenarios (label false).
    public static let negativeScenarios: [SampleScenario] = [
        .steadyStandard, .steadyGold, .steadyPlatinum, .steadyDiamond, .steadyPrivate,
    ]

    /// One customer's records from the feed, as the scorer would load them from the archive.
    public struct CustomerRecords: Sendable {
        public var customer: Customer
        public var accounts: [Account]
        public var balances: [Balance]
        public var transactions: [Transaction]
    }

    public enum Label: String, Sendable { case positive, negative, excluded }

    public struct ScenarioResult: Sendable {
        public var name: String
        public var label: Label
        public var customers: Int
        /// Mean retention-risk probability of the scenario's customers.
        public var meanProbability: Double
    }

    /// Customers in the manifest (and scored).
    public var customers: Int
    public var positives: Int
    public var negatives: Int
    public var excluded: Int
    /// AUC over the positives and negatives; NaN when either is empty.
    public var auc: Double
    /// In manifest order.
    public var scenarios: [ScenarioResult]
    /// Probability per customer id (every customer, excluded ones too).
    public var probabilities: [String: Double]

    public static func label(ofScenario name: String) -> Label {
        if positiveScenarios.contains(where: { $0.rawValue == name }) { return .positive }
        if negativeScenarios.contains(where: { $0.rawValue == name }) { return .negative }
        return .excluded
    }

    /// The scorer's retention-risk probability for one customer on `businessDate` (see the type's
    /// doc for the sequence).
    public static func probability(_ records: CustomerRecords, businessDate: CalendarDate, policy: ScoringPolicy) -> Double {
        let daily = DailyAum(accounts: records.accounts, balances: records.balances, businessDate: businessDate)
        let assessment = TierAssessment.assess(daily: daily, policy: policy)
        let lookback = max(policy.signals.suddenDropLookbackDays, policy.signals.outflowDays)
        var dailyAUM: [CalendarDate: Fen] = [:]
        for back in 0...lookback {
            let day = businessDate.adding(days: -back)
            dailyAUM[day] = daily.aum(on: day)
        }
        let holdings = records.accounts.map { AccountHolding(account: $0, aum: assessment.accountAum[$0.accountId] ?? .zero) }
        let signals = SignalEvaluator.evaluate(
            SignalInput(businessDate: businessDate, dailyAUM: dailyAUM, holdings: holdings,
                        transactions: records.transactions, customer: records.customer, tier: assessment.tier),
            policy: policy)
        return ValueModel.retentionRisk(signals: signals.map(\.code), downgradeWarning: assessment.warning != nil,
                                        model: policy.retention).probability
    }

    /// Decodes the feed in `directory` (written by `SampleFeed.write`, ndjson or CSV) with
    /// `FeedDecoder`, groups its records per customer, scores each with `score` (default:
    /// `probability(_:businessDate:policy:)`) and computes the AUC. Rejected lines are skipped;
    /// generate with `invalidPerMille: 0` so no pending or duplicate record reaches the model.
    public static func measure(
        directory: String, policy: ScoringPolicy = .builtIn,
        score: ((CustomerRecords, CalendarDate) -> Double)? = nil
    ) throws -> RetentionDiscrimination {
        let manifest = try ScenarioManifest.load(path: directory + "/scenarios.json")
        guard let businessDate = CalendarDate(manifest.businessDate) else {
            throw SampleFeedError("scenarios.json: bad business_date \(manifest.businessDate)")
        }
        var customers: [String: Customer] = [:]
        var accounts: [String: [Account]] = [:]
        var balances: [String: [Balance]] = [:]
        var transactions: [String: [Transaction]] = [:]
        for file in manifest.files {
            guard let format = FeedFormat.inferred(fromFileName: file) else { continue }
            let reader = try FeedLineReader(path: directory + "/" + file)
            try FeedDecoder.decode(reader, format: format) { item in
                switch item.record {
                case .customer(let c)?: customers[c.customerId] = c
                case .account(let a)?: accounts[a.customerId, default: []].append(a)
                case .balance(let b)?: balances[b.accountId, default: []].append(b)
                case .transaction(let t)?: transactions[t.accountId, default: []].append(t)
                case .relationshipManager?, nil: break
                }
            }
        }
        var probabilities: [String: Double] = [:]
        var scores: [Double] = [], labels: [Bool] = []
        var results: [ScenarioResult] = []
        var excluded = 0
        for scenario in manifest.scenarios {
            let label = label(ofScenario: scenario.name)
            var sum = 0.0
            for expectation in scenario.customers {
                let id = expectation.customerId
                guard let customer = customers[id] else {
                    throw SampleFeedError("customer \(id) of \(scenario.name) is not in the feed")
                }
                let own = accounts[id] ?? []
                let records = CustomerRecords(
                    customer: customer, accounts: own,
                    balances: own.flatMap { balances[$0.accountId] ?? [] },
                    transactions: own.flatMap { transactions[$0.accountId] ?? [] })
                let p = score?(records, businessDate) ?? probability(records, businessDate: businessDate, policy: policy)
                probabilities[id] = p
                sum += p
                switch label {
                case .positive: scores.append(p); labels.append(true)
                case .negative: scores.append(p); labels.append(false)
                case .excluded: excluded += 1
                }
            }
            results.append(ScenarioResult(name: scenario.name, label: label, customers: scenario.customers.count,
                                          meanProbability: scenario.customers.isEmpty ? .nan : sum / Double(scenario.customers.count)))
        }
        let positives = labels.filter { $0 }.count
        return RetentionDiscrimination(
            customers: probabilities.count, positives: positives, negatives: labels.count - positives, excluded: excluded,
            auc: RetentionRiskModel.auc(scores: scores, labels: labels), scenarios: results, probabilities: probabilities)
    }
}
