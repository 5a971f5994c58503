import Testing
import TierGuardModel

private typealias F = TierFixture
private let policy = ScoringPolicy.builtIn

/// Platinum from 2024-12 (600,000 yuan in December), then 450,000 yuan (below the 500,000 floor)
/// from 2025-01-01, plus `extra` balances.
private func platinumSlipping(_ extra: [Balance] = [], accounts: [Account] = [F.account("A")]) -> [Balance] {
    [F.balance("A", "2024-12-01", yuan: 600_000), F.balance("A", "2025-01-01", yuan: 450_000)] + extra
}

private func assess(_ balances: [Balance], on bd: String, accounts: [Account] = [F.account("A")]) -> TierAssessment {
    TierAssessment.assess(accounts: accounts, balances: balances, businessDate: F.day(bd), policy: policy)
}

@Test func earlyWarningDateAndGapToTheFen() throws {
    // BD 2025-03-02, AUM(BD) = 300,000.01 yuan = 30,000,001 fen. Complete: Dec (platinum, initial),
    // Jan and Feb (45,000,000 a day, below 50,000,000). March decides on 04-01 = BD+30 ≤ BD+45 with
    // the window Jan, Feb, Mar — all below — so platinum would fall to the tier of the best month:
    // Jan and Feb tie at 450,000 yuan → 金卡.
    let a = assess(platinumSlipping([F.balance("A", "2025-03-02", fen: 30_000_001)]), on: "2025-03-02")
    let w = try #require(a.warning)
    #expect(w.date == F.day("2025-04-01"))
    #expect(w.fromTier == .platinum && w.toTier == .gold)
    #expect(w.floor == Fen(50_000_000))
    #expect(w.window.map(\.month.description) == ["2025-01", "2025-02", "2025-03"])
    // Only March has projected days: known = 45,000,000 (03-01) + 30,000,001 (03-02) = 75,000,001,
    // projected days 29. Needed daily = ⌈(50,000,000 × 31 − 75,000,001) / 29⌉ = ⌈1,474,999,999 / 29⌉;
    // 29 × 50,862,068 = 1,474,999,972, remainder 27 → 50,862,069. Gap = 50,862,069 − 30,000,001
    // = 20,862,068 fen. Check: 75,000,001 + 29 × 50,862,069 = 1,550,000,002 ≥ 1,550,000,000, and one
    // fen less gives 75,000,001 + 29 × 50,862,068 = 1,549,999,973 < 1,550,000,000.
    #expect(w.gap == Fen(20_862_068))
    #expect(w.gapMonth == YearMonth(year: 2025, month: 3))
    // Extra daily average: projected March = 75,000,001 + 29 × 30,000,001 = 945,000,030;
    // ⌈(1,550,000,000 − 945,000,030) / 31⌉ = ⌈604,999,970 / 31⌉; 31 × 19,516,128 = 604,999,968,
    // remainder 2 → 19,516,129 fen.
    #expect(w.extraDailyAverageNeeded == Fen(19_516_129))
    #expect(w.window[2].knownSum == 75_000_001)
    #expect(w.window[2].projectedDays == 29)
}

@Test func gapIsTheSmallestOverTheWindowMonthsWithProjectedDays() throws {
    // BD 2025-02-15 at 450,000 yuan; 04-01 = BD+45 decides March with the window Jan, Feb, Mar.
    // Feb: known 15 × 45,000,000 = 675,000,000, 13 projected days:
    //   ⌈(50,000,000 × 28 − 675,000,000) / 13⌉ = ⌈725,000,000 / 13⌉ = 55,769,231 → 10,769,231 over AUM.
    // Mar: all 31 days projected: ⌈50,000,000 × 31 / 31⌉ − 45,000,000 = 5,000,000. Smallest: March.
    let a = assess(platinumSlipping(), on: "2025-02-15")
    let w = try #require(a.warning)
    #expect(w.date == F.day("2025-04-01"))
    #expect(w.gap == Fen(5_000_000))
    #expect(w.gapMonth == YearMonth(year: 2025, month: 3))
    // BD's month (Feb) projected at 28 × 45,000,000 = 1,260,000,000:
    // ⌈(1,400,000,000 − 1,260,000,000) / 28⌉ = 5,000,000.
    #expect(w.extraDailyAverageNeeded == Fen(5_000_000))
}

