import Foundation
import SampleFeed
import Testing
import TierGuardModel
import TierGuardStore

/// Every JSON document the scorer stores for a customer — `warning`, `signals`, `value`,
/// `recommendations`, `suitability` and each alert payload — written by `JSONTextWriter` has the
/// same bytes as `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]` (ScoreWriter's
/// configuration), over a generated 2,000-customer book scored in process (no database): the
/// feed's business date (the last day of a month, so warnings without a gap), ten days earlier
/// (warnings with a gap), and variants with complaints, low CSAT and consent refusals.
@Suite struct JSONTextDocumentsTests {
    struct Documents {
        var encoder: [String] = []
        var writer: [String] = []
    }

    static func scores() throws -> [CustomerScore] {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("tierguard-jsontext-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try SampleFeed.write(SampleFeedOptions(customers: 2_000, days: 120, seed: 42, invalidPerMille: 0), toDirectory: directory)
        let policy = ScoringPolicy.builtIn
        let catalog = ProductCatalog.builtIn
        var scores: [CustomerScore] = []
        var index = 0
        _ = try RetentionDiscrimination.measure(directory: directory, policy: policy) { records, bd in
            defer { index += 1 }
            for back in [0, 10] {
                let day = bd.adding(days: -back)
                var input = CustomerInput(
                    customer: records.customer, accounts: records.accounts,
                    balances: records.balances.filter { $0.asOf <= day },
                    transactions: records.transactions.filter { $0.bookedOnShanghai <= day })
                scores.append(CustomerScore.compute(input, businessDate: day, policy: policy, catalog: catalog))
                switch index % 4 {
                case 1: input.feedback = FeedbackSummary(minCsat: 1, minNps: 2, openComplaints: 1)
                case 2: input.consent = ConsentState(marketingRefused: true)
                case 3: input.consent = ConsentState(automatedProfilingRefused: true)
                    input.feedback = FeedbackSummary(minCsat: 2)
                default: continue
                }
                scores.append(CustomerScore.compute(input, businessDate: day, policy: policy, catalog: catalog))
            }
            return 0
        }
        return scores
    }

    /// Each document ScoreWriter writes for a score, in its order.
    static func forEachDocument(_ scores: [CustomerScore], _ body: (any Encodable & JSONTextEncodable) throws -> Void) rethrows {
        for score in scores {
            if let w = score.assessment.warning { try body(w) }
            try body(score.signals)
            try body(score.value)
            try body(score.nextBestAction.recommendations)
            try body(score.nextBestAction.suitability)
            for condition in score.alertConditions { try body(condition.payload) }
        }
    }

    /// The score's documents in ScoreWriter's order, by both encoders.
    static func documents(_ scores: [CustomerScore]) throws -> (encoder: [String], writer: [String], seconds: (Double, Double)) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var expected: [String] = []
        let t0 = Date()
        try forEachDocument(scores) { expected.append(String(decoding: try encoder.encode($0), as: UTF8.self)) }
        let t1 = Date()
        var writer = JSONTextWriter(capacity: 4_096)
        var written: [String] = []
        written.reserveCapacity(expected.count)
        try forEachDocument(scores) { written.append(try writer.text(of: $0)) }
        let t2 = Date()
        return (expected, written, (t1.timeIntervalSince(t0), t2.timeIntervalSince(t1)))
    }

    @Test func everyDocumentOfAGeneratedBookHasJSONEncodersBytes() throws {
        let scores = try Self.scores()
        #expect(scores.count > 4_000)
        // The book must reach every shape of document, or equality proves little.
        let warnings = scores.compactMap(\.assessment.warning)
        #expect(warnings.contains { $0.gap == nil } && warnings.contains { $0.gap != nil }, "warnings with and without a gap")
        let codes = Set(scores.flatMap { $0.signals.map(\.code) })
        #expect(codes == Set(SignalCode.allCases), "every signal raised somewhere; missing \(Set(SignalCode.allCases).subtracting(codes))")
        #expect(scores.contains { $0.value.activity.lastActivityOn == nil } && scores.contains { $0.value.activity.lastActivityOn != nil })
        #expect(scores.contains { $0.nextBestAction.recommendations.contains { $0.kind == .product } })
        let reasons = Set(scores.flatMap { $0.nextBestAction.suitability.map(\.reason) })
        #expect(reasons.count >= 5, "suitability reasons reached: \(reasons)")

        let (expected, written, seconds) = try Self.documents(scores)
        #expect(expected.count == written.count)
        var mismatches = 0
        for (e, w) in zip(expected, written) where e != w {
            mismatches += 1
            if mismatches <= 3 { Issue.record("JSONTextWriter differs from JSONEncoder:\nencoder \(e)\nwriter  \(w)") }
        }
        #expect(mismatches == 0, "\(mismatches) of \(expected.count) documents differ")
        let bytes = expected.reduce(0) { $0 + $1.utf8.count }
        print("JSONTextDocumentsTests: \(scores.count) scores, \(expected.count) documents, \(bytes) bytes; "
              + "JSONEncoder \(String(format: "%.3f", seconds.0)) s, JSONTextWriter \(String(format: "%.3f", seconds.1)) s "
              + "(debug builds are not representative; release figures in JSONTextWriter.swift)")
    }
}
