import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Postgres
import TestSupport
import Testing

/// Every executable answers `--help` and `--version` without a database, and refuses bad usage with 64.
@Suite struct CommandLineTests {
    static let services = ["tierguard-ingest", "tierguard-scorer", "tierguard-notifier", "tierguard-feedback", "tierguardctl"]

    @Test(arguments: services)
    func helpListsTheConfigurationVariables(service: String) throws {
        let result = try ServiceProcess.run(service, ["--help"], environment: ["DATABASE_URL": ""])
        #expect(result.status == 0)
        #expect(result.stdout.contains(service))
        #expect(result.stdout.contains("DATABASE_URL"))
        #expect(result.stdout.contains("TIERGUARD_LOG_LEVEL"))
    }

    @Test(arguments: services)
    func versionPrintsTheNameAndVersion(service: String) throws {
        let result = try ServiceProcess.run(service, ["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix(service))
    }

    @Test(arguments: services)
    func anUnknownOptionIsAUsageError(service: String) throws {
        // Services with subcommands reject a missing subcommand first; name one so the option is judged.
        let subcommand = ["tierguardctl": "migrate", "tierguard-ingest": "load"][service]
        let arguments = (subcommand.map { [$0] } ?? []) + ["--no-such-option"]
        let result = try ServiceProcess.run(service, arguments)
        #expect(result.status == 64)
        #expect(result.stderr.contains("no-such-option"))
    }
}

@Suite struct MigrationProcessTests {
    @Test func twoProcessesMigratingAnEmptyDatabaseApplyEachMigrationOnce() throws {
        let db = try TestDatabase.create()
        let env = ["DATABASE_URL": db.url]
        let first = try ServiceProcess("tierguardctl", ["migrate"], environment: env)
        let second = try ServiceProcess("tierguardctl", ["migrate"], environment: env)
        #expect(try first.waitForExit(timeout: 60) == 0, "first: \(first.standardError)")
        #expect(try second.waitForExit(timeout: 60) == 0, "second: \(second.standardError)")
        let s = try db.session()
        defer { s.close() }
        let rows = try s.query("SELECT component, version, count(*) OVER (PARTITION BY component, version) FROM schema_migrations")
        #expect(rows.count >= 2)
        for row in rows { #expect(try row.decode(Int.self, at: 2) == 1) }
        // Exactly one of the two applied them; the other found nothing left to do.
        let applied = [first.standardOutput, second.standardOutput].filter { $0.contains("applied jobqueue 1_jobs") }
        #expect(applied.count == 1)
        #expect([first.standardOutput, second.standardOutput].contains { $0.contains("up to date") })
    }

    @Test func aChangedMigrationChecksumIsRefused() throws {
        let db = try TestDatabase.create()
        let s = try db.session()
        defer { s.close() }
        let original = [Migration(component: "t", version: 1, name: "one", sql: "CREATE TABLE one (id int)")]
        #expect(try Migrator.migrate(s, original).count == 1)
        #expect(try Migrator.migrate(s, original).isEmpty)
        let edited = [Migration(component: "t", version: 1, name: "one", sql: "CREATE TABLE one (id bigint)")]
        #expect(throws: MigrationError.self) { try Migrator.migrate(s, edited) }
    }

    @Test func aFailingMigrationLeavesNothingBehind() throws {
        let db = try TestDatabase.create()
        let s = try db.session()
        defer { s.close() }
        let broken = [Migration(component: "t", version: 1, name: "broken", sql: "CREATE TABLE a (id int); CREATE TABLE a (id int);")]
        #expect(throws: MigrationError.self) { try Migrator.migrate(s, broken) }
        #expect(try s.query("SELECT to_regclass('a') IS NULL")[0].decode(Bool.self, at: 0))
        #expect(try s.query("SELECT count(*) FROM schema_migrations")[0].decode(Int.self, at: 0) == 0)
    }
}

@Suite struct ServiceLifecycleTests {
    @Test(arguments: ["tierguard-notifier", "tierguard-feedback"])
    func aServiceBecomesReadyAndExitsZeroOnSIGTERM(service: String) async throws {
        let db = try TestDatabase.create()
        let port = LocalCluster.freePort()
        let process = try ServiceProcess(service, [], environment: [
            "DATABASE_URL": db.url, "TIERGUARD_HTTP_PORT": String(port), "TIERGUARD_HTTP_HOST": "127.0.0.1"])
        defer { if process.process.isRunning { process.signal(SIGKILL) } }
        try await waitUntil(timeout: 30, interval: 0.1, "\(service) /readyz") {
            guard let (_, response) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/readyz")!)
            else { return false }
            return (response as? HTTPURLResponse)?.statusCode == 200
        }
        let (body, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/livez")!)
        #expect(!body.isEmpty)
        process.signal(SIGTERM)
        let status = try await Task.detached { try process.waitForExit(timeout: 30) }.value
        #expect(status == 0, "stderr: \(process.standardError)")
        #expect(process.standardError.contains("\"service\":\"\(service)\""))
    }
}
