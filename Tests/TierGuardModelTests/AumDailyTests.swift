import Testing
import TierGuardModel

private typealias F = TierFixture

@Test func monthBoundariesSplitDailyAumByCalendarMonth() {
    // One demand account: 1,000 yuan on 2025-01-31, 2,000 yuan from 2025-02-01; BD 2025-02-03.
    let daily = DailyAum(
        accounts: [F.account("A")],
        balances: [F.balance("A", "2025-01-31", yuan: 1_000), F.balance("A", "2025-02-01", yuan: 2_000)],
        businessDate: F.day("2025-02-03"))
    #expect(daily.start == F.day("2025-01-01"))
    // January: days 1–30 count 0 (before the first balance), day 31 holds 100,000 fen.
    #expect(daily.completeMonths == [MonthAum(month: YearMonth(year: 2025, month: 1), sum: 100_000, days: 31)])
    // 月日均 of January: 100,000 / 31 = 3,225.8 → 3,225 fen shown.
    #expect(daily.completeMonths[0].average == Fen(3_225))
    // Month-to-date February: 3 days × 200,000 = 600,000 over 3 days.
    #expect(daily.monthToDate == MonthAum(month: YearMonth(year: 2025, month: 2), sum: 600_000, days: 3))
    #expect(daily.aum(on: F.day("2025-01-30")) == .zero)
    #expect(daily.aum(on: F.day("2025-01-31")) == Fen(100_000))
}

@Test func leapFebruaryHasTwentyNineDays() {
    // 10,000 yuan from 2024-02-01, 29,000 yuan from 2024-02-15; BD 2024-03-01.
    let daily = DailyAum(
        accounts: [F.account("A")],
        balances: [F.balance("A", "2024-02-01", yuan: 10_000), F.balance("A", "2024-02-15", yuan: 29_000)],
        businessDate: F.day("2024-03-01"))
    // Days 1–14: 14 × 1,000,000 = 14,000,000; days 15–29: 15 × 2,900,000 = 43,500,000; total 57,500,000.
    let feb = daily.completeMonths
    #expect(feb == [MonthAum(month: YearMonth(year: 2024, month: 2), sum: 57_500_000, days: 29)])
    // 57,500,000 / 29 = 1,982,758.6 → 1,982,758 fen.
    #expect(feb[0].average == Fen(1_982_758))
    // On the 1st, month-to-date covers one day: 2,900,000 / 1.
    #expect(daily.monthToDate == MonthAum(month: YearMonth(year: 2024, month: 3), sum: 2_900_000, days: 1))
}

@Test func monthsStartWithTheFirstBalanceOfAnyAccountLoansIncluded() {
    // The loan's first balance (2025-02-27) starts the customer's months, though loans hold no AUM;
    // the demand account only starts on 2025-03-20 with 62,000 yuan. BD 2025-04-01.
    let daily = DailyAum(
        accounts: [F.account("L", .loan), F.account("A")],
        balances: [F.balance("L", "2025-02-27", yuan: 500_000), F.balance("A", "2025-03-20", yuan: 62_000)],
        businessDate: F.day("2025-04-01"))
    #expect(daily.firstBalanceDate == F.day("2025-02-27"))
    // February (m_1) counts 0 all month; March: days 20–31 = 12 × 6,200,000 = 74,400,000.
    #expect(daily.completeMonths == [
        MonthAum(month: YearMonth(year: 2025, month: 2), sum: 0, days: 28),
        MonthAum(month: YearMonth(year: 2025, month: 3), sum: 74_400_000, days: 31),
    ])
    // 74,400,000 / 31 = 2,400,000 fen = 24,000 yuan.
    #expect(daily.completeMonths[1].average == Fen(yuan: 24_000))
}

@Test func customerFirstFundedMidMonthCountsTheEarlierDaysAsZero() {
    // First balance 2025-03-20 (62,000 yuan); an opened_on long before plays no part. BD 2025-04-01.
    let daily = DailyAum(accounts: [F.account("A")], balances: [F.balance("A", "2025-03-20", yuan: 62_000)],
                         businessDate: F.day("2025-04-01"))
    // 12 days × 6,200,000 = 74,400,000 over all 31 days of March.
    #expect(daily.completeMonths == [MonthAum(month: YearMonth(year: 2025, month: 3), sum: 74_400_000, days: 31)])
}

