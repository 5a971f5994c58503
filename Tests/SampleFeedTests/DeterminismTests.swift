import FeedContract
import Foundation
import SampleFeed
import Testing
import TierGuardModel

@Suite struct DeterminismTests {
    func files(_ options: SampleFeedOptions) throws -> [String: Data] {
        let directory = GeneratedFeed.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let summary = try SampleFeed.write(options, toDirectory: directory)
        var out: [String: Data] = [:]
        for file in summary.files { out[file] = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file)) }
        return out
    }

    @Test func sameSeedGivesIdenticalBytes() throws {
        for format in SampleFeedFormat.allCases {
            let options = SampleFeedOptions(customers: 40, days: 70, seed: 20_261_130, format: format)
            let first = try files(options)
            let second = try files(options)
            #expect(first.keys.sorted() == second.keys.sorted())
            for (name, data) in first {
                #expect(data == second[name], "\(format) \(name) differs between two runs with the same seed")
                #expect(data.count > 100)
            }
        }
    }

    @Test func differentSeedGivesDifferentFeed() throws {
        let a = try files(SampleFeedOptions(customers: 40, days: 70, seed: 1))
        let b = try files(SampleFeedOptions(customers: 40, days: 70, seed: 2))
        #expect(a["feed.ndjson"] != b["feed.ndjson"])
        #expect(a["scenarios.json"] != b["scenarios.json"])
    }

    @Test func businessDateComesFromOptionsNotTheClock() throws {
        let feed = try GeneratedFeed(SampleFeedOptions(customers: 20, days: 62, seed: 3,
                                                       businessDate: CalendarDate(year: 2025, month: 6, day: 17)!))
        defer { feed.remove() }
        let latest = feed.records.compactMap { record -> CalendarDate? in
            if case .balance(let b) = record { return b.asOf } else { return nil }
        }.max()
        #expect(latest == CalendarDate(year: 2025, month: 6, day: 17)!)
        #expect(feed.manifest.firstBalanceDate == "2025-04-17")
    }

    @Test func transactionsOnlyFeedIsValidDeterministicAndComplete() throws {
        func write() throws -> (Data, TransactionsOnlySummary) {
            let directory = GeneratedFeed.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let path = directory + "/bench.ndjson"
            #expect(FileManager.default.createFile(atPath: path, contents: nil))
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            let summary = try SampleFeed.writeTransactionsOnly(count: 30_000, customers: 200, seed: 9, to: handle)
            try handle.close()
            return (try Data(contentsOf: URL(fileURLWithPath: path)), summary)
        }
        let (data, summary) = try write()
        let (again, _) = try write()
        #expect(data == again)
        #expect(summary.bytes == data.count)
        #expect(summary.lines == 30_000 + 3 * 200)
        let items = try FeedDecoder.decode(bytes: Array(data), format: .ndjson)
        #expect(items.count == summary.lines)
        #expect(items.allSatisfy { $0.record != nil }, "\(items.first { $0.reject != nil }?.reject?.reason ?? "")")
        let transactions = items.filter { if case .record(.transaction, _) = $0 { true } else { false } }
        #expect(transactions.count == 30_000)
        let accounts = Set(items.compactMap { item -> String? in
            if case .record(.account(let a), _) = item { a.accountId } else { nil }
        })
        let orphan = items.contains { item in
            if case .record(.transaction(let t), _) = item { !accounts.contains(t.accountId) } else { false }
        }
        #expect(!orphan)
        #expect(data.count / summary.lines > 150)
    }
}
