import Foundation
import SampleFeed
import ServiceKit
import TierGuardModel

/// `tierguardctl generate`: writes a deterministic sample feed (contract v1.1) and `scenarios.json`.
///
/// Needs no database. The same options give byte-identical files; the business date defaults to
/// 2026-11-30, never today. Prints counts only (no names, ids or phone numbers).
enum GenerateCommand: CtlCommand {
    static let spec = CommandSpec(
        name: "generate", abstract: "Write a deterministic sample feed with named scenarios (no database needed)",
        options: [
            .init("customers", valueName: "N", help: "Number of customers", isRequired: true),
            .init("out", valueName: "DIR", help: "Output directory (created if missing)", isRequired: true),
            .init("days", valueName: "D", help: "Days of daily balances ending at the business date (default 90, at least 62)"),
            .init("seed", valueName: "S", help: "Random seed, an unsigned 64-bit integer (default 1)"),
            .init("business-date", valueName: "YYYY-MM-DD", help: "Last balance day (default 2026-11-30)"),
            .init("format", valueName: "ndjson|csv", help: "feed.ndjson (default) or one CSV file per record type"),
            .init("invalid-per-mille", valueName: "K",
                  help: "Invalid lines per 1,000 lines (default: each kind once; 0: none)"),
        ])

    static func run(_ arguments: Arguments, _ context: CtlContext) throws -> ExitCode {
        guard let customers = try arguments.int("customers"), let out = arguments.option("out") else {
            throw arguments.usageError("--customers and --out are required")
        }
        var options = SampleFeedOptions(customers: customers, seed: 1)
        if let days = try arguments.int("days") { options.days = days }
        if let text = arguments.option("seed") {
            guard let seed = UInt64(text) else { throw arguments.usageError("--seed expects an unsigned integer, got \"\(text)\"") }
            options.seed = seed
        }
        if let text = arguments.option("business-date") {
            guard let date = CalendarDate(text) else { throw arguments.usageError("--business-date expects YYYY-MM-DD, got \"\(text)\"") }
            options.businessDate = date
        }
        if let text = arguments.option("format") {
            guard let format = SampleFeedFormat(rawValue: text) else { throw arguments.usageError("--format must be ndjson or csv, got \"\(text)\"") }
            options.format = format
        }
        if let k = try arguments.int("invalid-per-mille") { options.invalidPerMille = k }

        let started = Date()
        let summary: SampleFeedSummary
        do {
            summary = try SampleFeed.write(options, toDirectory: out)
        } catch let error as SampleFeedError {
            throw arguments.usageError(error.message)
        }
        let seconds = Date().timeIntervalSince(started)
        let c = summary.recordCounts
        context.print("wrote \(summary.files.map { out + "/" + $0 }.joined(separator: " "))")
        context.print("records: \(c.customer) customers, \(c.account) accounts, \(c.balance) balances, "
            + "\(c.transaction) transactions, \(c.relationshipManager) relationship managers; "
            + "\(summary.invalidLines) invalid/pending/duplicate lines")
        context.print("business date \(options.businessDate), \(options.days) days, seed \(options.seed), "
            + String(format: "%.2f s", seconds))
        for (name, count) in summary.scenarios { context.print("scenario \(name): \(count) customers") }
        for name in summary.skippedScenarios { context.print("scenario \(name): skipped (see scenarios.json)") }
        return .success
    }
}