@Test func missingDaysCarryTheLatestBalanceForward() {
    // Balances only on the 1st (1,000 yuan) and the 10th (3,000 yuan); BD 2025-04-15.
    let daily = DailyAum(
        accounts: [F.account("A")],
        balances: [F.balance("A", "2025-04-01", yuan: 1_000), F.balance("A", "2025-04-10", yuan: 3_000)],
        businessDate: F.day("2025-04-15"))
    #expect(daily.aum(on: F.day("2025-04-09")) == Fen(yuan: 1_000))
    #expect(daily.aum(on: F.day("2025-04-15")) == Fen(yuan: 3_000))
    // Days 1–9: 9 × 100,000 = 900,000; days 10–15: 6 × 300,000 = 1,800,000; total 2,700,000 over 15 days.
    #expect(daily.monthToDate.sum == 2_700_000)
    #expect(daily.monthToDate.days == 15)
}

@Test func closedAccountCountsZeroFromItsClosingDay() {
    // A time deposit of 100,000 yuan from 2025-04-01, closed on 2025-04-11 (a later balance is
    // ignored); a demand account of 1,000 yuan all month. BD 2025-05-01.
    let daily = DailyAum(
        accounts: [F.account("T", .timeDeposit, closedOn: "2025-04-11"), F.account("A")],
        balances: [
            F.balance("T", "2025-04-01", yuan: 100_000), F.balance("T", "2025-04-15", yuan: 100_000),
            F.balance("A", "2025-04-01", yuan: 1_000),
        ],
        businessDate: F.day("2025-05-01"))
    #expect(daily.aum(on: F.day("2025-04-10")) == Fen(yuan: 101_000))
    #expect(daily.aum(on: F.day("2025-04-11")) == Fen(yuan: 1_000))
    // Time deposit days 1–10: 10 × 10,000,000 = 100,000,000; demand 30 × 100,000 = 3,000,000.
    #expect(daily.completeMonths.map(\.sum) == [103_000_000])
    #expect(daily.accountAumOnBusinessDate == ["T": .zero, "A": Fen(yuan: 1_000)])
}

@Test func negativeAssetBalancesCountAsZero() {
    // Demand −500 yuan from 04-01 then 300 yuan from 04-05; wealth 1,000 yuan from 04-01. BD 2025-05-01.
    let daily = DailyAum(
        accounts: [F.account("A"), F.account("W", .wealth)],
        balances: [
            F.balance("A", "2025-04-01", yuan: -500), F.balance("A", "2025-04-05", yuan: 300),
            F.balance("W", "2025-04-01", yuan: 1_000),
        ],
        businessDate: F.day("2025-05-01"))
    #expect(daily.aum(on: F.day("2025-04-04")) == Fen(yuan: 1_000))
    // Days 1–4: 0 + 100,000 = 100,000 each (400,000); days 5–30: 30,000 + 100,000 = 130,000 each
    // (26 × 130,000 = 3,380,000); total 3,780,000.
    #expect(daily.completeMonths.map(\.sum) == [3_780_000])
}

@Test func loansAndCardsNeverCountTowardAum() {
    let daily = DailyAum(
        accounts: [F.account("A"), F.account("L", .loan), F.account("C", .creditCard)],
        balances: [
            F.balance("A", "2025-04-01", yuan: 2_000), F.balance("L", "2025-04-01", yuan: 900_000),
            F.balance("C", "2025-04-01", yuan: 50_000),
        ],
        businessDate: F.day("2025-04-03"))
    // Only the demand account: 3 days × 200,000 = 600,000.
    #expect(daily.monthToDate.sum == 600_000)
    #expect(daily.aumOnBusinessDate == Fen(yuan: 2_000))
    #expect(daily.accountAumOnBusinessDate["L"] == nil)
}

