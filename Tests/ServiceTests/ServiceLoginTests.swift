import Foundation
import Postgres
import TestSupport
import Testing

/// Services connecting as their own login users (members of the 0005 roles), with the migration left
/// to `tierguardctl migrate` (`TIERGUARD_MIGRATE=off`): real executables, real grants.
@Suite struct ServiceLoginTests {
    /// `url` with its user replaced by `login`.
    static func url(_ url: String, login: String, password: String) -> String {
        var components = URLComponents(string: url)!
        components.user = login
        components.password = password
        return components.string!
    }

    @Test func ingestAndScorerRunAsTheirOwnLoginsAndTheMigrationJobCreatesThem() throws {
        let db = try TestDatabase.create()
        let dir = NSTemporaryDirectory() + "logins-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Logins are cluster-wide: unique names per run, since tests share the cluster.
        let suffix = String(UUID().uuidString.prefix(8)).lowercased().replacingOccurrences(of: "-", with: "")
        let ingestLogin = "ingest_\(suffix)", scorerLogin = "scorer_\(suffix)"
        let password = "correct-horse-\(suffix)-battery"
        try (password + "\n").write(toFile: dir + "/ingest", atomically: true, encoding: .utf8)
        try (password + "\n").write(toFile: dir + "/scorer", atomically: true, encoding: .utf8)
        try "short\n".write(toFile: dir + "/short", atomically: true, encoding: .utf8)

        // A malformed list is a configuration error that names the entry; nothing is migrated.
        let bad = try ServiceProcess.run("tierguardctl", ["migrate"], environment: [
            "DATABASE_URL": db.url, "TIERGUARD_SERVICE_LOGINS": "bookkeeping=x:\(dir)/ingest"])
        #expect(bad.status == 78, "\(bad.stderr)")
        #expect(bad.stderr.contains("\"bookkeeping\" is not a service"), "\(bad.stderr)")
        // A short password is refused by the database function, naming the login, not the password.
        let short = try ServiceProcess.run("tierguardctl", ["migrate"], environment: [
            "DATABASE_URL": db.url, "TIERGUARD_SERVICE_LOGINS": "ingest=\(ingestLogin):\(dir)/short"])
        #expect(short.status != 0)
        #expect(short.stderr.contains("shorter than 16 characters") && !short.stderr.contains("short\n"), "\(short.stderr)")

        let migrate = try ServiceProcess.run("tierguardctl", ["migrate"], environment: [
            "DATABASE_URL": db.url,
            "TIERGUARD_SERVICE_LOGINS": "ingest=\(ingestLogin):\(dir)/ingest, scorer=\(scorerLogin):\(dir)/scorer"])
        #expect(migrate.status == 0, "\(migrate.stderr)")
        #expect(migrate.stdout.contains("service login \(scorerLogin) ensured (member of tierguard_scorer)"), "\(migrate.stdout)")
        #expect(!migrate.stdout.contains(password) && !migrate.stderr.contains(password))

        let session = try db.session()
        defer { session.close() }
        // The group's timeouts were copied onto the login (they do not apply through membership).
        let settings: String = try session.query(PostgresQuery(
            "SELECT array_to_string(rolconfig, ',') FROM pg_roles WHERE rolname = $1").binding(ingestLogin))[0].decode(String.self, at: 0)
        #expect(settings.contains("statement_timeout=15min") && settings.contains("lock_timeout=10s"), "\(settings)")

        let feed = dir + "/feed.ndjson"
        try ([IngestProcessTests.customer, IngestProcessTests.account, IngestProcessTests.balance,
              IngestProcessTests.transaction("T1")].joined(separator: "\n") + "\n").write(toFile: feed, atomically: true, encoding: .utf8)
        let ingest = try ServiceProcess.run("tierguard-ingest", ["load", feed], environment: [
            "DATABASE_URL": Self.url(db.url, login: ingestLogin, password: password), "TIERGUARD_MIGRATE": "off"])
        #expect(ingest.status == 0, "stderr: \(ingest.stderr)")
        #expect(try session.query(PostgresQuery("SELECT count(*) FROM transactions WHERE customer_id = 'C1'"))[0].decode(Int.self, at: 0) == 1)

        let scorer = try ServiceProcess.run("tierguard-scorer", ["rescore"], environment: [
            "DATABASE_URL": Self.url(db.url, login: scorerLogin, password: password), "TIERGUARD_MIGRATE": "off"])
        #expect(scorer.status == 0, "stderr: \(scorer.stderr)")
        #expect(scorer.stdout.contains("rescored 1 customers"), "\(scorer.stdout)")
        #expect(try session.query(PostgresQuery("SELECT count(*) FROM customer_scores WHERE customer_id = 'C1'"))[0].decode(Int.self, at: 0) >= 1)

        // The scorer's login holds only the scorer's grants: no sealed identifier, no DDL.
        let scorerSession = try PostgresSession(configuration: PostgresConfiguration(
            Self.url(db.url, login: scorerLogin, password: password), applicationName: "tierguard-tests"))
        defer { scorerSession.close() }
        for sql: StaticString in ["SELECT id_number_enc FROM customers", "CREATE TABLE scorer_scratch (x int)"] {
            do {
                _ = try scorerSession.query(PostgresQuery(sql))
                Issue.record("the scorer login ran: \(sql)")
            } catch let error as PostgresError {
                #expect(error.message.contains("permission denied"), "\(error.message)")
            }
        }
    }
}
