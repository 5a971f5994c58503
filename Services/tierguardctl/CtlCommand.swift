import Foundation
import Postgres
import ServiceKit

/// One `tierguardctl` subcommand; a file each (`MigrateCommand.swift`).
///
/// The CLI is synchronous on the main thread: it is a short-lived process, so its blocking libpq
/// calls never touch Swift's cooperative pool.
protocol CtlCommand: Sendable {
    static var spec: CommandSpec { get }
    static func run(_ arguments: Arguments, _ context: CtlContext) throws -> ExitCode
}

/// What every subcommand gets: configuration, a logger, a way to connect, and where to print.
struct CtlContext {
    let config: EnvironmentConfig
    let logger: Logger

    /// Connects with `application_name = tierguardctl`.
    func connect() throws -> PostgresSession {
        try PostgresSession(configuration: PostgresConfiguration(
            try config.string(ConfigVariable.databaseURL.name), applicationName: "tierguardctl"))
    }

    func print(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Operator identity for audit rows: `TIERGUARD_OPERATOR`, else the login name.
    var operatorName: String {
        (try? config.optionalString("TIERGUARD_OPERATOR")).flatMap { $0 }
            ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown"
    }
}

/// Not yet available in this build; says so instead of pretending.
struct NotImplemented: Error, CustomStringConvertible {
    var command: String
    var description: String { "tierguardctl \(command) is not available in this build yet" }
}
