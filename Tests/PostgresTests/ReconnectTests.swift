import Foundation
import Postgres
import TestSupport
import Testing

@Suite(.serialized) struct ReconnectTests {
    @Test func aQuerySucceedsAfterTheServerRestartedUnderAnOpenConnection() throws {
        let cluster = try LocalCluster.startPrivate()
        defer { cluster.destroy() }
        let s = try PostgresSession(configuration: PostgresConfiguration(cluster.url, applicationName: "tierguard-tests"))
        defer { s.close() }
        let before = try s.query("SELECT pg_backend_pid()")[0].decode(Int.self, at: 0)
        try cluster.restart(mode: "fast")
        let after = try s.query("SELECT pg_backend_pid()")[0].decode(Int.self, at: 0)
        #expect(before != after)
        #expect(s.reconnectCount == 1)
        try cluster.restart(mode: "immediate")
        #expect(try s.query("SELECT 1")[0].decode(Int.self, at: 0) == 1)
        #expect(s.reconnectCount == 2)
    }

    @Test func listeningResumesAfterAReconnect() throws {
        let cluster = try LocalCluster.startPrivate()
        defer { cluster.destroy() }
        let config = PostgresConfiguration(cluster.url, applicationName: "tierguard-tests")
        let listener = try PostgresSession(configuration: config)
        defer { listener.close() }
        try listener.listen("wake")
        try cluster.restart(mode: "fast")
        _ = try listener.query("SELECT 1") // reconnects and re-listens
        let sender = try PostgresSession(configuration: config)
        defer { sender.close() }
        try sender.execute(PostgresQuery("SELECT pg_notify('wake', 'again')"))
        #expect(try listener.waitForNotification(timeout: 5)?.payload == "again")
    }

    @Test func closeIsCleanAndLaterUseThrows() throws {
        let db = try TestDatabase.create()
        let s = try db.session()
        s.close()
        #expect(throws: PostgresError.self) { try s.query("SELECT 1") }
    }
}
