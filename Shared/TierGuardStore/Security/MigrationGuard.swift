import Foundation
import Postgres
import ServiceKit

/// Refuses to migrate as a PostgreSQL superuser when `TIERGUARD_ENVIRONMENT=production`.
///
/// Why: a superuser bypasses every grant, row-level security policy and role limit the migrations
/// set up (issue 11, least privilege), and objects it creates belong to it, so one slip in a
/// migration runs with the power to read or drop anything in the cluster. In production the
/// migrating login is a dedicated owner role with `CREATEROLE` (it creates the `tierguard_*` roles)
/// and without `SUPERUSER`. Outside production (developer clusters, tests) a superuser is allowed.
/// Checked by both migration paths: `tierguardctl migrate` and each service's start-up migration
/// (`ServiceBootstrap.connectAndMigrate`).
public enum MigrationGuard {
    /// The value of `TIERGUARD_ENVIRONMENT` that turns the check on (compared exactly, lower case).
    public static let production = "production"

    /// True when the configuration says `TIERGUARD_ENVIRONMENT=production`.
    public static func isProduction(_ config: EnvironmentConfig) -> Bool {
        (try? config.optionalString(ConfigVariable.environment.name)).flatMap { $0 }?
            .trimmingCharacters(in: .whitespaces) == production
    }

    /// The refusal: what happened, why, and what to do instead.
    public struct SuperuserRefused: Error, CustomStringConvertible {
        public let role: String
        public var description: String {
            "refusing to migrate as PostgreSQL superuser \"\(role)\" in production (TIERGUARD_ENVIRONMENT=production): "
            + "a superuser bypasses the grants, row-level security and role limits the migrations set up, and would own "
            + "what it creates. Run the migration as the owner role instead, a login with CREATEROLE and without "
            + "SUPERUSER, e.g. CREATE ROLE tierguard_owner LOGIN CREATEROLE PASSWORD '…'; GRANT CREATE ON DATABASE "
            + "<db> TO tierguard_owner; then point DATABASE_URL at it (see deploy/SECURITY.md)."
        }
    }

    static let isSuperuser = PostgresQuery(
        "SELECT current_user::text, rolsuper FROM pg_roles WHERE rolname = current_user",
        name: "MigrationGuard.isSuperuser")

    /// Throws `SuperuserRefused` when `production` and the session's current user is a superuser.
    public static func check(_ session: PostgresSession, production: Bool) throws {
        guard production else { return }
        let rows = try session.query(isSuperuser)
        guard rows.count > 0 else { return }
        if try rows[0].decode(Bool.self, at: 1) {
            throw SuperuserRefused(role: try rows[0].decode(String.self, at: 0))
        }
    }
}
