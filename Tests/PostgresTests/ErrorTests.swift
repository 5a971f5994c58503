import Foundation
import Postgres
import TestSupport
import Testing

@Suite struct ErrorTests {
    @Test func aSyntaxErrorCarriesSQLStateAndStatementName() throws {
        let db = try TestDatabase.create()
        let s = try db.session()
        defer { s.close() }
        do {
            try s.execute(PostgresQuery("SELEC 1", name: "Broken.select"))
            Issue.record("syntax error not thrown")
        } catch let error as PostgresError {
            #expect(error.isSyntaxError)
            #expect(error.sqlState == "42601")
            #expect(error.statement == "Broken.select")
            #expect(error.severity == "ERROR")
            #expect(error.description.contains("Broken.select"))
        }
        // The session is still usable afterwards.
        #expect(try s.query("SELECT 1")[0].decode(Int.self, at: 0) == 1)
    }

    @Test func aUniqueViolationIs23505WithDetailOnlyInDebugDescription() throws {
        let db = try TestDatabase.create()
        let s = try db.session()
        defer { s.close() }
        try s.execute("CREATE TABLE k (id text PRIMARY KEY)")
        try s.execute(PostgresQuery("INSERT INTO k VALUES ($1)").binding("110105194912310021"))
        do {
            try s.execute(PostgresQuery("INSERT INTO k VALUES ($1)").binding("110105194912310021"))
            Issue.record("duplicate accepted")
        } catch let error as PostgresError {
            #expect(error.isUniqueViolation)
            #expect(error.sqlState == "23505")
            #expect(!error.description.contains("110105194912310021"))
            #expect(error.debugDescription.contains("already exists"))
        }
    }

    @Test func connectionRefusedNamesHostAndPort() throws {
        let port = LocalCluster.freePort()
        do {
            _ = try PostgresSession(configuration: PostgresConfiguration(
                "postgres://postgres@127.0.0.1:\(port)/postgres", applicationName: "tierguard-tests", connectTimeoutSeconds: 2))
            Issue.record("connected to a port nobody listens on")
        } catch let error as PostgresError {
            #expect(error.code == .connection)
            #expect(error.isConnectionFailure)
            #expect(error.description.contains("127.0.0.1"))
            #expect(error.description.contains("\(port)"))
            #expect(error.description.contains("refused"))
        }
    }

    @Test func applicationNameShowsInPgStatActivity() throws {
        let db = try TestDatabase.create()
        let s = try db.session(applicationName: "tierguard-scorer")
        defer { s.close() }
        let name = try s.query("SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()")[0]
            .decode(String.self, at: 0)
        #expect(name == "tierguard-scorer")
    }
}
