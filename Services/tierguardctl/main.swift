import Foundation
import ServiceKit
import TierGuardStore

/// tierguardctl: the operator's CLI. Exit codes: 0 success, 1 failure, 64 usage error.
let version = "tierguardctl 0.1.0"
let configSpec = ServiceConfig(service: "tierguardctl", variables: [
    .databaseURL, .logLevel, .environment,
    ConfigVariable("TIERGUARD_OPERATOR", default: nil, "Operator name recorded in audit rows (default: $USER)"),
    ServiceLogins.variable,
])
let root = CommandSpec(
    name: "tierguardctl", abstract: "Operate TierGuard: migrations, jobs, rejects, customers, policy, reports",
    subcommands: allCommands.map { $0.spec }, version: version, footer: configSpec.helpText)

let arguments = Arguments.parseCommandLine(spec: root)
guard let name = arguments.subcommands.first, let command = allCommands.first(where: { $0.spec.name == name }) else {
    FileHandle.standardError.write(Data((root.usage() + "\n").utf8))
    ExitCode.usage.exit()
}
do {
    let config = configSpec.resolve()
    let logger = Logger(service: "tierguardctl", threshold: (try? config.logLevel()) ?? .info)
    let code = try command.run(arguments, CtlContext(config: config, logger: logger))
    code.exit()
} catch let error as UsageError {
    FileHandle.standardError.write(Data((error.description + "\n").utf8))
    error.exitCode.exit()
} catch {
    FileHandle.standardError.write(Data("tierguardctl: \(error)\n".utf8))
    ExitCode.failure.exit()
}
