public import Foundation

/// `scenarios.json`: which generated customers belong to which named scenario, what the scorer is
/// expected to find for each, and every deliberately invalid line with the outcome ingest must give.
///
/// Written beside the feed by `SampleFeed.write`; tests, the demo and benchmarks read it back with
/// `ScenarioManifest.load(path:)`. JSON keys are snake_case, keys sorted, so the file is byte-stable
/// for a seed. Expectations are the design of the data (written before any scoring code runs on
/// it); `SampleFeedTests` proves them by running `TierAssessment` and `SignalEvaluator` on the
/// generated records.
public struct ScenarioManifest: Codable, Sendable, Hashable {
    /// `tierguard-sample-scenarios/1`.
    public var format: String
    /// The feed contract version of the records (`1.1`).
    public var contractVersion: String
    public var seed: UInt64
    public var customerCount: Int
    public var days: Int
    /// The business date: the latest `as_of` of any balance in the feed, `YYYY-MM-DD`.
    public var businessDate: String
    /// The first day with balances (business date − days + 1).
    public var firstBalanceDate: String
    /// The bank's own counterparty code in the data (`TGBK`); transfers to any other code are outflows.
    public var bankCode: String
    /// `ndjson` or `csv`.
    public var feedFormat: String
    /// The files written, relative to the output directory.
    public var files: [String]
    /// Valid records written, by type (pending balances and exact duplicates included).
    public var recordCounts: RecordCounts
    public var scenarios: [Scenario]
    /// Scenarios the options did not allow (too few customers or days), with the reason.
    public var skippedScenarios: [SkippedScenario]
    /// Every deliberately invalid, pending or duplicate line, in file and line order.
    public var invalidLines: [InvalidLine]
    /// RM routing cases for the notifier.
    public var routing: Routing

    public static let formatName = "tierguard-sample-scenarios/1"

    public struct RecordCounts: Codable, Sendable, Hashable {
        public var customer = 0
        public var account = 0
        public var balance = 0
        public var transaction = 0
        public var relationshipManager = 0
        public init() {}
    }

    public struct Scenario: Codable, Sendable, Hashable {
        /// `steady_gold`, `aum_drift_to_lower_tier`, `outflow_to_competitor`… (see `SampleScenario`).
        public var name: String
        public var description: String
        public var customers: [CustomerExpectation]
    }

    public struct SkippedScenario: Codable, Sendable, Hashable {
        public var name: String
        public var reason: String
    }

    /// What the scorer should find for one customer on the business date, with the built-in policy.
    public struct CustomerExpectation: Codable, Sendable, Hashable {
        public var customerId: String
        /// Tier code in force on the business date (`standard`, `gold`, `platinum`, `diamond`, `private`).
        public var tier: String
        /// True when the customer has no complete month yet (first balance in the business date's month).
        public var provisional: Bool
        /// Whether a `downgrade_risk` early warning is expected (a downgrade within the 45-day horizon).
        public var downgradeRisk: Bool
        public var downgrade: ExpectedDowngrade?
        /// Signal codes expected on the business date, sorted as `SignalCode` orders them.
        public var signals: [String]
        /// The next birthday when it falls in the week after the business date.
        public var birthdayOn: String?
        /// Accounts a `maturity_upcoming` signal should list.
        public var maturingAccounts: [String]?
        public var marketingOptOut: Bool
        public var rmId: String
    }

    public struct ExpectedDowngrade: Codable, Sendable, Hashable {
        /// The 1st of the month the downgrade would take effect.
        public var effectiveOn: String
        public var fromTier: String
        public var toTier: String
    }

    /// A line ingest must not simply accept: a reject (with the field and a phrase of the reason), a
    /// record kept pending, or an exact duplicate counted as unchanged.
    public struct InvalidLine: Codable, Sendable, Hashable {
        public var file: String
        /// Physical line number from 1 (the header of a CSV file is line 1).
        public var line: Int
        /// `InvalidLineKind` raw value: `bad_check_digit`, `money_as_json_number`…
        public var kind: String
        /// `reject`, `pending` or `unchanged`.
        public var expected: String
        public var recordType: String?
        /// The field the reject names (`FeedReject.field`), nil for a line-level fault.
        public var field: String?
        /// A phrase the reject reason contains.
        public var reasonContains: String?
    }

    public struct Routing: Codable, Sendable, Hashable {
        /// RMs sent with `active: false`; their customers go to the branch fallback route.
        public var inactiveRmIds: [String]
        public var customersOfInactiveRms: [String]
        /// rm_id values customers carry that no relationship_manager record has.
        public var unknownRmIds: [String]
        public var customersWithUnknownRm: [String]
        /// Every branch and its lead RM (the escalation target of the branch's RMs).
        public var branches: [Branch]
    }

    public struct Branch: Codable, Sendable, Hashable {
        public var branchId: String
        public var leadRmId: String
        public var rmIds: [String]
    }

    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    public static func decode(_ data: Data) throws -> ScenarioManifest {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ScenarioManifest.self, from: data)
    }

    public static func load(path: String) throws -> ScenarioManifest {
        try decode(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Every customer expectation, with its scenario name.
    public var allExpectations: [(scenario: String, expectation: CustomerExpectation)] {
        scenarios.flatMap { s in s.customers.map { (s.name, $0) } }
    }
}
