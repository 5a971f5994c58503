import Foundation
import Testing
import TierGuardModel

@Test func tiersAreOrderedFromStandardToPrivateBanking() {
    #expect(Tier.allCases == [.standard, .gold, .platinum, .diamond, .privateBanking])
    #expect(Tier.standard < Tier.gold && Tier.diamond < Tier.privateBanking)
    #expect(Tier.gold.below == .standard)
    #expect(Tier.standard.below == nil)
}

@Test func tiersHaveChineseNamesAndStableCodes() {
    #expect(Tier.allCases.map(\.chineseName) == ["普通", "金卡", "白金", "钻石", "私人银行"])
    #expect(Tier.allCases.map(\.code) == ["standard", "gold", "platinum", "diamond", "private"])
    #expect(Tier(code: "private") == .privateBanking)
    #expect(Tier(code: "privateBanking") == nil)
}

@Test func tierEncodesAsItsCode() throws {
    let data = try JSONEncoder().encode([Tier.privateBanking, .gold])
    #expect(String(decoding: data, as: UTF8.self) == #"["private","gold"]"#)
    #expect(try JSONDecoder().decode([Tier].self, from: Data(#"["diamond"]"#.utf8)) == [.diamond])
    #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode([Tier].self, from: Data(#"["silver"]"#.utf8)) }
}

@Test func tierOfAMonthComparesSumsNotRoundedAverages() {
    let policy = ScoringPolicy.builtIn
    // Gold floor 50,000 yuan = 5,000,000 fen; a 31-day month reaches it at 155,000,000.
    #expect(policy.tier(sum: 155_000_000, days: 31) == .gold)
    // One fen short: the average 4,999,999.97 would round to 5,000,000.00, but it is below.
    #expect(policy.tier(sum: 154_999_999, days: 31) == .standard)
    // Private banking floor 6,000,000 yuan = 600,000,000 fen × 30 days.
    #expect(policy.tier(sum: 18_000_000_000, days: 30) == .privateBanking)
    #expect(policy.tier(sum: 0, days: 30) == .standard)
}

@Test func higherAverageIsAnExactRationalComparison() {
    // 2,827 / 28 = 100.964… and 3,130 / 31 = 100.967…: both round down to 100 fen, but
    // 3,130 × 28 = 87,640 > 2,827 × 31 = 87,637, so the 31-day month is higher.
    let feb = MonthAum(month: YearMonth(year: 2025, month: 2), sum: 2_827, days: 28)
    let mar = MonthAum(month: YearMonth(year: 2025, month: 3), sum: 3_130, days: 31)
    #expect(feb.average == mar.average)
    #expect(mar.hasHigherAverage(than: feb))
    #expect(!feb.hasHigherAverage(than: mar))
    #expect(!feb.hasHigherAverage(than: feb))
}
