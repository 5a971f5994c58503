import Foundation
import Testing
import TierGuardModel

@Test func builtInPolicyHasTheProductDefaults() {
    let p = ScoringPolicy.builtIn
    #expect(p.validate().isEmpty)
    // Floors in fen: 0 / 50,000 / 500,000 / 2,000,000 / 6,000,000 yuan × 100.
    #expect(Tier.allCases.map { p.floors[$0].value } == [0, 5_000_000, 50_000_000, 200_000_000, 600_000_000])
    #expect(Tier.allCases.map { p.graceMonths[$0] } == [3, 3, 3, 3, 6])
    #expect(p.horizonDays == 45)
    #expect(p.bankCode == "TGBK")
    #expect(p.signals.suddenDropMinHigh == Fen(5_000_000))
    #expect(p.signals.outflowMin == Fen(10_000_000))
    #expect(p.margins.basisPoints(for: .loan) == 0)
}

@Test func policyJsonRoundTripsWithSnakeCaseKeys() throws {
    let data = try ScoringPolicy.builtIn.jsonData()
    let text = String(decoding: data, as: UTF8.self)
    #expect(text.contains("\"floors_fen\""))
    #expect(text.contains("\"private\" : 600000000"))
    #expect(text.contains("\"sudden_drop_ratio_percent\" : 70"))
    #expect(text.contains("\"urgent_alert_kinds\""))
    let loaded = try ScoringPolicy.load(json: data)
    #expect(loaded == ScoringPolicy.builtIn)
}

@Test func editedPolicyLoadsWithItsNewValues() throws {
    var edited = ScoringPolicy.builtIn
    edited.version = "2026.2"
    edited.floors.gold = Fen(yuan: 80_000)
    edited.graceMonths.diamond = 4
    let loaded = try ScoringPolicy.load(json: edited.jsonData())
    #expect(loaded.version == "2026.2")
    #expect(loaded.floors[.gold] == Fen(8_000_000))
    #expect(loaded.graceMonths[.diamond] == 4)
}

@Test func validationNamesEachProblem() {
    var p = ScoringPolicy.builtIn
    p.floors.standard = Fen(1)
    p.floors.platinum = Fen(yuan: 50_000)  // equal to gold: not strictly increasing
    p.graceMonths.gold = 0
    p.horizonDays = 367
    p.signals.outflowRatioPercent = 101
    p.signals.suddenDropRatioPercent = -1
    p.urgentAlertKinds = ["downgrade_risk", "weather"]
    p.retention.coefficients["sudden_drop"] = .nan
    let problems = p.validate()
    let expectedFragments = [
        "floors_fen.standard must be 0", "floors_fen.platinum", "grace_months.gold must be 1…120, got 0",
        "horizon_days must be 1…366, got 367", "signals.outflow_ratio_percent must be 0…100, got 101",
        "signals.sudden_drop_ratio_percent must be 0…100, got -1", "unknown kind weather",
        "retention.coefficients.sudden_drop must be a finite number",
    ]
    for fragment in expectedFragments {
        #expect(problems.contains { $0.contains(fragment) }, "missing: \(fragment) in \(problems)")
    }
    #expect(problems.count == expectedFragments.count)
}

@Test func horizonBoundsAreOneToThreeHundredSixtySix() {
    var p = ScoringPolicy.builtIn
    p.horizonDays = 366
    #expect(p.validate().isEmpty)
    p.horizonDays = 0
    #expect(p.validate() == ["horizon_days must be 1…366, got 0"])
}

@Test func loadRefusesAnInvalidPolicyListingTheProblems() throws {
    var p = ScoringPolicy.builtIn
    p.graceMonths.privateBanking = 0
    let data = try p.jsonData()
    let error = #expect(throws: ScoringPolicyError.self) { _ = try ScoringPolicy.load(json: data) }
    #expect(error?.code == .invalid)
    #expect(error?.problems == ["grace_months.private must be 1…120, got 0"])
    #expect(error?.description.contains("tierguardctl policy check") == true)
}

@Test func loadRefusesAPolicyWithAMissingField() throws {
    var object = try #require(
        try JSONSerialization.jsonObject(with: ScoringPolicy.builtIn.jsonData()) as? [String: Any])
    var signals = try #require(object["signals"] as? [String: Any])
    signals.removeValue(forKey: "inactive_days")
    object["signals"] = signals
    let data = try JSONSerialization.data(withJSONObject: object)
    let error = #expect(throws: ScoringPolicyError.self) { _ = try ScoringPolicy.load(json: data) }
    #expect(error?.code == .malformed)
    #expect(error?.problems == ["missing field signals.inactive_days"])
}

@Test func loadRefusesSomethingThatIsNotJson() {
    let error = #expect(throws: ScoringPolicyError.self) { _ = try ScoringPolicy.load(json: Data("floors: 1".utf8)) }
    #expect(error?.code == .malformed)
}

@Test func retentionProbabilityIsTheLogisticOfTheSignalScore() {
    let model = ScoringPolicy.RetentionModel(intercept: -2, coefficients: ["sudden_drop": 2, "inactive": 1])
    // No signal: 1 / (1 + e^2) ≈ 0.1192; sudden_drop alone: −2 + 2 = 0 → exactly 0.5.
    #expect(abs(model.probability(codes: []) - 0.11920292202211755) < 1e-12)
    #expect(model.probability(codes: ["sudden_drop"]) == 0.5)
    // Duplicates count once; unknown codes add 0: −2 + 2 + 1 = 1.
    #expect(model.linearScore(codes: ["sudden_drop", "sudden_drop", "inactive", "other"]) == 1)
}

@Test func floorsAreCappedSoSumsStayInsideInt64() {
    var p = ScoringPolicy.builtIn
    p.floors.privateBanking = Fen(1_000_000_000_000_001)
    #expect(p.validate() == ["floors_fen.private must be at most 1000000000000000 fen, got 1000000000000001"])
}
