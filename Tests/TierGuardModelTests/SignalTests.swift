import Foundation
import Testing
import TierGuardModel

/// Builders shared by the Signal, Value and Suitability tests.
enum SignalFixture {
    /// Business date of every signal test: 2026-04-01.
    static let bd = CalendarDate(year: 2026, month: 4, day: 1)!
    static let policy = ScoringPolicy.builtIn

    static func day(_ offset: Int) -> CalendarDate { bd.adding(days: offset) }

    /// Epoch seconds of `hour`:00 Shanghai time (UTC+8) on `day`.
    static func epoch(_ day: CalendarDate, hour: Int = 12) -> Int64 {
        Int64(day.dayNumber) * 86_400 + Int64(hour - 8) * 3_600
    }

    static func customer(riskLevel: RiskLevel = .c3, assessedOn: CalendarDate = bd.adding(days: -100),
                         income: Fen? = nil, openedOn: CalendarDate = bd.adding(days: -1_000),
                         optOut: Bool = false) -> Customer {
        Customer(customerId: "C001", name: "张三", idNumber: "110105199003070021", riskLevel: riskLevel,
                 riskAssessedOn: assessedOn, annualIncome: income, rmId: "RM01", branchId: "BR01",
                 openedOn: openedOn, marketingOptOut: optOut)
    }

    static func account(_ id: String, _ product: Product, maturity: CalendarDate? = nil) -> Account {
        Account(accountId: id, customerId: "C001", product: product, openedOn: bd.adding(days: -1_000), maturityOn: maturity)
    }

    static func txn(_ id: String, on day: CalendarDate, hour: Int = 12, _ amount: Fen, _ category: TransactionCategory,
                    bank: String? = nil, account: String = "A1") -> Transaction {
        Transaction(txnId: id, accountId: account, bookedAtEpochSeconds: epoch(day, hour: hour), amount: amount,
                    category: category, channel: .mobile, counterpartyBank: bank)
    }

    static func input(aum: [Int: Fen] = [:], holdings: [AccountHolding] = [], transactions: [Transaction] = [],
                      customer: Customer = customer(), tier: Tier = .standard,
                      feedback: FeedbackSummary = .none) -> SignalInput {
        SignalInput(businessDate: bd, dailyAUM: Dictionary(uniqueKeysWithValues: aum.map { (day($0.key), $0.value) }),
                    holdings: holdings, transactions: transactions, customer: customer, tier: tier, feedback: feedback)
    }

    static func signal(_ code: SignalCode, _ input: SignalInput) -> Signal? {
        SignalEvaluator.evaluate(input, policy: policy).first { $0.code == code }
    }

    static func yuan(_ y: Int64, fen: Int64 = 0) -> Fen { Fen(y * 100 + fen) }
}

private typealias F = SignalFixture

// MARK: sudden_drop: AUM(BD) ≤ 70% of the high over BD−7 … BD−1, high ≥ 50,000 yuan.

@Test func suddenDropRaisedAtExactlySeventyPercent() throws {
    // High 100,000.00 on BD−3; 70% of it is 70,000.00.
    let s = try #require(F.signal(.suddenDrop, F.input(aum: [-7: F.yuan(80_000), -3: F.yuan(100_000), -1: F.yuan(90_000), 0: F.yuan(70_000)])))
    #expect(s.figures["high"] == .fen(F.yuan(100_000)))
    #expect(s.figures["high_on"] == .text("2026-03-29"))
    #expect(s.figures["aum"] == .fen(F.yuan(70_000)))
    #expect(s.figures["drop"] == .fen(F.yuan(30_000)))
    #expect(s.figures["percent_of_high"] == .number(70))
}

@Test func suddenDropNotRaisedOneFenAboveSeventyPercent() {
    #expect(F.signal(.suddenDrop, F.input(aum: [-3: F.yuan(100_000), 0: F.yuan(70_000, fen: 1)])) == nil)
}

@Test func suddenDropNeedsAHighOfFiftyThousandYuan() {
    // High exactly 50,000.00 with AUM 0: raised; 49,999.99: not.
    #expect(F.signal(.suddenDrop, F.input(aum: [-1: F.yuan(50_000)])) != nil)
    #expect(F.signal(.suddenDrop, F.input(aum: [-1: F.yuan(49_999, fen: 99)])) == nil)
}

