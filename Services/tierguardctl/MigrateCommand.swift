import Foundation
import Postgres
import ServiceKit
import TierGuardStore

/// `tierguardctl migrate`: applies the pending migrations under the advisory lock and lists them.
/// With `TIERGUARD_ENVIRONMENT=production` it refuses a superuser login (exit 78, `MigrationGuard`).
/// It refuses a login that does not own the schema (an operator or service login, exit 78, `OwnerRequired`):
/// migrating and creating logins are the owner's job; `--status` stays open to every login.
/// Then it ensures the service logins named by `TIERGUARD_SERVICE_LOGINS` (`ServiceLogins`).
enum MigrateCommand: CtlCommand {
    static let spec = CommandSpec(
        name: "migrate", abstract: "Apply pending database migrations (safe to run from several places at once)",
        flags: [.init("status", help: "List pending migrations without applying them")])

    static func run(_ arguments: Arguments, _ context: CtlContext) throws -> ExitCode {
        let session = try context.connect()
        defer { session.close() }
        if arguments.flag("status") {
            let pending = try Migrator.pending(session, TierGuardSchema.migrations())
            context.print(pending.isEmpty ? "up to date" : pending.map { "pending \($0.component) \($0.version)_\($0.name)" }.joined(separator: "\n"))
            return .success
        }
        do {
            try MigrationGuard.check(session, production: MigrationGuard.isProduction(context.config))
        } catch let refused as MigrationGuard.SuperuserRefused {
            FileHandle.standardError.write(Data("tierguardctl: \(refused)\n".utf8))
            return .configuration
        }
        if let refused = try OwnerRequired.check(session) {
            FileHandle.standardError.write(Data("tierguardctl: \(refused)\n".utf8))
            return .configuration
        }
        let logins: [ServiceLogin]
        do {
            logins = try ServiceLogins.parse(try context.config.string(ServiceLogins.variable.name))
        } catch {
            FileHandle.standardError.write(Data("tierguardctl: \(error)\n".utf8))
            return .configuration
        }
        let applied = try TierGuardSchema.migrate(session)
        for migration in applied {
            context.print("applied \(migration.component) \(migration.version)_\(migration.name)")
        }
        context.print(applied.isEmpty ? "up to date" : "\(applied.count) migration(s) applied")
        try ServiceLogins.ensure(session, logins)
        for login in logins {
            context.print("service login \(login.login) ensured (member of \(login.role))")
        }
        return .success
    }
}

/// Refuses `tierguardctl migrate` for a login that could not apply a migration anyway: one that is not
/// the owner of `schema_migrations` (nor a member of the owning role, nor a superuser), or, on an empty
/// database, one without CREATE on the schema. Typically an operator's login (`tierguard_operator`), which
/// otherwise failed with a bare `permission denied for schema public` (the migrator's first statement).
struct OwnerRequired: Error, CustomStringConvertible {
    let login: String
    let groups: String?
    let owner: String?

    var description: String {
        let why = owner.map { "does not own the schema (schema_migrations and the TierGuard tables belong to \"\($0)\")" }
            ?? "may not create tables in the schema"
        return "refusing to migrate as \"\(login)\"\(groups.map { " (member of \($0))" } ?? ""): this login \(why). "
            + "Migrating and creating service logins are the owner's job: run tierguardctl migrate with the owner's "
            + "DATABASE_URL (the migration job: owner-url in deploy/k8s, the migrate service in deploy/compose). "
            + "Any login may list what is pending: tierguardctl migrate --status."
    }

    static let query = PostgresQuery("""
        SELECT current_user::text,
               (SELECT string_agg(g.rolname::text, ', ' ORDER BY g.rolname) FROM pg_auth_members m
                JOIN pg_roles g ON g.oid = m.roleid
                WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = current_user) AND g.rolname LIKE 'tierguard\\_%'),
               pg_get_userbyid(c.relowner)::text,
               CASE WHEN c.oid IS NULL THEN has_schema_privilege(current_schema(), 'CREATE')
                    ELSE pg_has_role(current_user, c.relowner, 'USAGE') END
        FROM (SELECT to_regclass('schema_migrations') AS oid) t LEFT JOIN pg_class c ON c.oid = t.oid
        """, name: "MigrateCommand.ownerRequired")

    /// The refusal, or nil when this login may migrate (an unknown answer lets the migrator decide).
    static func check(_ session: PostgresSession) throws -> OwnerRequired? {
        let row = try session.query(query)[0]
        guard try row.decode(Bool?.self, at: 3) == false else { return nil }
        return OwnerRequired(login: try row.decode(String.self, at: 0), groups: try row.decode(String?.self, at: 1),
                             owner: try row.decode(String?.self, at: 2))
    }
}
