import FeedContract
import Foundation
import SampleFeed
import TierGuardModel

/// A sample feed generated into a fresh temporary directory and decoded with the real
/// `FeedDecoder`, grouped for the tests.
struct GeneratedFeed {
    let directory: String
    let manifest: ScenarioManifest
    /// Every decoded item, per file.
    var items: [String: [FeedItem]] = [:]

    var customers: [String: Customer] = [:]
    var accounts: [String: [Account]] = [:]
    var balancesByAccount: [String: [Balance]] = [:]
    var transactionsByAccount: [String: [Transaction]] = [:]
    var managers: [String: RelationshipManager] = [:]
    var records: [FeedRecord] = []

    static func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("samplefeed-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    init(_ options: SampleFeedOptions) throws {
        directory = GeneratedFeed.temporaryDirectory()
        try SampleFeed.write(options, toDirectory: directory)
        manifest = try ScenarioManifest.load(path: directory + "/scenarios.json")
        for file in manifest.files {
            guard let format = FeedFormat.inferred(fromFileName: file) else { continue }
            let reader = try FeedLineReader(path: directory + "/" + file)
            var list: [FeedItem] = []
            try FeedDecoder.decode(reader, format: format) { list.append($0) }
            items[file] = list
            for item in list {
                guard let record = item.record else { continue }
                records.append(record)
                switch record {
                case .customer(let c): customers[c.customerId] = c
                case .account(let a): accounts[a.customerId, default: []].append(a)
                case .balance(let b): balancesByAccount[b.accountId, default: []].append(b)
                case .transaction(let t): transactionsByAccount[t.accountId, default: []].append(t)
                case .relationshipManager(let r): managers[r.rmId] = r
                }
            }
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    func bytes(_ file: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file)) }

    var businessDate: CalendarDate { CalendarDate(manifest.businessDate)! }

    /// The scorer's view of one customer on the business date with the built-in policy.
    func judge(_ customerId: String) -> (assessment: TierAssessment, signals: [Signal]) {
        let policy = ScoringPolicy.builtIn
        let own = accounts[customerId] ?? []
        let balances = own.flatMap { balancesByAccount[$0.accountId] ?? [] }
        let transactions = own.flatMap { transactionsByAccount[$0.accountId] ?? [] }
        let bd = businessDate
        let daily = DailyAum(accounts: own, balances: balances, businessDate: bd)
        let assessment = TierAssessment.assess(daily: daily, policy: policy)
        var dailyAUM: [CalendarDate: Fen] = [:]
        for back in 0...40 { dailyAUM[bd.adding(days: -back)] = daily.aum(on: bd.adding(days: -back)) }
        let holdings = own.map { AccountHolding(account: $0, aum: assessment.accountAum[$0.accountId] ?? .zero) }
        let input = SignalInput(businessDate: bd, dailyAUM: dailyAUM, holdings: holdings, transactions: transactions,
                                customer: customers[customerId]!, tier: assessment.tier)
        return (assessment, SignalEvaluator.evaluate(input, policy: policy))
    }
}
