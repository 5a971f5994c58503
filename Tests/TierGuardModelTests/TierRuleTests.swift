import Testing
import TierGuardModel

private typealias F = TierFixture
private let policy = ScoringPolicy.builtIn
private let jan2025 = YearMonth(year: 2025, month: 1)

@Test func firstCompleteMonthSetsTheInitialTier() {
    // m_1 = 2025-01 at 600,000 yuan: platinum (floor 500,000), effective 2025-02-01.
    let (tiers, changes) = TierRule.history(completeMonths: F.months(from: jan2025, averagesYuan: [600_000]), policy: policy)
    #expect(tiers == [.platinum])
    #expect(changes.count == 1)
    #expect(changes[0].kind == .initial)
    #expect(changes[0].from == nil && changes[0].to == .platinum)
    #expect(changes[0].effectiveOn == F.day("2025-02-01"))
    #expect(changes[0].floor == Fen(yuan: 500_000))
}

@Test func aLowFirstMonthIsAnInitialTierNotADowngrade() {
    let (tiers, changes) = TierRule.history(completeMonths: F.months(from: jan2025, averagesYuan: [10]), policy: policy)
    #expect(tiers == [.standard])
    #expect(changes.map(\.kind) == [.initial])
}

@Test func upgradeHappensAtOnceOnReachingAFloorExactly() {
    // Gold in January; February at exactly 2,000,000 yuan reaches diamond: effective 2025-03-01.
    let (tiers, changes) = TierRule.history(
        completeMonths: F.months(from: jan2025, averagesYuan: [60_000, 2_000_000]), policy: policy)
    #expect(tiers == [.gold, .diamond])
    #expect(changes.last?.kind == .upgrade)
    #expect(changes.last?.from == .gold && changes.last?.to == .diamond)
    #expect(changes.last?.effectiveOn == F.day("2025-03-01"))
}

@Test func downgradeWaitsForThreeCompleteMonthsBelowTheFloor() {
    // Platinum from January (600,000); Feb, Mar, Apr at 400,000 (< 500,000).
    // k=2 (Feb): k < g=3; k=3 (Mar): window Jan–Mar, Jan not below; k=4 (Apr): Feb–Apr all below.
    let months = F.months(from: jan2025, averagesYuan: [600_000, 400_000, 400_000, 400_000])
    let (tiers, changes) = TierRule.history(completeMonths: months, policy: policy)
    #expect(tiers == [.platinum, .platinum, .platinum, .gold])
    let downgrade = changes.last!
    #expect(downgrade.kind == .downgrade)
    #expect(downgrade.from == .platinum && downgrade.to == .gold)
    #expect(downgrade.effectiveOn == F.day("2025-05-01"))
    #expect(downgrade.months.map(\.month.description) == ["2025-02", "2025-03", "2025-04"])
    #expect(downgrade.floor == Fen(yuan: 500_000))
    #expect(downgrade.reason.contains("downgrade 白金→金卡"))
}

@Test func privateBankingHasSixGraceMonths() {
    // Private in January (7,000,000 ≥ 6,000,000), then 1,000,000 a month.
    // Three months below do nothing; the 6-month window Feb–Jul is the first wholly below.
    let months = F.months(from: jan2025, averagesYuan: [7_000_000] + Array(repeating: 1_000_000, count: 6))
    let (tiers, changes) = TierRule.history(completeMonths: months, policy: policy)
    #expect(tiers == [.privateBanking, .privateBanking, .privateBanking, .privateBanking, .privateBanking,
                      .privateBanking, .platinum])
    #expect(changes.last?.effectiveOn == F.day("2025-08-01"))
    #expect(changes.last?.months.count == 6)
}

@Test func downgradeGoesToTheTierOfTheBestMonthOfTheWindow() {
    // Diamond in January; Feb 600,000 (platinum), Mar 1,900,000 (platinum, the best), Apr 40,000 (standard).
    let months = F.months(from: jan2025, averagesYuan: [2_500_000, 600_000, 1_900_000, 40_000])
    let change = TierRule.decide(k: 4, months: months, previous: .diamond, policy: policy)
    #expect(change?.to == .platinum)
    #expect(change?.bestMonth == YearMonth(year: 2025, month: 3))
}

@Test func theWindowIsNotRestartedAfterATierChange() {
    // Diamond in Jan; Feb 1,000,000; Mar and Apr 30,000 → k=4: Feb–Apr below 2,000,000, best Feb → platinum
    // from 05-01. May 30,000 → k=5: Mar–May below 500,000, best 30,000 → standard from 06-01, at once.
    let months = F.months(from: jan2025, averagesYuan: [2_500_000, 1_000_000, 30_000, 30_000, 30_000])
    let (tiers, changes) = TierRule.history(completeMonths: months, policy: policy)
    #expect(tiers == [.diamond, .diamond, .diamond, .platinum, .standard])
    #expect(changes.map(\.effectiveOn) == [F.day("2025-02-01"), F.day("2025-05-01"), F.day("2025-06-01")])
}

