import Foundation
import Testing
import TierGuardModel

private typealias F = SignalFixture

@Test func contributionIsAumTimesMarginPlusFees() {
    var margins = ScoringPolicy.Margins()
    margins.demandDepositBasisPoints = 150
    margins.timeDepositBasisPoints = 60
    let holdings = [
        AccountHolding(account: F.account("D1", .demandDeposit), aum: F.yuan(600_000)),
        AccountHolding(account: F.account("D2", .demandDeposit), aum: F.yuan(400_000)),
        AccountHolding(account: F.account("TD", .timeDeposit), aum: F.yuan(500_000)),
        AccountHolding(account: F.account("LN", .loan), aum: F.yuan(9_999_999)),
        AccountHolding(account: F.account("NEG", .wealth), aum: F.yuan(-1_000)),
    ]
    let txns = [
        F.txn("F1", on: F.day(-364), F.yuan(-10), .fee),
        F.txn("F2", on: F.day(-365), F.yuan(-1_000), .fee),  // outside the 365 days
        F.txn("F3", on: F.day(0), F.yuan(2), .fee),  // refund nets off
        F.txn("F4", on: F.day(1), F.yuan(-1_000), .fee),  // after BD
        F.txn("W", on: F.day(0), F.yuan(-1_000), .withdrawal),
    ]
    let c = ValueModel.contribution(holdings: holdings, transactions: txns, businessDate: F.bd, margins: margins)
    // Demand 1,000,000.00 × 150 bp = 15,000.00; time 500,000.00 × 60 bp = 3,000.00; wealth counts 0.
    #expect(c.revenueByProduct["demand_deposit"] == F.yuan(15_000))
    #expect(c.revenueByProduct["time_deposit"] == F.yuan(3_000))
    #expect(c.revenueByProduct["wealth"] == .zero)
    #expect(c.revenueByProduct["loan"] == nil)
    #expect(c.aumRevenue == F.yuan(18_000))
    #expect(c.feeIncome == F.yuan(8))
    #expect(c.total == F.yuan(18_008))
}

@Test func revenueRoundsHalfUpToTheFen() {
    // 50 fen × 100 bp = 0.5 fen → 1; 49 fen → 0.49 fen → 0; 150 fen × 100 bp = 1.5 → 2.
    #expect(ValueModel.revenue(aum: Fen(50), basisPoints: 100) == Fen(1))
    #expect(ValueModel.revenue(aum: Fen(49), basisPoints: 100) == Fen(0))
    #expect(ValueModel.revenue(aum: Fen(150), basisPoints: 100) == Fen(2))
}

@Test func activityRecencyFrequencyMonetary() {
    let txns = [
        F.txn("T1", on: F.day(-89), F.yuan(-100), .withdrawal),
        F.txn("T2", on: F.day(-90), F.yuan(-1_000), .withdrawal),  // outside 90 days, but still the history
        F.txn("T3", on: F.day(-5), F.yuan(300), .deposit),
        F.txn("T4", on: F.day(-1), F.yuan(7), .interest),  // not customer-initiated
        F.txn("T5", on: F.day(2), F.yuan(-50), .withdrawal),  // after BD
    ]
    var policy = ScoringPolicy.Activity()
    policy.windowDays = 90
    policy.fullFrequencyCount = 4
    let a = ValueModel.activity(transactions: txns, businessDate: F.bd, policy: policy)
    #expect(a.lastActivityOn == F.day(-5))  // BD − 5: the recency is 5 days
    #expect(a.frequency == 2)
    #expect(a.monetary == F.yuan(400))
    #expect(a.frequencyScore == 0.5)
    #expect(ValueModel.activity(transactions: [], businessDate: F.bd, policy: policy).lastActivityOn == nil)
}

@Test func retentionRiskIsTheLogisticOfTheSignalCoefficients() {
    let model = ScoringPolicy.RetentionModel(intercept: -2, coefficients: ["outflow_to_competitor": 1.25, "downgrade_risk": 1.0])
    let none = ValueModel.retentionRisk(signals: [], downgradeWarning: false, model: model)
    #expect(abs(none.probability - 1 / (1 + exp(2.0))) < 1e-12)
    // −2 + 1.25 + 1.0 + 0 (inactive has no coefficient) = 0.25.
    let some = ValueModel.retentionRisk(signals: [.outflowToCompetitor, .inactive], downgradeWarning: true, model: model)
    #expect(some.codes == ["downgrade_risk", "inactive", "outflow_to_competitor"])
    #expect(abs(some.linearScore - 0.25) < 1e-12)
    #expect(abs(some.probability - 1 / (1 + exp(-0.25))) < 1e-12)
    #expect(some.probability > none.probability)
}

@Test func aucOnAHandExample() {
    // Positives 0.9 and 0.7, negatives 0.8 and 0.6: of the 4 pairs, (0.9,0.8), (0.9,0.6), (0.7,0.6)
    // are ranked right and (0.7,0.8) wrong: 3/4.
    #expect(RetentionRiskModel.auc(scores: [0.9, 0.8, 0.7, 0.6], labels: [true, false, true, false]) == 0.75)
    // A tie between a positive and a negative counts one half: pairs (0.5,0.5) = ½, (0.5,0.2) = 1 → 1.5/2.
    #expect(RetentionRiskModel.auc(scores: [0.5, 0.5, 0.2], labels: [true, false, false]) == 0.75)
    #expect(RetentionRiskModel.auc(scores: [0.1, 0.2], labels: [false, true]) == 1)
    #expect(RetentionRiskModel.auc(scores: [0.1, 0.2], labels: [true, false]) == 0)
    #expect(RetentionRiskModel.auc(scores: [0.1, 0.2], labels: [true, true]).isNaN)
}

@Test func aucMatchesPairCountingOnRandomScores() {
    var rng = SignalSplitMix64(seed: 7)
    for _ in 0..<50 {
        let n = Int(rng.next() % 30) + 2
        let scores = (0..<n).map { _ in Double(rng.next() % 10) / 10 }  // many ties
        let labels = (0..<n).map { _ in rng.next() % 2 == 0 }
        var wins = 0.0, pairs = 0.0
        for i in 0..<n where labels[i] {
            for j in 0..<n where !labels[j] {
                pairs += 1
                wins += scores[i] > scores[j] ? 1 : (scores[i] == scores[j] ? 0.5 : 0)
            }
        }
        let auc = RetentionRiskModel.auc(scores: scores, labels: labels)
        if pairs == 0 { #expect(auc.isNaN) } else { #expect(abs(auc - wins / pairs) < 1e-12) }
    }
}
