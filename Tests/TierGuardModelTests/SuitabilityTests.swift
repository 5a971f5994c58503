import Foundation
import Testing
import TierGuardModel

private typealias F = SignalFixture

/// A small seeded generator (Steele, Lea & Flood's SplitMix64) so the property test is reproducible.
struct SignalSplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private func product(_ code: String, _ risk: ProductRisk, minimum: Fen = F.yuan(1_000), tiers: Set<Tier> = Set(Tier.allCases),
                     margin: Int = 50) -> CatalogProduct {
    CatalogProduct(code: code, name: "产品\(code)", risk: risk, minimum: minimum, eligibleTiers: tiers, marginBasisPoints: margin)
}

// MARK: Suitability.decide

@Test func riskLevelNumberMustNotExceedCustomerLevel() {
    let c3 = F.customer(riskLevel: .c3)
    for risk in ProductRisk.allCases {
        let d = Suitability.decide(customer: c3, product: product("P", risk), businessDate: F.bd, policy: F.policy)
        #expect(d.allowed == (risk.rawValue <= 3), "\(risk.code) vs C3")
        #expect(d.customerLevel == .c3)
        #expect(d.productLevel == risk)
        #expect(d.reason == (risk.rawValue <= 3 ? .allowedWithinRiskLevel : .productRiskAboveCustomer))
    }
}

@Test func expiredAssessmentAllowsR1Only() {
    // Assessed BD−366: expired; BD−365: still valid.
    let expired = F.customer(riskLevel: .c5, assessedOn: F.day(-366))
    let r1 = Suitability.decide(customer: expired, product: product("P1", .r1), businessDate: F.bd, policy: F.policy)
    let r2 = Suitability.decide(customer: expired, product: product("P2", .r2), businessDate: F.bd, policy: F.policy)
    #expect(r1.allowed && r1.reason == .allowedR1WithExpiredAssessment && r1.assessmentExpired)
    #expect(!r2.allowed && r2.reason == .assessmentExpired)
    let valid = F.customer(riskLevel: .c5, assessedOn: F.day(-365))
    #expect(Suitability.decide(customer: valid, product: product("P5", .r5), businessDate: F.bd, policy: F.policy).allowed)
}

@Test func optOutRefusesEvenR1() {
    let r1 = product("P1", .r1)
    let optedOut = Suitability.decide(customer: F.customer(optOut: true), product: r1, businessDate: F.bd, policy: F.policy)
    #expect(!optedOut.allowed && optedOut.reason == .marketingOptOut)
    let recorded = Suitability.decide(customer: F.customer(), product: r1, businessDate: F.bd, policy: F.policy,
                                      consent: ConsentState(marketingRefused: true))
    #expect(!recorded.allowed && recorded.reason == .marketingOptOut)
    let profiling = Suitability.decide(customer: F.customer(), product: r1, businessDate: F.bd, policy: F.policy,
                                       consent: ConsentState(automatedProfilingRefused: true))
    #expect(!profiling.allowed && profiling.reason == .automatedProfilingRefused)
}

@Test func openComplaintRefusesProducts() {
    let d = Suitability.decide(customer: F.customer(), product: product("P1", .r1), businessDate: F.bd, policy: F.policy, openComplaints: 1)
    #expect(!d.allowed && d.reason == .openComplaint)
}

@Test func suitabilityDecisionLogsLevelCodes() throws {
    let d = Suitability.decide(customer: F.customer(riskLevel: .c2), product: product("WM", .r3), businessDate: F.bd, policy: F.policy)
    #expect(d.summary == "WM R3 vs C2 refused (product_risk_above_customer)")
    let json = String(decoding: try JSONEncoder().encode(d), as: UTF8.self)
    #expect(json.contains("\"customer_level\":\"C2\"") && json.contains("\"product_level\":\"R3\""))
    #expect(try JSONDecoder().decode(SuitabilityDecision.self, from: Data(json.utf8)) == d)
}

// MARK: catalog

@Test func builtInCatalogIsValidAndSpansR1ToR5() throws {
    let catalog = ProductCatalog.builtIn
    #expect(catalog.validate().isEmpty)
    #expect(Set(catalog.products.map(\.risk)) == Set(ProductRisk.allCases))
    let reloaded = try ProductCatalog.load(json: try catalog.jsonData())
    #expect(reloaded == catalog)
}

