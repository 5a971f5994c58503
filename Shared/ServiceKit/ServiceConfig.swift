import Foundation

/// One environment variable a service reads, declared once with its default and meaning.
///
/// The declaration is the single source for three things: the value lookup, the `--help` listing and
/// the start-up summary, so a default is never stated twice. A variable without a default is required.
public struct ConfigVariable: Sendable, Hashable {
    /// The variable's name, e.g. `TIERGUARD_HTTP_PORT`.
    public let name: String
    /// The value used when neither `NAME` nor `NAME_FILE` is set; `nil` makes the variable required.
    public let defaultValue: String?
    /// One line for `--help`.
    public let summary: String
    /// A secret is never printed: the start-up summary and errors show `****` in its place.
    public let isSecret: Bool

    public init(_ name: String, default defaultValue: String?, _ summary: String, isSecret: Bool = false) {
        self.name = name
        self.defaultValue = defaultValue
        self.summary = summary
        self.isSecret = isSecret
    }

    /// The companion variable naming a file that holds the value (`DATABASE_URL_FILE`).
    public var fileVariableName: String { name + "_FILE" }
}

extension ConfigVariable {
    /// `DATABASE_URL`: a libpq URL or conninfo. Not flagged secret so that host and database show in the
    /// start-up summary; its password is masked there anyway. Prefer `DATABASE_URL_FILE` in containers.
    public static let databaseURL = ConfigVariable(
        "DATABASE_URL", default: nil, "PostgreSQL connection URL (postgres://user:pass@host:5432/db); or DATABASE_URL_FILE")
    /// Log threshold, one of trace, debug, info, notice, warning, error, critical.
    public static let logLevel = ConfigVariable(
        "TIERGUARD_LOG_LEVEL", default: "info", "lowest log level written: trace, debug, info, notice, warning, error, critical")
    /// Address the HTTP listener binds; `0.0.0.0` in containers.
    public static let httpHost = ConfigVariable(
        "TIERGUARD_HTTP_HOST", default: "127.0.0.1", "address the HTTP listener binds (0.0.0.0 for all interfaces)")
    /// Port of the HTTP listener; 0 picks a free port.
    public static let httpPort = ConfigVariable(
        "TIERGUARD_HTTP_PORT", default: "8080", "port of the HTTP listener (/livez, /readyz, /metrics); 0 picks a free port")
    /// The deployment's name: `production` turns on the checks that only matter there (the migration
    /// refuses to run as a PostgreSQL superuser); anything else (`development`, `test`, …) does not.
    public static let environment = ConfigVariable(
        "TIERGUARD_ENVIRONMENT", default: "development",
        "deployment name; production refuses to migrate as a PostgreSQL superuser")
}

/// The set of variables one service declares, with its name; knows how to describe them.
public struct ServiceConfig: Sendable {
    /// The service name used in logs and `application_name`, e.g. `tierguard-scorer`.
    public let service: String
    /// Every variable the service reads, in the order `--help` lists them.
    public let variables: [ConfigVariable]

    public init(service: String, variables: [ConfigVariable]) {
        var seen = Set<String>()
        for variable in variables {
            precondition(seen.insert(variable.name).inserted, "config variable \(variable.name) declared twice")
        }
        self.service = service
        self.variables = variables
    }

    /// The `--help` section listing every variable with its default (or `required`) and summary.
    public var helpText: String {
        var lines = ["Environment variables (a secret or URL may instead be read from a file named by NAME_FILE):"]
        let width = min(variables.map(\.name.count).max() ?? 0, 32)
        for variable in variables {
            let padded = variable.name.padding(toLength: max(width, variable.name.count), withPad: " ", startingAt: 0)
            let shownDefault: String
            if let value = variable.defaultValue {
                shownDefault = variable.isSecret ? "default ****" : "default \"\(value)\""
            } else {
                shownDefault = "required"
            }
            let secret = variable.isSecret ? ", secret" : ""
            lines.append("  \(padded)  \(variable.summary) (\(shownDefault)\(secret))")
        }
        return lines.joined(separator: "\n")
    }

    /// Resolves the variables against an environment; `readFile` is injectable for tests.
    public func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        readFile: @escaping @Sendable (String) throws -> String = EnvironmentConfig.readFileContents
    ) -> EnvironmentConfig {
        EnvironmentConfig(config: self, environment: environment, readFile: readFile)
    }
}
