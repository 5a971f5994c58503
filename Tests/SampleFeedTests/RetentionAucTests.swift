import FeedContract
import Foundation
import SampleFeed
import Testing
import TierGuardModel

/// The README's retention-risk AUC (issue 5) is computed from real model output: the same
/// `RetentionDiscrimination` the `tierguard-bench auc` command runs, on a 1,000-customer book.
@Suite struct RetentionAucTests {
    @Test func aucOfAThousandCustomerBookComesFromTheModelAndTheManifest() throws {
        let directory = GeneratedFeed.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try SampleFeed.write(SampleFeedOptions(customers: 1_000, days: 120, seed: 42, invalidPerMille: 0), toDirectory: directory)
        let manifest = try ScenarioManifest.load(path: directory + "/scenarios.json")
        let result = try RetentionDiscrimination.measure(directory: directory)

        // Counts follow the manifest's scenarios and the documented labels.
        let positiveNames = Set(RetentionDiscrimination.positiveScenarios.map(\.rawValue))
        let negativeNames = Set(RetentionDiscrimination.negativeScenarios.map(\.rawValue))
        let expectedPositives = manifest.scenarios.filter { positiveNames.contains($0.name) }.reduce(0) { $0 + $1.customers.count }
        let expectedNegatives = manifest.scenarios.filter { negativeNames.contains($0.name) }.reduce(0) { $0 + $1.customers.count }
        #expect(expectedPositives == 4 * (1_000 / 500), "two customers per leaver scenario at 1,000 customers")
        #expect(result.customers == 1_000)
        #expect(result.positives == expectedPositives)
        #expect(result.negatives == expectedNegatives)
        #expect(result.positives + result.negatives + result.excluded == 1_000)

        // The AUC is recomputed here from the per-customer probabilities, and each probability from
        // the model's own pieces: the manifest's expected signals and downgrade flag through
        // `ValueModel.retentionRisk` (ScenarioTests proves the model finds exactly those).
        var scores: [Double] = [], labels: [Bool] = []
        for (scenario, expectation) in manifest.allExpectations {
            let p = try #require(result.probabilities[expectation.customerId])
            let fromManifest = ValueModel.retentionRisk(
                signals: expectation.signals.compactMap(SignalCode.init(rawValue:)),
                downgradeWarning: expectation.downgradeRisk, model: ScoringPolicy.builtIn.retention).probability
            #expect(p == fromManifest, "\(scenario) \(expectation.customerId)")
            if positiveNames.contains(scenario) { scores.append(p); labels.append(true) }
            if negativeNames.contains(scenario) { scores.append(p); labels.append(false) }
        }
        #expect(result.auc == RetentionRiskModel.auc(scores: scores, labels: labels))
        #expect(result.auc > 0.5, "the coefficients rank leavers above stayers: AUC \(result.auc)")
        // Steady customers raise nothing: every one scores the intercept alone, 1/(1+e³).
        let steady = result.scenarios.filter { $0.label == .negative }
        #expect(steady.count == 5)
        for s in steady { #expect(abs(s.meanProbability - 1 / (1 + exp(3.0))) < 1e-12, "\(s.name)") }
    }
}