@Test func catalogFileIsValidated() throws {
    let good = """
        {"version": "v1", "products": [{"code": "WM1", "name": "稳健理财", "risk": "R2", "minimum_fen": 1000000,
         "eligible_tiers": ["gold", "private"], "margin_bps": 50, "product": "wealth"}]}
        """
    let catalog = try ProductCatalog.load(json: Data(good.utf8))
    #expect(catalog.products[0].eligibleTiers == [.gold, .privateBanking])
    #expect(catalog.products[0].minimum == F.yuan(10_000))

    let badRisk = good.replacingOccurrences(of: "\"R2\"", with: "\"R6\"")
    #expect(throws: ProductCatalogError.self) { try ProductCatalog.load(json: Data(badRisk.utf8)) }
    let twice = """
        {"version": "v1", "products": [
         {"code": "A", "name": "a", "risk": "R1", "minimum_fen": 0, "eligible_tiers": ["gold"], "margin_bps": 1},
         {"code": "A", "name": "b", "risk": "R1", "minimum_fen": -1, "eligible_tiers": [], "margin_bps": 10001}]}
        """
    do {
        _ = try ProductCatalog.load(json: Data(twice.utf8))
        Issue.record("an invalid catalog loaded")
    } catch {
        #expect(error.code == .invalid)
        #expect(error.problems.count == 4)
        #expect(error.problems.contains { $0.contains("appears twice") })
    }
}

// MARK: NextBestAction

@Test func maturingDepositLeadsToAProductTheCustomerCanHold() throws {
    let holdings = [AccountHolding(account: F.account("TD1", .timeDeposit, maturity: F.day(10)), aum: F.yuan(300_000))]
    let customer = F.customer(riskLevel: .c2)
    let active = [F.txn("T1", on: F.day(-3), F.yuan(-500), .withdrawal)]
    let signals = SignalEvaluator.evaluate(F.input(holdings: holdings, transactions: active, customer: customer, tier: .gold),
                                           policy: F.policy)
    #expect(signals.map(\.code) == [.maturityUpcoming])
    let catalog = ProductCatalog(version: "t", products: [
        product("R1-BIG", .r1, minimum: F.yuan(300_000, fen: 1), margin: 300),  // above the 300,000.00 available
        product("R3", .r3, margin: 200),  // above C2
        product("PLAT", .r2, tiers: [.platinum], margin: 150),  // not for gold
        product("R2-OK", .r2, minimum: F.yuan(300_000), margin: 80),
        product("R1-OK", .r1, minimum: F.yuan(50_000), margin: 90),
    ])
    let result = NextBestAction.recommend(customer: customer, tier: .gold, holdings: holdings, signals: signals, downgrade: nil,
                                          feedback: .none, catalog: catalog, businessDate: F.bd, policy: F.policy)
    #expect(result.recommendations.map(\.code) == ["R1-OK", "R2-OK"])
    #expect(result.recommendations.map(\.rank) == [1, 2])
    let first = try #require(result.recommendations.first)
    #expect(first.kind == .product)
    #expect(first.because == ["maturity_upcoming"])
    #expect(first.figures["funding"] == .fen(F.yuan(300_000)))
    #expect(first.reason.contains("¥300,000.00"))
    #expect(result.suitability.count == 5)
    #expect(result.suitability.first { $0.productCode == "R3" }?.allowed == false)
}

@Test func downgradeWarningGivesTopUpServiceWithTheGap() throws {
    let outlook = DowngradeOutlook(effectiveOn: CalendarDate(year: 2026, month: 5, day: 1)!, from: .platinum, to: .gold,
                                   gap: Fen(12_345_678), monthShortfall: Fen(40_000_00))
    let result = NextBestAction.recommend(customer: F.customer(), tier: .platinum, holdings: [], signals: [], downgrade: outlook,
                                          feedback: .none, catalog: .builtIn, businessDate: F.bd, policy: F.policy)
    let top = try #require(result.recommendations.first)
    #expect(top.kind == .service && top.code == "top_up_average_balance")
    #expect(top.figures["gap"] == .fen(Fen(12_345_678)))
    #expect(top.reason.contains("¥123,456.78") && top.reason.contains("补足日均"))
    #expect(result.recommendations.allSatisfy { $0.kind == .service })  // no funding, no product
}

@Test func complaintGivesCallbackAndSuppressesProducts() throws {
    let holdings = [AccountHolding(account: F.account("D1", .demandDeposit), aum: F.yuan(1_000_000))]
    let feedback = FeedbackSummary(minCsat: 1, openComplaints: 1)
    let signals = SignalEvaluator.evaluate(F.input(holdings: holdings, feedback: feedback), policy: F.policy)
    let result = NextBestAction.recommend(customer: F.customer(), tier: .gold, holdings: holdings, signals: signals, downgrade: nil,
                                          feedback: feedback, catalog: .builtIn, businessDate: F.bd, policy: F.policy)
    #expect(result.recommendations.map(\.code) == ["satisfaction_callback"])
    #expect(result.recommendations[0].reason.contains("回访"))
    #expect(result.suitability.allSatisfy { !$0.allowed && $0.reason == .openComplaint })
}

