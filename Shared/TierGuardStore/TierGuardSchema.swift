import Foundation
import JobQueue
import Postgres

/// Every migration TierGuard runs, in order: the job queue's first, then the archive's and the
/// scorer's (component `tierguard`, `Migrations/NNNN_name.sql`, shipped as package resources).
public enum TierGuardSchema {
    public static let component = "tierguard"

    public static func migrations() throws -> [Migration] {
        guard let directory = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw MigrationError(message: "the TierGuardStore resource bundle has no Migrations folder")
        }
        return try JobQueueSchema.migrations() + Migration.load(component: component, directory: directory)
    }

    /// Applies what is missing under the advisory lock; safe to call from every service at start-up.
    @discardableResult
    public static func migrate(_ session: PostgresSession) throws -> [Migrator.Applied] {
        try Migrator.migrate(session, migrations())
    }
}