@Test func suddenDropLooksBackSevenDaysOnly() {
    // The high on BD−8 is outside BD−7 … BD−1; the high on BD−7 is inside.
    #expect(F.signal(.suddenDrop, F.input(aum: [-8: F.yuan(1_000_000), -7: F.yuan(10_000), 0: F.yuan(10_000)])) == nil)
    #expect(F.signal(.suddenDrop, F.input(aum: [-7: F.yuan(1_000_000), 0: F.yuan(700_000)])) != nil)
}

// MARK: outflow_to_competitor: Σ −amount of transfer_out to another bank over BD−6 … BD,
// ≥ 30% of AUM(BD−7) and ≥ 100,000 yuan.

@Test func outflowRaisedAtExactlyThirtyPercent() throws {
    // AUM(BD−7) 1,000,000.00; 30% is 300,000.00, split over two accounts and two banks.
    let txns = [
        F.txn("T1", on: F.day(-6), F.yuan(-200_000), .transferOut, bank: "ICBC", account: "A1"),
        F.txn("T2", on: F.day(0), F.yuan(-100_000), .transferOut, bank: "CMB", account: "A2"),
    ]
    let s = try #require(F.signal(.outflowToCompetitor, F.input(aum: [-7: F.yuan(1_000_000)], transactions: txns)))
    #expect(s.figures["outflow"] == .fen(F.yuan(300_000)))
    #expect(s.figures["base_aum"] == .fen(F.yuan(1_000_000)))
    #expect(s.figures["percent_of_base"] == .number(30))
    #expect(s.figures["banks"] == .text("CMB,ICBC"))
    #expect(s.accounts == ["A1", "A2"])
}

@Test func outflowNotRaisedOneFenBelowThirtyPercent() {
    let txns = [F.txn("T1", on: F.day(-1), F.yuan(-299_999, fen: -99), .transferOut, bank: "ICBC")]
    #expect(F.signal(.outflowToCompetitor, F.input(aum: [-7: F.yuan(1_000_000)], transactions: txns)) == nil)
}

@Test func outflowNeedsOneHundredThousandYuan() {
    // AUM(BD−7) 200,000: 100,000.00 is 50% and exactly the minimum; 99,999.99 is below it.
    let at = [F.txn("T1", on: F.day(-1), F.yuan(-100_000), .transferOut, bank: "ICBC")]
    let below = [F.txn("T1", on: F.day(-1), F.yuan(-99_999, fen: -99), .transferOut, bank: "ICBC")]
    #expect(F.signal(.outflowToCompetitor, F.input(aum: [-7: F.yuan(200_000)], transactions: at)) != nil)
    #expect(F.signal(.outflowToCompetitor, F.input(aum: [-7: F.yuan(200_000)], transactions: below)) == nil)
}

@Test func outflowReversalsNetOff() {
    // −400,000.00 out, then a reversal of +100,000.01: 299,999.99 left, below 30% of 1,000,000.
    let netBelow = [
        F.txn("T1", on: F.day(-2), F.yuan(-400_000), .transferOut, bank: "ICBC"),
        F.txn("T2", on: F.day(-1), F.yuan(100_000, fen: 1), .transferOut, bank: "ICBC"),
    ]
    #expect(F.signal(.outflowToCompetitor, F.input(aum: [-7: F.yuan(1_000_000)], transactions: netBelow)) == nil)
    let netAt = [
        F.txn("T1", on: F.day(-2), F.yuan(-400_000), .transferOut, bank: "ICBC"),
        F.txn("T2", on: F.day(-1), F.yuan(100_000), .transferOut, bank: "ICBC"),
    ]
    #expect(F.signal(.outflowToCompetitor, F.input(aum: [-7: F.yuan(1_000_000)], transactions: netAt))?.figures["outflow"]
            == .fen(F.yuan(300_000)))
}