@Test func optedOutCustomerGetsServiceActionsOnly() {
    let holdings = [AccountHolding(account: F.account("TD1", .timeDeposit, maturity: F.day(3)), aum: F.yuan(500_000))]
    let customer = F.customer(assessedOn: F.day(-400), optOut: true)
    let signals = SignalEvaluator.evaluate(F.input(holdings: holdings, customer: customer, tier: .platinum), policy: F.policy)
    let result = NextBestAction.recommend(customer: customer, tier: .platinum, holdings: holdings, signals: signals, downgrade: nil,
                                          feedback: .none, catalog: .builtIn, businessDate: F.bd, policy: F.policy)
    // No transaction since opening 1,000 days ago: inactive too.
    #expect(result.recommendations.map(\.code) == ["maturity_reminder", "reactivation_contact", "risk_reassessment"])
    #expect(result.suitability.allSatisfy { !$0.allowed && $0.reason == .marketingOptOut })
}

// MARK: property: no recommendation ever breaks suitability.

@Test func noRecommendationEverBreaksSuitability() {
    var rng = SignalSplitMix64(seed: 20_260_401)
    func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }
    func chance(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }
    var productsRecommended = 0
    for i in 0..<2_000 {
        let customer = Customer(
            customerId: "C\(i)", name: "客户", idNumber: "X", riskLevel: pick(RiskLevel.allCases),
            riskAssessedOn: F.day(-Int(rng.next() % 800)), annualIncome: nil, rmId: "RM", branchId: "BR",
            openedOn: F.day(-2_000), marketingOptOut: chance(10))
        let consent = ConsentState(marketingRefused: chance(5), automatedProfilingRefused: chance(5))
        let feedback = FeedbackSummary(minCsat: chance(20) ? Int(rng.next() % 5) + 1 : nil, openComplaints: chance(10) ? 1 : 0)
        let tier = pick(Tier.allCases)
        let catalog = ProductCatalog(version: "r", products: (0..<(Int(rng.next() % 10) + 1)).map { k in
            var tiers = Set(Tier.allCases.filter { _ in chance(60) })
            if tiers.isEmpty { tiers = [pick(Tier.allCases)] }
            return product("P\(k)", pick(ProductRisk.allCases), minimum: Fen(Int64(rng.next() % 200_000_000)), tiers: tiers,
                           margin: Int(rng.next() % 300))
        })
        var holdings: [AccountHolding] = []
        for k in 0..<(Int(rng.next() % 4)) {
            let kind = pick([Product.demandDeposit, .timeDeposit, .wealth, .fund])
            let maturity: CalendarDate? = kind == .timeDeposit || kind == .wealth ? F.day(Int(rng.next() % 40) - 10) : nil
            holdings.append(AccountHolding(account: F.account("A\(k)", kind, maturity: maturity), aum: Fen(Int64(rng.next() % 100_000_000))))
        }
        let input = F.input(holdings: holdings, customer: customer, tier: tier, feedback: feedback)
        let signals = SignalEvaluator.evaluate(input, policy: F.policy)
        let result = NextBestAction.recommend(customer: customer, tier: tier, holdings: holdings, signals: signals, downgrade: nil,
                                              feedback: feedback, consent: consent, catalog: catalog, businessDate: F.bd,
                                              policy: F.policy)
        #expect(result.suitability.count == catalog.products.count)

        // What the customer can hold, by the rule: maturing (0…14 days, ≥ 100,000 yuan, deposit or
        // wealth) plus demand deposits.
        var funding = Fen.zero
        for h in holdings {
            if h.account.product == .demandDeposit { funding += h.aum }
            if let m = h.account.maturityOn, (0...14).contains(F.bd.days(until: m)), h.aum >= F.yuan(100_000) { funding += h.aum }
        }
        let expired = customer.riskAssessedOn.days(until: F.bd) > 365
        for rec in result.recommendations where rec.kind == .product {
            productsRecommended += 1
            guard let p = catalog.products.first(where: { $0.code == rec.code }) else {
                Issue.record("recommended \(rec.code), not in the catalog")
                continue
            }
            #expect(!customer.marketingOptOut && !consent.marketingRefused && !consent.automatedProfilingRefused)
            #expect(feedback.openComplaints == 0)
            #expect(p.risk.rawValue <= customer.riskLevel.rawValue, "\(p.risk.code) > \(customer.riskLevel.code)")
            #expect(!expired || p.risk == .r1)
            #expect(p.eligibleTiers.contains(tier))
            #expect(p.minimum <= funding)
        }
        #expect(result.recommendations.filter { $0.kind == .product }.count <= 3)
        #expect(result.recommendations.map(\.rank) == Array(stride(from: 1, through: result.recommendations.count, by: 1)))
    }
    // The property must be exercised, not vacuously true.
    #expect(productsRecommended > 200)
}
