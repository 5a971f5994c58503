import Foundation
public import TierGuardModel

/// Deterministic sample feeds in contract v1.1, with named scenarios the scorer must recognise.
///
/// `write(_:toDirectory:)` is what `tierguardctl generate` runs: the feed (`feed.ndjson`, or one CSV
/// per record type) plus `scenarios.json` (`ScenarioManifest`). The same options give byte-identical
/// files: all randomness is `SampleRandom` (xoshiro256**), one stream per customer, and "today" is
/// the business date in the options (default 2026-11-30), never the wall clock.
///
/// `writeTransactionsOnly(count:customers:seed:to:)` is the ingest benchmark's feed: customers,
/// one account each and `count` transaction lines, streamed in 1 MiB chunks.
public enum SampleFeed {
    /// 2026-11-30: a fixed last day of a month, so the default feed never depends on when it is made.
    public static let defaultBusinessDate = CalendarDate(year: 2026, month: 11, day: 30)!
    /// 90 days: three months of 月日均, enough for every scenario with the default business date.
    public static let defaultDays = 90
    /// 62 days: the fewest that always cover the whole month before the business date's month, the
    /// month that fixes a steady customer's tier (a 31-day month plus up to 31 days of the current one).
    public static let minimumDays = 62

    /// Writes the feed and `scenarios.json` into `directory` (created if missing).
    @discardableResult
    public static func write(_ options: SampleFeedOptions, toDirectory directory: String) throws -> SampleFeedSummary {
        try options.validate()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let output = try FeedOutput(directory: directory, format: options.format)
        var generator = SampleGenerator(options: options, output: output)
        let manifest = try generator.run()
        try output.close()
        let manifestPath = directory + "/scenarios.json"
        try manifest.jsonData().write(to: URL(fileURLWithPath: manifestPath))
        return SampleFeedSummary(
            directory: directory, files: manifest.files + ["scenarios.json"], recordCounts: manifest.recordCounts,
            invalidLines: manifest.invalidLines.count, scenarios: manifest.scenarios.map { ($0.name, $0.customers.count) },
            skippedScenarios: manifest.skippedScenarios.map(\.name), manifest: manifest)
    }
}

public enum SampleFeedFormat: String, Sendable, Hashable, CaseIterable {
    /// `feed.ndjson`, every record type mixed.
    case ndjson
    /// `customers.csv`, `accounts.csv`, `balances.csv`, `transactions.csv`, `relationship_managers.csv`.
    case csv
}

/// What to generate. Only `customers` and `seed` have no default.
public struct SampleFeedOptions: Sendable, Hashable {
    public var customers: Int
    /// Daily balances of every account for this many days, ending at `businessDate` (≥ 62).
    public var days: Int
    public var seed: UInt64
    public var businessDate: CalendarDate
    public var format: SampleFeedFormat
    /// nil (default): each kind of invalid line once. 0: none at all (a clean feed). K > 0: about K
    /// invalid lines per 1,000 valid lines, cycling through every kind (each at least once).
    public var invalidPerMille: Int?
    /// The bank's own counterparty code (the policy's `bank_code`).
    public var bankCode: String

    public init(customers: Int, days: Int = SampleFeed.defaultDays, seed: UInt64,
                businessDate: CalendarDate = SampleFeed.defaultBusinessDate, format: SampleFeedFormat = .ndjson,
                invalidPerMille: Int? = nil, bankCode: String = "TGBK") {
        self.customers = customers
        self.days = days
        self.seed = seed
        self.businessDate = businessDate
        self.format = format
        self.invalidPerMille = invalidPerMille
        self.bankCode = bankCode
    }

    func validate() throws(SampleFeedError) {
        guard customers >= 1, customers <= 10_000_000 else {
            throw SampleFeedError("--customers must be 1…10000000, got \(customers)")
        }
        guard days >= SampleFeed.minimumDays, days <= 3660 else {
            throw SampleFeedError("--days must be \(SampleFeed.minimumDays)…3660, got \(days) (a steady tier needs the whole previous month)")
        }
        if let k = invalidPerMille, !(0...1000).contains(k) {
            throw SampleFeedError("--invalid-per-mille must be 0…1000, got \(k)")
        }
        guard businessDate.year >= 1900 else { throw SampleFeedError("--business-date must be 1900 or later") }
    }
}

/// What `write` produced, for a CLI line or a test.
public struct SampleFeedSummary: Sendable {
    public var directory: String
    public var files: [String]
    public var recordCounts: ScenarioManifest.RecordCounts
    public var invalidLines: Int
    public var scenarios: [(name: String, customers: Int)]
    public var skippedScenarios: [String]
    public var manifest: ScenarioManifest
}