@Test func outflowOwnBankCodeIsExactAndCaseSensitive() {
    let own = [F.txn("T1", on: F.day(-1), F.yuan(-500_000), .transferOut, bank: "TGBK")]
    let lower = [F.txn("T1", on: F.day(-1), F.yuan(-500_000), .transferOut, bank: "tgbk")]
    #expect(F.signal(.outflowToCompetitor, F.input(aum: [-7: F.yuan(1_000_000)], transactions: own)) == nil)
    #expect(F.signal(.outflowToCompetitor, F.input(aum: [-7: F.yuan(1_000_000)], transactions: lower)) != nil)
}

@Test func outflowIgnoresAbsentOrEmptyCounterpartyAndOtherCategories() {
    let txns = [
        F.txn("T1", on: F.day(-1), F.yuan(-500_000), .transferOut, bank: ""),
        F.txn("T2", on: F.day(-1), F.yuan(-500_000), .transferOut, bank: nil),
        F.txn("T3", on: F.day(-1), F.yuan(-500_000), .withdrawal, bank: "ICBC"),
    ]
    #expect(F.signal(.outflowToCompetitor, F.input(aum: [-7: F.yuan(1_000_000)], transactions: txns)) == nil)
}

@Test func outflowWindowIsBDMinusSixToBD() {
    let onBDMinus7 = [F.txn("T1", on: F.day(-7), F.yuan(-500_000), .transferOut, bank: "ICBC")]
    let afterBD = [F.txn("T1", on: F.day(1), F.yuan(-500_000), .transferOut, bank: "ICBC")]
    #expect(F.signal(.outflowToCompetitor, F.input(aum: [-7: F.yuan(1_000_000)], transactions: onBDMinus7)) == nil)
    #expect(F.signal(.outflowToCompetitor, F.input(aum: [-7: F.yuan(1_000_000)], transactions: afterBD)) == nil)
}

@Test func transactionDayIsTheShanghaiDay() {
    // 2026-03-31T16:30:00Z is 2026-04-01 00:30 in Shanghai: booked on BD.
    let t = Transaction(txnId: "T1", accountId: "A1", bookedAtEpochSeconds: 1_774_974_600, amount: F.yuan(-500_000),
                        category: .transferOut, channel: .online, counterpartyBank: "ICBC")
    #expect(t.bookedOnShanghai == F.bd)
    #expect(F.signal(.outflowToCompetitor, F.input(aum: [-7: F.yuan(1_000_000)], transactions: [t])) != nil)
    // 2026-04-01T16:00:00Z is 2026-04-02 00:00 in Shanghai: after BD, ignored.
    let late = Transaction(txnId: "T2", accountId: "A1", bookedAtEpochSeconds: 1_775_059_200, amount: F.yuan(-500_000),
                           category: .transferOut, channel: .online, counterpartyBank: "ICBC")
    #expect(late.bookedOnShanghai == F.day(1))
    #expect(F.signal(.outflowToCompetitor, F.input(aum: [-7: F.yuan(1_000_000)], transactions: [late])) == nil)
    // 2026-03-25T15:59:59Z is 2026-03-25 23:59:59 in Shanghai, BD−7: outside; one second later is BD−6: inside.
    let before = Transaction(txnId: "T3", accountId: "A1", bookedAtEpochSeconds: 1_774_454_399, amount: F.yuan(-500_000),
                             category: .transferOut, channel: .online, counterpartyBank: "ICBC")
    var first = before
    first.bookedAtEpochSeconds += 1
    #expect(before.bookedOnShanghai == F.day(-7))
    #expect(first.bookedOnShanghai == F.day(-6))
    #expect(F.signal(.outflowToCompetitor, F.input(aum: [-7: F.yuan(1_000_000)], transactions: [before])) == nil)
    #expect(F.signal(.outflowToCompetitor, F.input(aum: [-7: F.yuan(1_000_000)], transactions: [first])) != nil)
}

// MARK: maturity_upcoming: time_deposit or wealth, 0 ≤ maturity_on − BD ≤ 14, AUM ≥ 100,000 yuan.

