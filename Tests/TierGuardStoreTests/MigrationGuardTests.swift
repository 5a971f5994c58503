import Foundation
import Postgres
import Testing
import TestSupport
import TierGuardStore

/// Issue 11: with `TIERGUARD_ENVIRONMENT=production` the migration refuses a PostgreSQL superuser, in
/// `tierguardctl migrate` and in a service's start-up migration; a CREATEROLE owner role migrates.
/// A private cluster, so that the owner role creates the cluster-global `tierguard_*` roles itself.
@Suite struct MigrationGuardTests {
    static func url(_ base: String, user: String, database: String) -> String {
        var components = URLComponents(string: base)!
        components.user = user
        components.path = "/" + database
        return components.string!
    }

    static func migrationTableExists(_ url: String) throws -> Bool {
        let s = try PostgresSession(configuration: PostgresConfiguration(url, applicationName: "tierguard-tests"))
        defer { s.close() }
        return try s.query("SELECT to_regclass('customers') IS NOT NULL")[0].decode(Bool.self, at: 0)
    }

    @Test func productionRefusesASuperuserAndMigratesAsACreateroleOwner() throws {
        let cluster = try LocalCluster.startPrivate()
        defer { cluster.destroy() }
        let admin = try PostgresSession(configuration: PostgresConfiguration(cluster.url, applicationName: "tierguard-tests"))
        defer { admin.close() }
        try admin.execute("CREATE ROLE tg_owner LOGIN CREATEROLE NOSUPERUSER")
        try admin.execute("CREATE DATABASE tg_prod OWNER tg_owner")
        let superURL = Self.url(cluster.url, user: "postgres", database: "tg_prod")
        let ownerURL = Self.url(cluster.url, user: "tg_owner", database: "tg_prod")

        // Superuser + production: refused, exit 78, the message says what, why and what to do; nothing applied.
        let refused = try ServiceProcess.run("tierguardctl", ["migrate"],
                                             environment: ["DATABASE_URL": superURL, "TIERGUARD_ENVIRONMENT": "production"])
        #expect(refused.status == 78, "\(refused.stdout) \(refused.stderr)")
        #expect(refused.stderr.contains("refusing to migrate as PostgreSQL superuser \"postgres\" in production"))
        #expect(refused.stderr.contains("bypasses the grants, row-level security"))
        #expect(refused.stderr.contains("CREATEROLE and without SUPERUSER"))
        #expect(try !Self.migrationTableExists(superURL))

        // The same refusal in a service's start-up migration (exit 78 before it listens). Production also
        // needs the personal-data keys (PersonalDataVault): throwaway ones.
        let keys = FileManager.default.temporaryDirectory.appendingPathComponent("tg-keys-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: keys) }
        try "k1:\(Data((0..<32).map { UInt8(($0 * 7 + 3) % 256) }).base64EncodedString())\n"
            .write(to: keys.appendingPathComponent("keys"), atomically: true, encoding: .utf8)
        try Data((0..<32).map { UInt8(($0 * 11 + 5) % 256) }).base64EncodedString()
            .write(to: keys.appendingPathComponent("index"), atomically: true, encoding: .utf8)
        let scorer = try ServiceProcess.run("tierguard-scorer", ["run"], environment: [
            "DATABASE_URL": superURL, "TIERGUARD_ENVIRONMENT": "production", "TIERGUARD_HTTP_PORT": "0",
            "TIERGUARD_PII_KEYS_FILE": keys.appendingPathComponent("keys").path,
            "TIERGUARD_PII_INDEX_KEY_FILE": keys.appendingPathComponent("index").path], timeout: 30)
        #expect(scorer.status == 78, "\(scorer.stderr)")
        #expect(scorer.stderr.contains("refusing to migrate as PostgreSQL superuser"))
        #expect(try !Self.migrationTableExists(superURL))

        // Outside production the superuser check is off (developer clusters, tests): --status only, no change.
        let status = try ServiceProcess.run("tierguardctl", ["migrate", "--status"], environment: ["DATABASE_URL": superURL])
        #expect(status.status == 0, "\(status.stderr)")

        // A CREATEROLE owner (no superuser) + production: migrates, creating the tierguard_* roles.
        let migrated = try ServiceProcess.run("tierguardctl", ["migrate"],
                                              environment: ["DATABASE_URL": ownerURL, "TIERGUARD_ENVIRONMENT": "production"])
        #expect(migrated.status == 0, "\(migrated.stderr)")
        #expect(migrated.stdout.contains("applied tierguard 7_retention"))
        #expect(try Self.migrationTableExists(ownerURL))
        #expect(try admin.query("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'tierguard\\_%'")[0].decode(Int.self, at: 0) == 6)
        let owner = try PostgresSession(configuration: PostgresConfiguration(ownerURL, applicationName: "tierguard-tests"))
        defer { owner.close() }
        #expect(try owner.query("SELECT tableowner::text FROM pg_tables WHERE tablename = 'pii_access_audit'")[0]
            .decode(String.self, at: 0) == "tg_owner")
        let again = try ServiceProcess.run("tierguardctl", ["migrate"],
                                           environment: ["DATABASE_URL": ownerURL, "TIERGUARD_ENVIRONMENT": "production"])
        #expect(again.status == 0 && again.stdout.contains("up to date"), "\(again.stderr)")
    }
}
