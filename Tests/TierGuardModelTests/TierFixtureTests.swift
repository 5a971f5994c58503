import Testing
import TierGuardModel

/// Builders for the scoring tests: dates as text, amounts in yuan or fen, one customer "C1".
enum TierFixture {
    static func day(_ text: String) -> CalendarDate {
        guard let date = CalendarDate(text) else { fatalError("bad date \(text)") }
        return date
    }

    static func account(_ id: String, _ product: Product = .demandDeposit, closedOn: String? = nil,
                        maturityOn: String? = nil) -> Account {
        Account(accountId: id, customerId: "C1", product: product, openedOn: day("2020-01-01"),
                maturityOn: maturityOn.map(day), closedOn: closedOn.map(day))
    }

    static func balance(_ id: String, _ date: String, yuan: Int64) -> Balance {
        Balance(accountId: id, asOf: day(date), balance: Fen(yuan: yuan))
    }

    static func balance(_ id: String, _ date: String, fen: Int64) -> Balance {
        Balance(accountId: id, asOf: day(date), balance: Fen(fen))
    }

    /// Whole months from `first`, each with the given 月日均 in yuan held every day
    /// (sum = yuan × 100 × days).
    static func months(from first: YearMonth, averagesYuan: [Int64]) -> [MonthAum] {
        var ym = first
        var result: [MonthAum] = []
        for yuan in averagesYuan {
            result.append(MonthAum(month: ym, sum: yuan * 100 * Int64(ym.days), days: ym.days))
            ym = ym.next
        }
        return result
    }
}

@Test func tierFixtureMonthsHoldTheirAverageEveryDay() {
    // Feb 2024 has 29 days: 1,000 yuan a day is 100,000 fen × 29 = 2,900,000.
    let months = TierFixture.months(from: YearMonth(year: 2024, month: 2), averagesYuan: [1_000, 2_000])
    #expect(months.map(\.sum) == [2_900_000, 6_200_000])
    #expect(months.map(\.days) == [29, 31])
}
