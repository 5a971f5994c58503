import Foundation
import ServiceKit

/// Command-line handling every benchmark shares: one `CommandSpec` per benchmark, parsed by
/// ServiceKit's `Arguments`, and the database URL from `--database-url` or `DATABASE_URL`.
/// A usage error reaches `main.swift`, which prints it with the usage text and exits 64.
enum BenchArguments {
    static let databaseURLOption = CommandSpec.Option(
        "database-url", valueName: "url", help: "PostgreSQL URL (default $DATABASE_URL)")

    /// The parsed arguments, or nil after printing `--help`.
    static func parse(_ arguments: [String], spec: CommandSpec) throws(UsageError) -> Arguments? {
        switch try Arguments.parse(arguments, spec: spec) {
        case .run(let parsed): return parsed
        case .help(let text), .version(let text):
            print(text)
            return nil
        }
    }

    static func databaseURL(_ arguments: Arguments) throws(UsageError) -> String {
        if let url = arguments.option("database-url"), !url.isEmpty { return url }
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty { return url }
        throw arguments.usageError("--database-url or DATABASE_URL is required")
    }
}
