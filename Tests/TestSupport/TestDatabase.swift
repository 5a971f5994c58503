import Foundation
import Postgres

/// A fresh, empty database on the shared test cluster, one per test, so tests run in parallel.
public struct TestDatabase: Sendable {
    public let name: String
    public let url: String

    /// Creates `tg_<random>` and applies `migrations` to it.
    public static func create(migrations: [Migration] = [], prefix: String = "tg") throws -> TestDatabase {
        let cluster = LocalCluster.shared
        let name = "\(prefix)_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
        let admin = try PostgresSession(configuration: PostgresConfiguration(cluster.url, applicationName: "tierguard-tests"))
        defer { admin.close() }
        try admin.execute(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        let database = TestDatabase(name: name, url: cluster.url(database: name))
        if !migrations.isEmpty {
            let session = try database.session()
            defer { session.close() }
            try Migrator.migrate(session, migrations)
        }
        return database
    }

    public func configuration(applicationName: String = "tierguard-tests") -> PostgresConfiguration {
        PostgresConfiguration(url, applicationName: applicationName)
    }

    /// A synchronous session for test setup and checks (the test's own thread owns it).
    public func session(applicationName: String = "tierguard-tests") throws -> PostgresSession {
        try PostgresSession(configuration: configuration(applicationName: applicationName))
    }

    public func connection(applicationName: String = "tierguard-tests") async throws -> PostgresConnection {
        try await PostgresConnection(configuration: configuration(applicationName: applicationName))
    }
}

/// Waits until `condition` holds, checking every `interval`, failing after `timeout` seconds.
public func waitUntil(timeout: Double, interval: Double = 0.02, _ what: String = "condition",
                      _ condition: () throws -> Bool) throws {
    let deadline = monotonicSeconds() + timeout
    while true {
        if try condition() { return }
        if monotonicSeconds() > deadline { throw ClusterError(message: "timed out after \(timeout) s waiting for \(what)") }
        Thread.sleep(forTimeInterval: interval)
    }
}

/// The async form, for tests whose workers run on Swift tasks: it sleeps with `Task.sleep`,
/// so it never blocks a cooperative thread that the code under test needs.
public func waitUntil(timeout: Double, interval: Double = 0.02, _ what: String = "condition",
                      _ condition: () async throws -> Bool) async throws {
    let deadline = monotonicSeconds() + timeout
    while true {
        if try await condition() { return }
        if monotonicSeconds() > deadline { throw ClusterError(message: "timed out after \(timeout) s waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
    }
}
