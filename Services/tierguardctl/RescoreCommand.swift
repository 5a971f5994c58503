import Foundation
import ServiceKit
import Postgres
import TierGuardModel
import TierGuardStore

/// `tierguardctl rescore --all` re-scores the whole book now (the same `BookScorer` the scorer's
/// daily job runs); `tierguardctl rescore ID…` re-scores the named customers (`CustomerScorer`).
/// Policy, catalog and business date come from `TIERGUARD_POLICY_FILE`, `TIERGUARD_CATALOG_FILE`
/// and `TIERGUARD_BUSINESS_DATE` as for the scorer.
enum RescoreCommand: CtlCommand {
    static let spec = CommandSpec(
        name: "rescore", abstract: "Re-score the whole book (--all) or the named customers",
        flags: [.init("all", help: "Re-score every customer")],
        options: [.init("chunk", valueName: "N", help: "Customers per transaction with --all (default 1000)")],
        positionals: [.init("ID", help: "Customer ids", isOptional: true, isVariadic: true)])

    static func run(_ arguments: Arguments, _ context: CtlContext) throws -> ExitCode {
        let all = arguments.flag("all")
        guard all != !arguments.positionals.isEmpty else { throw arguments.usageError("give --all or customer ids, not both") }
        let settings = try ScoringSettings.load()
        let session = try context.connect()
        defer { session.close() }
        if all {
            let book = BookScorer(settings: settings, logger: context.logger, chunkSize: try arguments.int("chunk") ?? 1_000)
            let summary = try book.run(session)
            guard let bd = summary.businessDate else {
                context.print("no business date: the archive holds no balance yet")
                return .failure
            }
            context.print("rescored \(summary.customers) customers on business date \(bd) with policy \(settings.policy.version) "
                          + "in \(String(format: "%.2f", summary.seconds)) s (\(Int(summary.customersPerSecond))/s); "
                          + "\(summary.newAlerts) new alerts, \(summary.resolvedAlerts) resolved")
            if summary.notScored > 0 {
                context.print("\(summary.notScored) customer(s) not scored: a money value beyond what the model can sum "
                              + "(\(CustomerScorer.maxModelMoneyFen) fen); the log names each")
            }
            return .success
        }
        let scorer = CustomerScorer(settings: settings, logger: context.logger)
        var missing: [String] = [], beyondRange: [String] = []
        for id in arguments.positionals {
            let result = try scorer.score(session, customerIds: [id])
            guard let score = result.scores.first, let bd = result.businessDate else {
                if result.notScored.isEmpty { missing.append(id) } else { beyondRange.append(id) }
                continue
            }
            let a = score.assessment
            let warning = a.warning.map { " warning \($0.date) → \($0.toTier.code)" } ?? ""
            context.print("\(id): \(a.tier.code)\(a.isProvisional ? " (provisional)" : "") on \(bd)\(warning); "
                          + "\(score.signals.count) signals, \(result.outcome.newAlerts.count) new alerts")
        }
        if !beyondRange.isEmpty {
            context.print("not scored (a money value beyond \(CustomerScorer.maxModelMoneyFen) fen): \(beyondRange.joined(separator: ", "))")
        }
        if !missing.isEmpty {
            context.print("not scored (unknown customer or no balance yet): \(missing.joined(separator: ", "))")
        }
        if !missing.isEmpty || !beyondRange.isEmpty { return .failure }
        return .success
    }
}