@Test func unsortedInputAndSameDayDuplicatesLeaveTheLaterBalance() {
    // Two balances of A on 2025-04-02: the later in the input (700 yuan) wins; input out of order.
    let balances = [
        F.balance("A", "2025-04-03", yuan: 900), F.balance("A", "2025-04-02", yuan: 500),
        F.balance("A", "2025-04-01", yuan: 100), F.balance("A", "2025-04-02", yuan: 700),
    ]
    let daily = DailyAum(accounts: [F.account("A")], balances: balances, businessDate: F.day("2025-04-03"))
    // 10,000 + 70,000 + 90,000 fen.
    #expect(daily.values == [10_000, 70_000, 90_000])
}

@Test func balancesAfterTheBusinessDateAndOfUnknownAccountsAreIgnored() {
    let daily = DailyAum(
        accounts: [F.account("A")],
        balances: [
            F.balance("A", "2025-04-01", yuan: 100), F.balance("A", "2025-04-05", yuan: 9_999),
            F.balance("X", "2025-03-01", yuan: 9_999),
        ],
        businessDate: F.day("2025-04-04"))
    #expect(daily.firstBalanceDate == F.day("2025-04-01"))
    #expect(daily.aumOnBusinessDate == Fen(yuan: 100))
    #expect(daily.values.count == 4)
}

@Test func lastThreeMonthsIncludeMonthsBeforeTheFirstBalanceAsZero() {
    // First balance 2025-01-20 (31,000 yuan); BD 2025-03-15: the months are Dec, Jan, Feb.
    let daily = DailyAum(accounts: [F.account("A")], balances: [F.balance("A", "2025-01-20", yuan: 31_000)],
                         businessDate: F.day("2025-03-15"))
    let months = daily.lastThreeMonths
    #expect(months.map(\.month.description) == ["2024-12", "2025-01", "2025-02"])
    #expect(months.map(\.isBeforeFirstBalance) == [true, false, false])
    // Dec 0; Jan days 20–31: 12 × 3,100,000 = 37,200,000; Feb 28 × 3,100,000 = 86,800,000.
    #expect(months.map(\.sum) == [0, 37_200_000, 86_800_000])
    #expect(months.map(\.days) == [31, 31, 28])
}

@Test func recentDailyAumCoversTheEightDaysEndingOnTheBusinessDate() {
    // First balance 2025-04-03 of 100 yuan, 200 yuan from 04-06; BD 2025-04-08: BD−7 = 04-01.
    let daily = DailyAum(
        accounts: [F.account("A")],
        balances: [F.balance("A", "2025-04-03", yuan: 100), F.balance("A", "2025-04-06", yuan: 200)],
        businessDate: F.day("2025-04-08"))
    #expect(daily.recent(days: 8).map(\.value) == [0, 0, 10_000, 10_000, 10_000, 20_000, 20_000, 20_000])
}

@Test func customerWithoutBalancesHasNoMonths() {
    let daily = DailyAum(accounts: [F.account("A")], balances: [], businessDate: F.day("2025-04-08"))
    #expect(daily.start == nil)
    #expect(daily.completeMonths.isEmpty)
    #expect(daily.monthToDate.sum == 0 && daily.monthToDate.days == 8)
    #expect(daily.lastThreeMonths.allSatisfy { $0.isBeforeFirstBalance })
}

@Test func interleavedBalancesOfSeveralAccountsAddUp() {
    // A and B alternate in the input; BD 2025-04-02.
    let balances = [
        F.balance("A", "2025-04-01", yuan: 100), F.balance("B", "2025-04-01", yuan: 20),
        F.balance("A", "2025-04-02", yuan: 300), F.balance("B", "2025-04-02", yuan: 40),
    ]
    let daily = DailyAum(accounts: [F.account("A"), F.account("B", .fund)], balances: balances,
                         businessDate: F.day("2025-04-02"))
    // Day 1: 10,000 + 2,000; day 2: 30,000 + 4,000.
    #expect(daily.values == [12_000, 34_000])
    #expect(daily.accountAumOnBusinessDate == ["A": Fen(30_000), "B": Fen(4_000)])
}