@Test func horizonIncludesItsLastDay() {
    // From 2025-02-15, 04-01 is BD+45: inside. From 2025-02-14 it is BD+46: outside, and 03-01
    // (window Dec–Feb, Dec not below) decides nothing.
    #expect(assess(platinumSlipping(), on: "2025-02-15").warning?.date == F.day("2025-04-01"))
    #expect(assess(platinumSlipping(), on: "2025-02-14").warning == nil)
}

@Test func onTheLastDayOfTheDecidingMonthTheGapIsNil() throws {
    // Platinum from 2024-11 (600,000 from 11-01), then 450,000 from 12-01: Dec, Jan, Feb below.
    // BD 2025-02-28: Feb is not complete yet (its last day is BD), so platinum is still in force,
    // the downgrade on 03-01 is the warning and no projected day is left to change it.
    let balances = [F.balance("A", "2024-11-01", yuan: 600_000), F.balance("A", "2024-12-01", yuan: 450_000)]
    let a = assess(balances, on: "2025-02-28")
    #expect(a.tier == .platinum)
    #expect(a.history.map(\.kind) == [.initial])
    let w = try #require(a.warning)
    #expect(w.date == F.day("2025-03-01"))
    #expect(w.toTier == .gold)
    #expect(w.gap == nil)
    // Still reported: ⌈(50,000,000 × 28 − 28 × 45,000,000) / 28⌉ = 5,000,000.
    #expect(w.extraDailyAverageNeeded == Fen(5_000_000))
    // The next day it is history, and gold's 50,000-yuan floor is far below 450,000: no warning.
    let next = assess(balances, on: "2025-03-01")
    #expect(next.tier == .gold)
    #expect(next.history.last?.kind == .downgrade)
    #expect(next.history.last?.effectiveOn == F.day("2025-03-01"))
    #expect(next.warning == nil)
}

@Test func projectionHoldsTheBusinessDateAumEvenWhenAnAccountClosesInTheHorizon() {
    // Same as the to-the-fen example, but the account closes on 03-10, inside the horizon.
    let open = assess(platinumSlipping([F.balance("A", "2025-03-02", fen: 30_000_001)]), on: "2025-03-02")
    let closing = assess(platinumSlipping([F.balance("A", "2025-03-02", fen: 30_000_001)]), on: "2025-03-02",
                         accounts: [F.account("A", closedOn: "2025-03-10")])
    #expect(closing.warning == open.warning)
    #expect(closing.warning?.gap == Fen(20_862_068))
}

@Test func aProjectedUpgradeRaisesNothing() {
    // Gold in December (60,000 yuan), 3,000,000 yuan from 2025-01-01: January upgrades; BD 2025-01-20.
    let balances = [F.balance("A", "2024-12-01", yuan: 60_000), F.balance("A", "2025-01-01", yuan: 3_000_000)]
    #expect(assess(balances, on: "2025-01-20").warning == nil)
}

@Test func noWarningWhileTheWindowStillHoldsAMonthAtTheFloor() {
    // BD 2025-01-20: Dec platinum, Jan below; 02-01 decides Jan (k=2 < 3), 03-01 is BD+40 and decides
    // Feb with the window Dec–Feb, Dec at the floor: nothing within the horizon.
    #expect(assess(platinumSlipping(), on: "2025-01-20").warning == nil)
}

@Test func earlyWarningWhileProvisionalNeverReportsTheInitialTier() {
    // First balance 2025-05-06 of 10 yuan: provisional standard; 06-01 sets the initial tier, never a downgrade.
    let a = assess([F.balance("A", "2025-05-06", yuan: 10)], on: "2025-05-20")
    #expect(a.isProvisional)
    #expect(a.warning == nil)
}