@Test func maturityRaisedAtFourteenDaysAndOnBD() throws {
    let holdings = [
        AccountHolding(account: F.account("TD1", .timeDeposit, maturity: F.day(14)), aum: F.yuan(100_000)),
        AccountHolding(account: F.account("WM1", .wealth, maturity: F.day(0)), aum: F.yuan(200_000)),
    ]
    let s = try #require(F.signal(.maturityUpcoming, F.input(holdings: holdings)))
    #expect(s.accounts == ["WM1", "TD1"])  // earliest maturity first
    #expect(s.figures["total"] == .fen(F.yuan(300_000)))
    #expect(s.figures["earliest_maturity_on"] == .text("2026-04-01"))
    #expect(s.figures["amount:TD1"] == .fen(F.yuan(100_000)))
}

@Test func maturityNotRaisedJustPastItsBounds() {
    let holdings = [
        AccountHolding(account: F.account("TD1", .timeDeposit, maturity: F.day(15)), aum: F.yuan(500_000)),
        AccountHolding(account: F.account("TD2", .timeDeposit, maturity: F.day(-1)), aum: F.yuan(500_000)),
        AccountHolding(account: F.account("TD3", .timeDeposit, maturity: F.day(7)), aum: F.yuan(99_999, fen: 99)),
        AccountHolding(account: F.account("FD1", .fund, maturity: F.day(7)), aum: F.yuan(500_000)),
        AccountHolding(account: F.account("TD4", .timeDeposit, maturity: nil), aum: F.yuan(500_000)),
    ]
    #expect(F.signal(.maturityUpcoming, F.input(holdings: holdings)) == nil)
}

// MARK: inactive: gold or above, BD − last customer-initiated day ≥ 60 (or opened_on with none).

@Test func inactiveAtSixtyDaysNotAtFiftyNine() throws {
    let at = [F.txn("T1", on: F.day(-60), F.yuan(-100), .withdrawal), F.txn("T2", on: F.day(-1), F.yuan(5), .interest),
              F.txn("T3", on: F.day(-2), F.yuan(-5), .fee)]
    let s = try #require(F.signal(.inactive, F.input(transactions: at, tier: .gold)))
    #expect(s.figures["last_activity_on"] == .text("2026-01-31"))  // BD − 60
    #expect(s.figures["days"] == nil)  // the date, not a count from BD (SignalEvaluator)
    #expect(s.reason == "长期不活跃：最近一次客户主动交易在 2026-01-31，至今已满 60 天，当前等级金卡。")
    let recent = [F.txn("T1", on: F.day(-59), F.yuan(-100), .withdrawal)]
    #expect(F.signal(.inactive, F.input(transactions: recent, tier: .gold)) == nil)
}

@Test func inactiveOnlyForGoldAndAbove() {
    let old = [F.txn("T1", on: F.day(-200), F.yuan(-100), .withdrawal)]
    #expect(F.signal(.inactive, F.input(transactions: old, tier: .standard)) == nil)
    #expect(F.signal(.inactive, F.input(transactions: old, tier: .privateBanking)) != nil)
}

@Test func inactiveWithNoTransactionCountsFromOpening() {
    #expect(F.signal(.inactive, F.input(customer: F.customer(openedOn: F.day(-60)), tier: .gold))?.figures["opened_on"]
            == .text("2026-01-31"))
    #expect(F.signal(.inactive, F.input(customer: F.customer(openedOn: F.day(-59)), tier: .gold)) == nil)
    // A transaction after BD is ignored, so it does not make the customer active.
    let future = [F.txn("T1", on: F.day(1), F.yuan(-100), .withdrawal)]
    #expect(F.signal(.inactive, F.input(transactions: future, customer: F.customer(openedOn: F.day(-60)), tier: .gold)) != nil)
}

// MARK: credit_risk: 12 × spend over BD−29 … BD > 2 × annual income.

@Test func creditRiskStrictlyAboveTwoMonthsOfIncome() throws {
    // Income 120,000.00: two months are 20,000.00, which is not above; 20,000.01 is.
    let customer = F.customer(income: F.yuan(120_000))
    let at = [F.txn("T1", on: F.day(-29), F.yuan(-20_000), .cardSpend)]
    let past = [F.txn("T1", on: F.day(-29), F.yuan(-20_000, fen: -1), .cardSpend)]
    #expect(F.signal(.creditRisk, F.input(transactions: at, customer: customer)) == nil)
    let s = try #require(F.signal(.creditRisk, F.input(transactions: past, customer: customer)))
    #expect(s.figures["card_spend"] == .fen(F.yuan(20_000, fen: 1)))
    #expect(s.figures["limit"] == .fen(F.yuan(20_000)))
}

