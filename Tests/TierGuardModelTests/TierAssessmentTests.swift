import Foundation
import Testing
import TierGuardModel

private typealias F = TierFixture

@Test func assessmentRoundTripsThroughJson() throws {
    let balances = [
        F.balance("A", "2024-12-01", yuan: 600_000), F.balance("A", "2025-01-01", yuan: 450_000),
        F.balance("A", "2025-03-02", fen: 30_000_001),
    ]
    let a = TierAssessment.assess(accounts: [F.account("A")], balances: balances, businessDate: F.day("2025-03-02"),
                                  policy: .builtIn)
    let data = try JSONEncoder().encode(a)
    let text = String(decoding: data, as: UTF8.self)
    #expect(text.contains(#""tier":"platinum""#))
    #expect(text.contains(#""gap":20862068"#))
    #expect(try JSONDecoder().decode(TierAssessment.self, from: data) == a)
}

@Test func assessmentOfTheSameInputIsTheSameWhateverTheBalanceOrder() {
    let balances = [
        F.balance("A", "2024-12-01", yuan: 600_000), F.balance("B", "2024-12-15", yuan: 1_000),
        F.balance("A", "2025-01-01", yuan: 450_000), F.balance("B", "2025-02-01", yuan: -5),
    ]
    let accounts = [F.account("A"), F.account("B", .wealth)]
    let forward = TierAssessment.assess(accounts: accounts, balances: balances, businessDate: F.day("2025-02-20"),
                                        policy: .builtIn)
    let backward = TierAssessment.assess(accounts: accounts.reversed(), balances: balances.reversed(),
                                         businessDate: F.day("2025-02-20"), policy: .builtIn)
    #expect(forward == backward)
    #expect(forward.completeMonths.count == 2)
}
