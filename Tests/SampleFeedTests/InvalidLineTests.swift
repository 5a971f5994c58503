import FeedContract
import Foundation
import SampleFeed
import Testing
import TierGuardModel

@Suite struct InvalidLineTests {
    /// Every line the manifest does not list is accepted; every listed line gets its outcome.
    func check(_ feed: GeneratedFeed) {
        var listed: [String: [Int: ScenarioManifest.InvalidLine]] = [:]
        for line in feed.manifest.invalidLines { listed[line.file, default: [:]][line.line] = line }
        for (file, items) in feed.items {
            let invalid = listed[file] ?? [:]
            for item in items {
                guard let expected = invalid[item.lineNumber] else {
                    #expect(item.record != nil, "\(file) line \(item.lineNumber) rejected: \(item.reject?.reason ?? "")")
                    continue
                }
                switch expected.expected {
                case "reject":
                    guard let reject = item.reject else {
                        Issue.record("\(file) line \(item.lineNumber) (\(expected.kind)) was accepted")
                        continue
                    }
                    #expect(reject.field == expected.field, "\(expected.kind): \(reject.reason)")
                    if let phrase = expected.reasonContains {
                        #expect(reject.reason.contains(phrase), "\(expected.kind): \(reject.reason)")
                    }
                case "pending", "unchanged":
                    #expect(item.record?.recordType.rawValue == expected.recordType, "\(expected.kind) at \(file):\(item.lineNumber)")
                default:
                    Issue.record("unknown expectation \(expected.expected)")
                }
            }
            // Every listed line exists in the file.
            let numbers = Set(items.map(\.lineNumber))
            for line in invalid.keys { #expect(numbers.contains(line), "\(file) has no line \(line)") }
        }
    }

    @Test func ndjsonCarriesEveryKindAndEachGetsItsOutcome() throws {
        let feed = try GeneratedFeed(SampleFeedOptions(customers: 30, days: 62, seed: 11))
        defer { feed.remove() }
        #expect(Set(feed.manifest.invalidLines.map(\.kind)) == Set(InvalidLineKind.allCases.map(\.rawValue)))
        check(feed)
        // The pending balance's account never arrives; the duplicate repeats an accepted balance.
        let accountIds = Set(feed.accounts.values.flatMap { $0.map(\.accountId) })
        let pendingLines = Set(feed.manifest.invalidLines.filter { $0.expected == "pending" }.map(\.line))
        for item in feed.items["feed.ndjson"]! where pendingLines.contains(item.lineNumber) {
            guard case .record(.balance(let b), _) = item else { Issue.record("pending line is not a balance"); continue }
            #expect(!accountIds.contains(b.accountId))
        }
        let duplicateLines = Set(feed.manifest.invalidLines.filter { $0.expected == "unchanged" }.map(\.line))
        let balances = feed.items["feed.ndjson"]!.compactMap { item -> (Int, Balance)? in
            if case .record(.balance(let b), let line) = item { (line, b) } else { nil }
        }
        for line in duplicateLines {
            let duplicate = balances.first { $0.0 == line }!.1
            #expect(balances.contains { $0.0 < line && $0.1 == duplicate })
        }
    }

    @Test func csvCarriesEveryKindItCanExpress() throws {
        let feed = try GeneratedFeed(SampleFeedOptions(customers: 30, days: 62, seed: 11, format: .csv))
        defer { feed.remove() }
        let expected = InvalidLineKind.allCases.filter { !$0.isNDJSONOnly }.map(\.rawValue)
        #expect(Set(feed.manifest.invalidLines.map(\.kind)) == Set(expected))
        #expect(feed.manifest.files.count == 5)
        check(feed)
    }

    @Test func perMilleScalesInvalidLinesAndZeroGivesACleanFeed() throws {
        let clean = try GeneratedFeed(SampleFeedOptions(customers: 20, days: 62, seed: 5, invalidPerMille: 0))
        defer { clean.remove() }
        #expect(clean.manifest.invalidLines.isEmpty)
        #expect(clean.items["feed.ndjson"]!.allSatisfy { $0.record != nil })

        let noisy = try GeneratedFeed(SampleFeedOptions(customers: 20, days: 62, seed: 5, invalidPerMille: 20))
        defer { noisy.remove() }
        // 20 customers × (3 × 62 + 40) lines × 20 / 1000 = 90 invalid lines.
        #expect(noisy.manifest.invalidLines.count == 90)
        check(noisy)
    }

    @Test func csvAndNDJSONCarryTheSameRecords() throws {
        let ndjson = try GeneratedFeed(SampleFeedOptions(customers: 40, days: 70, seed: 21))
        let csv = try GeneratedFeed(SampleFeedOptions(customers: 40, days: 70, seed: 21, format: .csv))
        defer { ndjson.remove(); csv.remove() }
        func counted(_ records: [FeedRecord]) -> [FeedRecord: Int] { records.reduce(into: [:]) { $0[$1, default: 0] += 1 } }
        #expect(ndjson.records.count == csv.records.count)
        #expect(counted(ndjson.records) == counted(csv.records))
        #expect(ndjson.manifest.recordCounts == csv.manifest.recordCounts)
        let total = ndjson.manifest.recordCounts
        #expect(ndjson.records.count == total.customer + total.account + total.balance + total.transaction + total.relationshipManager)
    }
}