@Test func creditRiskComparesInIntegersToTheFen() {
    // Income 100,000.00 = 10,000,000 fen; 2 × income = 20,000,000. Spend 1,666,666 fen:
    // 12 × 1,666,666 = 19,999,992, not above. Spend 1,666,667: 20,000,004, above.
    let customer = F.customer(income: F.yuan(100_000))
    #expect(F.signal(.creditRisk, F.input(transactions: [F.txn("T", on: F.bd, Fen(-1_666_666), .cardSpend)], customer: customer)) == nil)
    #expect(F.signal(.creditRisk, F.input(transactions: [F.txn("T", on: F.bd, Fen(-1_666_667), .cardSpend)], customer: customer)) != nil)
}

@Test func creditRiskReversalsReduceAndRepaymentsDoNot() {
    let customer = F.customer(income: F.yuan(120_000))
    let reversed = [F.txn("T1", on: F.day(-3), F.yuan(-20_000, fen: -1), .cardSpend), F.txn("T2", on: F.day(-2), Fen(1), .cardSpend)]
    #expect(F.signal(.creditRisk, F.input(transactions: reversed, customer: customer)) == nil)
    let repaid = [F.txn("T1", on: F.day(-3), F.yuan(-20_000, fen: -1), .cardSpend), F.txn("T2", on: F.day(-2), F.yuan(5_000), .repayment)]
    #expect(F.signal(.creditRisk, F.input(transactions: repaid, customer: customer)) != nil)
}

@Test func creditRiskWindowAndMissingIncome() {
    let big = [F.txn("T1", on: F.day(-30), F.yuan(-1_000_000), .cardSpend)]
    #expect(F.signal(.creditRisk, F.input(transactions: big, customer: F.customer(income: F.yuan(120_000)))) == nil)
    let recent = [F.txn("T1", on: F.day(0), F.yuan(-1_000_000), .cardSpend)]
    #expect(F.signal(.creditRisk, F.input(transactions: recent, customer: F.customer(income: nil))) == nil)
}

// MARK: risk_assessment_expired: BD − risk_assessed_on > 365.

@Test func riskAssessmentExpiresAfterThreeHundredSixtyFiveDays() throws {
    #expect(F.signal(.riskAssessmentExpired, F.input(customer: F.customer(assessedOn: F.day(-365)))) == nil)
    let s = try #require(F.signal(.riskAssessmentExpired, F.input(customer: F.customer(assessedOn: F.day(-366)))))
    #expect(s.figures["risk_assessed_on"] == .text("2025-03-31"))  // BD − 366
    #expect(s.figures["days"] == nil)
}

// MARK: no day counts from BD: a signal whose facts hold reads the same on the next business date.

/// Each signal's figures and reason on BD and on BD + 1 with the same archive facts (the daily AUM
/// carried forward, no new transaction): equal, byte for byte, so its stored document and its alert's
/// payload are not rewritten the next day. Before, five of them quoted BD or a count of days from it.
@Test func aSignalWhoseFactsHoldReadsTheSameTheNextBusinessDay() throws {
    let holdings = [AccountHolding(account: F.account("TD1", .timeDeposit, maturity: F.day(10)), aum: F.yuan(300_000))]
    let active = [
        F.txn("T2", on: F.day(-3), F.yuan(-300_000), .transferOut, bank: "ICBC"),
        F.txn("T3", on: F.day(-2), F.yuan(-30_000), .cardSpend),
    ]
    let idle = [F.txn("T1", on: F.day(-70), F.yuan(-100), .withdrawal)]
    let customer = F.customer(assessedOn: F.day(-400), income: F.yuan(120_000))
    // Daily AUM 1,000,000 yuan up to BD − 2, then 500,000 yuan: a sudden drop on BD and on BD + 1.
    var aum: [CalendarDate: Fen] = [:]
    for offset in -20...1 { aum[F.day(offset)] = offset < -1 ? F.yuan(1_000_000) : F.yuan(500_000) }
    func signals(on day: CalendarDate, _ transactions: [Transaction]) -> [Signal] {
        SignalEvaluator.evaluate(SignalInput(businessDate: day, dailyAUM: aum, holdings: holdings, transactions: transactions,
                                             customer: customer, tier: .gold, feedback: .none), policy: F.policy)
    }
    let today = signals(on: F.bd, active) + signals(on: F.bd, idle)
    let tomorrow = signals(on: F.day(1), active) + signals(on: F.day(1), idle)
    #expect(Set(today.map(\.code)) == [.suddenDrop, .outflowToCompetitor, .maturityUpcoming, .inactive, .creditRisk,
                                       .riskAssessmentExpired])
    #expect(today == tomorrow)
    for signal in today {
        #expect(!signal.reason.contains("2026-04-01") && !signal.reason.contains("2026-04-02"), "\(signal.reason)")
    }
}

