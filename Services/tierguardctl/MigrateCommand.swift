import Foundation
import Postgres
import ServiceKit
import TierGuardStore

/// `tierguardctl migrate`: applies the pending migrations under the advisory lock and lists them.
/// With `TIERGUARD_ENVIRONMENT=production` it refuses a superuser login (exit 78, `MigrationGuard`).
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