@Test func watchMonthsCountBackAcrossAnEarlierTierChange() {
    // As above through April: platinum in force from 05-01. Against platinum's 500,000 floor,
    // Apr (30,000) and Mar (30,000) are below, Feb (1,000,000) is not: 观察期 2, though Mar and Apr
    // were diamond months.
    let months = F.months(from: jan2025, averagesYuan: [2_500_000, 1_000_000, 30_000, 30_000])
    #expect(TierRule.watchMonths(completeMonths: months, floor: Fen(yuan: 500_000)) == 2)
    #expect(TierRule.watchMonths(completeMonths: months, floor: .zero) == 0)
}

@Test func partialFirstMonthCountsInTheGraceWindow() {
    // First balance 2025-01-17 of 1,000,000 yuan: January = 15 days (17–31) × 100,000,000 fen
    // = 1,500,000,000 over all 31 days → 483,870.97 yuan: gold (≥ 50,000, < 500,000), the initial tier.
    // February at 1,000,000 yuan reaches platinum: upgrade from 03-01.
    let balances = [F.balance("A", "2025-01-17", yuan: 1_000_000)]
    let assessment = TierAssessment.assess(accounts: [F.account("A")], balances: balances,
                                           businessDate: F.day("2025-04-01"), policy: policy)
    #expect(assessment.completeMonths.first?.sum == 1_500_000_000)
    #expect(assessment.history.map(\.to) == [.gold, .platinum])
    #expect(assessment.history.map(\.effectiveOn) == [F.day("2025-02-01"), F.day("2025-03-01")])
    #expect(assessment.tier == .platinum)
}

@Test func provisionalTierComesFromMonthToDateUntilTheFirstMonthCompletes() {
    // First balance 2025-05-06 of 100,000 yuan; BD 2025-05-10: 5 days × 10,000,000 = 50,000,000 over
    // 10 days = 5,000,000 fen, exactly the gold floor (days before the first balance count 0).
    let accounts = [F.account("A")]
    let balances = [F.balance("A", "2025-05-06", yuan: 100_000)]
    let early = TierAssessment.assess(accounts: accounts, balances: balances, businessDate: F.day("2025-05-10"),
                                      policy: policy)
    #expect(early.isProvisional)
    #expect(early.tier == .gold)
    #expect(early.history.isEmpty)
    #expect(early.watchMonths == 0)
    // One day earlier: 4 × 10,000,000 / 9 days = 4,444,444.4 < 5,000,000 → standard.
    let earlier = TierAssessment.assess(accounts: accounts, balances: balances, businessDate: F.day("2025-05-09"),
                                        policy: policy)
    #expect(earlier.tier == .standard && earlier.isProvisional)
    // 2025-06-01: May is m_1: days 6–31 = 26 × 10,000,000 = 260,000,000 / 31 ≈ 83,870 yuan → gold, initial.
    let june = TierAssessment.assess(accounts: accounts, balances: balances, businessDate: F.day("2025-06-01"),
                                     policy: policy)
    #expect(!june.isProvisional)
    #expect(june.tier == .gold)
    #expect(june.history.map(\.kind) == [.initial])
    #expect(june.completeMonths.map(\.sum) == [260_000_000])
}

@Test func assessmentBundlesTheFiguresOfTheBusinessDate() {
    // 600,000 yuan from 2024-12-01, 450,000 yuan from 2025-01-01; BD 2025-03-02 on 300,000.01 yuan.
    let balances = [
        F.balance("A", "2024-12-01", yuan: 600_000), F.balance("A", "2025-01-01", yuan: 450_000),
        F.balance("A", "2025-03-02", fen: 30_000_001),
    ]
    let a = TierAssessment.assess(accounts: [F.account("A")], balances: balances, businessDate: F.day("2025-03-02"),
                                  policy: policy)
    #expect(a.tier == .platinum && !a.isProvisional)
    #expect(a.policyVersion == policy.version)
    // Jan and Feb (450,000 yuan) are below platinum's 500,000; Dec is not: 观察期 2.
    #expect(a.watchMonths == 2)
    #expect(a.aum == Fen(30_000_001))
    // Month-to-date: 45,000,000 + 30,000,001 over 2 days.
    #expect(a.monthToDate.sum == 75_000_001 && a.monthToDate.days == 2)
    // Dec 31 × 60,000,000; Jan 31 × 45,000,000; Feb 28 × 45,000,000.
    let expected: [Int64] = [1_860_000_000, 1_395_000_000, 1_260_000_000]
    #expect(a.lastThreeMonths.map(\.sum) == expected)
    #expect(a.recentDailyAum.count == 8)
    #expect(a.recentDailyAum.first == Fen(45_000_000) && a.recentDailyAum.last == Fen(30_000_001))
}
