import Foundation
import Postgres
import ServiceKit

/// The login users the deployed services connect as, one per service, each a member of exactly one
/// `tierguard_*` role of the 0005 migration (and so holding only that role's grants and timeouts).
///
/// `TIERGUARD_SERVICE_LOGINS` names them for `tierguardctl migrate`, which the migration job runs as the
/// owning role after migrating: a comma-separated list of `service=login:password-file`, e.g.
/// `ingest=ingest_svc:/run/secrets/ingest-db-password,scorer=scorer_svc:/run/secrets/scorer-db-password`.
/// Services: ingest, scorer, notifier, feedback, operator, rm. A password comes from its file (the
/// container secret, trailing newline dropped; at least 16 characters) and is passed to PostgreSQL as a
/// bound parameter of `tierguard_ensure_service_login` (0011), never printed. Ensuring is idempotent: it
/// creates the login or resets its password, grants the role, and copies the role's timeouts onto it.
public struct ServiceLogin: Equatable, Sendable {
    public var service: String
    public var login: String
    public var passwordFile: String

    /// The group role this login joins.
    public var role: String { "tierguard_\(service)" }
}

public enum ServiceLogins {
    public static let services = ["ingest", "scorer", "notifier", "feedback", "operator", "rm"]

    public static let variable = ConfigVariable(
        "TIERGUARD_SERVICE_LOGINS", default: "",
        "tierguardctl migrate: login users to ensure, service=login:password-file,… (services: ingest, scorer, notifier, feedback, operator, rm)")

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Parses the variable's value; an empty value is no login at all.
    public static func parse(_ text: String) throws -> [ServiceLogin] {
        var logins: [ServiceLogin] = []
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            let rest = parts.count == 2 ? parts[1].split(separator: ":", maxSplits: 1).map(String.init) : []
            guard parts.count == 2, rest.count == 2, !rest[0].isEmpty, !rest[1].isEmpty else {
                throw Invalid(description: "\(variable.name): entry \"\(entry)\" is not service=login:password-file")
            }
            guard services.contains(parts[0]) else {
                throw Invalid(description: "\(variable.name): \"\(parts[0])\" is not a service (one of \(services.joined(separator: ", ")))")
            }
            guard !logins.contains(where: { $0.login == rest[0] }) else {
                throw Invalid(description: "\(variable.name): login \"\(rest[0])\" is named twice")
            }
            logins.append(ServiceLogin(service: parts[0], login: rest[0], passwordFile: rest[1]))
        }
        return logins
    }

    static let ensureQuery = PostgresQuery("SELECT tierguard_ensure_service_login($1, $2, $3)",
                                           name: "ServiceLogins.ensure")

    /// Creates or updates each login (see the type's documentation). Throws on an unreadable password
    /// file, naming the file and the login, never the password.
    public static func ensure(_ session: PostgresSession, _ logins: [ServiceLogin]) throws {
        for login in logins {
            let password: String
            do {
                password = try String(contentsOfFile: login.passwordFile, encoding: .utf8)
                    .trimmingCharacters(in: .newlines)
            } catch {
                throw Invalid(description: "service login \(login.login): cannot read password file \(login.passwordFile)")
            }
            try session.execute(ensureQuery.binding(login.login, login.role, password))
        }
    }
}