// MARK: dissatisfied: CSAT ≤ 2 or NPS ≤ 6 within 30 days, or an open complaint.

@Test func dissatisfiedAtItsThresholds() {
    #expect(F.signal(.dissatisfied, F.input(feedback: FeedbackSummary(minCsat: 2))) != nil)
    #expect(F.signal(.dissatisfied, F.input(feedback: FeedbackSummary(minCsat: 3))) == nil)
    #expect(F.signal(.dissatisfied, F.input(feedback: FeedbackSummary(minNps: 6))) != nil)
    #expect(F.signal(.dissatisfied, F.input(feedback: FeedbackSummary(minNps: 7))) == nil)
    #expect(F.signal(.dissatisfied, F.input(feedback: FeedbackSummary(minCsat: 5, minNps: 10, openComplaints: 1)))?
            .figures["open_complaints"] == .number(1))
    #expect(F.signal(.dissatisfied, F.input(feedback: .none)) == nil)
}

@Test func feedbackSummaryCountsSurveysOfTheLastThirtyDays() {
    let surveys = [
        FeedbackSummary.SurveyAnswer(kind: .csat, score: 1, answeredOn: F.day(-30)),  // outside
        FeedbackSummary.SurveyAnswer(kind: .csat, score: 4, answeredOn: F.day(-29)),
        FeedbackSummary.SurveyAnswer(kind: .csat, score: 3, answeredOn: F.day(0)),
        FeedbackSummary.SurveyAnswer(kind: .nps, score: 2, answeredOn: F.day(1)),  // after BD
        FeedbackSummary.SurveyAnswer(kind: .nps, score: 8, answeredOn: F.day(-10)),
    ]
    let summary = FeedbackSummary(surveys: surveys, openComplaints: 0, businessDate: F.bd, windowDays: 30)
    #expect(summary == FeedbackSummary(minCsat: 3, minNps: 8, openComplaints: 0))
}

@Test func quietCustomerRaisesNothingAndSignalsComeInCodeOrder() {
    #expect(SignalEvaluator.evaluate(F.input(aum: [0: F.yuan(10)]), policy: F.policy).isEmpty)
    let all = SignalEvaluator.evaluate(
        F.input(aum: [-7: F.yuan(1_000_000), 0: F.yuan(1)], transactions: [F.txn("T", on: F.day(-100), F.yuan(-500_000), .cardSpend)],
                customer: F.customer(assessedOn: F.day(-400), income: F.yuan(1)), tier: .gold, feedback: FeedbackSummary(openComplaints: 2)),
        policy: F.policy)
    #expect(all.map(\.code) == [.suddenDrop, .inactive, .dissatisfied, .riskAssessmentExpired])
}

@Test func signalRoundTripsThroughJSON() throws {
    let s = Signal(code: .creditRisk, figures: ["card_spend": .fen(Fen(123)), "days": .number(30), "on": .text("2026-04-01")],
                   accounts: ["A1"], reason: "测试")
    let data = try JSONEncoder().encode(s)
    #expect(try JSONDecoder().decode(Signal.self, from: data) == s)
    let text = String(decoding: data, as: UTF8.self)
    #expect(text.contains("\"credit_risk\""))
    #expect(text.contains("{\"fen\":123}"))
}
