import Foundation
import SampleFeed
import TierGuardModel
import TierGuardStore

/// `tierguard-bench auc [--customers 5000] [--seed 42] [--business-date 2026-11-30]`
///
/// The retention-risk model's discrimination on the generator's scenarios (issue 5), no database:
/// writes a clean sample feed (120 days, no invalid lines) to a temporary directory, scores every
/// customer with `CustomerScore.compute` (the scorer's own function, built-in policy and catalog)
/// and labels and ranks them with `RetentionDiscrimination` (positives, negatives and excluded
/// scenarios are listed there). Prints the counts, the AUC and each scenario's mean probability,
/// and how many customers the SampleFeed replica of the model scores differently from
/// `CustomerScore.compute` (0 expected; non-zero exits 1). Deterministic for a seed.
enum AucBench {
    static let usage = "usage: tierguard-bench auc [--customers N] [--seed S] [--business-date YYYY-MM-DD]\n"

    static func run(_ arguments: [String]) async throws -> Int32 {
        var options: [String: String] = [:]
        var i = 0
        while i < arguments.count {
            guard arguments[i].hasPrefix("--"), i + 1 < arguments.count else {
                FileHandle.standardError.write(Data(usage.utf8))
                return 64
            }
            options[String(arguments[i].dropFirst(2))] = arguments[i + 1]
            i += 2
        }
        guard Set(options.keys).isSubset(of: ["customers", "seed", "business-date"]),
              let customers = Int(options["customers"] ?? "5000"),
              let seed = UInt64(options["seed"] ?? "42"),
              let businessDate = CalendarDate(options["business-date"] ?? SampleFeed.defaultBusinessDate.description)
        else {
            FileHandle.standardError.write(Data(usage.utf8))
            return 64
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("tierguard-auc-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let t0 = Date()
        try SampleFeed.write(
            SampleFeedOptions(customers: customers, days: 120, seed: seed, businessDate: businessDate, invalidPerMille: 0),
            toDirectory: directory)
        let policy = ScoringPolicy.builtIn
        let catalog = ProductCatalog.builtIn
        var mismatches = 0
        let result = try RetentionDiscrimination.measure(directory: directory, policy: policy) { records, bd in
            let score = CustomerScore.compute(
                CustomerInput(customer: records.customer, accounts: records.accounts, balances: records.balances,
                              transactions: records.transactions),
                businessDate: bd, policy: policy, catalog: catalog)
            let p = score.value.retention.probability
            if p != RetentionDiscrimination.probability(records, businessDate: bd, policy: policy) { mismatches += 1 }
            return p
        }
        print("retention-risk AUC on generated scenarios: seed \(seed), BD \(businessDate), 120 days, policy \(policy.version)")
        print("customers \(result.customers), positives \(result.positives), negatives \(result.negatives), excluded \(result.excluded)")
        print("AUC \(String(format: "%.4f", result.auc))")
        for s in result.scenarios {
            let name = s.name.padding(toLength: 26, withPad: " ", startingAt: 0)
            let label = s.label.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
            print("  \(name) \(label) n=\(String(s.customers).leftPad(5))  mean p \(String(format: "%.4f", s.meanProbability))")
        }
        print("CustomerScore.compute vs replica: \(mismatches) of \(result.customers) differ; \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
        return mismatches == 0 ? 0 : 1
    }
}

extension String {
    fileprivate func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
