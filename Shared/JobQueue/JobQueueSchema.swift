import Foundation
import Postgres

/// The job queue's own migrations (component `jobqueue`), shipped as package resources.
public enum JobQueueSchema {
    public static let component = "jobqueue"

    public static func migrations() throws -> [Migration] {
        guard let directory = Bundle.module.url(forResource: "SQL/Migrations", withExtension: nil) else {
            throw MigrationError(message: "the JobQueue resource bundle has no SQL/Migrations folder")
        }
        return try Migration.load(component: component, directory: directory)
    }
}
