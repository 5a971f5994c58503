import Foundation
import Postgres
import TestSupport
import Testing

@Suite struct ListenNotifyTests {
    @Test func aNotificationIsDeliveredAcrossTwoConnections() async throws {
        let db = try TestDatabase.create()
        let listener = try await db.connection()
        try await listener.withSession { try $0.listen("tierguard_jobs_scorer") }
        let waiting = Task { try await listener.withSession { try $0.waitForNotification(timeout: 5) } }
        let sender = try await db.connection()
        // The listener is already blocked in poll() on its own thread; this connection is unaffected.
        try await Task.sleep(for: .milliseconds(50))
        try await sender.execute(PostgresQuery("SELECT pg_notify($1, $2)").binding("tierguard_jobs_scorer", "hello 你好"))
        let notification = try await waiting.value
        #expect(notification?.channel == "tierguard_jobs_scorer")
        #expect(notification?.payload == "hello 你好")
        await listener.close()
        await sender.close()
    }

    @Test func aWaitTimesOutOnTime() throws {
        let db = try TestDatabase.create()
        let s = try db.session()
        defer { s.close() }
        try s.listen("quiet")
        let start = monotonicSeconds()
        let notification = try s.waitForNotification(timeout: 0.3)
        let elapsed = monotonicSeconds() - start
        #expect(notification == nil)
        #expect(elapsed >= 0.29)
        #expect(elapsed < 1.0)
    }
}
