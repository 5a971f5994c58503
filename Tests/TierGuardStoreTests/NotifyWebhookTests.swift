import Foundation
import Postgres
import ServiceKit
import TestSupport
import Testing
import TierGuardStore

@Suite struct NotifyWebhookTests {
    static let secrets = ["whsec_" + Data("old-secret-0123456789".utf8).base64EncodedString(),
                          "whsec_" + Data("new-secret-9876543210".utf8).base64EncodedString()]

    func notifier(_ url: String, timeout: Double = 15) throws -> AlertNotifier {
        let client = NotifyHTTPClient(timeoutSeconds: timeout)
        return AlertNotifier(configuration: NotifierConfiguration(
            webhookURL: url, channels: [try WebhookChannel(secrets: Self.secrets, client: client)]))
    }

    /// An urgent alert (钻石, downgrade in 5 days) daytime → one signed POST.
    func urgentSetup(_ fixture: NotifyFixture) throws -> Int64 {
        try fixture.rm("RM01")
        try fixture.customer("C001")
        return try fixture.downgradeAlert("C001")
    }

    @Test func webhookSignaturesVerifyWithAnIndependentImplementation() async throws {
        let fixture = try await offPool { try NotifyFixture() }
        let receiver = try RecordingReceiver(.ok)
        let alert = try urgentSetup(fixture)
        let outcome = try await fixture.deliver(notifier(receiver.url), alert, NotifyFixture.shanghai(10))
        guard case .sent(let id) = outcome else { Issue.record("expected sent, got \(outcome)"); return }
        let requests = receiver.requests
        #expect(requests.count == 1)
        let request = try #require(requests.first)
        #expect(request.headers["webhook-id"] == "msg_\(id)")
        let timestamp = try #require(request.headers["webhook-timestamp"])
        let signatures = try #require(request.headers["webhook-signature"]).split(separator: " ").map(String.init)
        #expect(signatures.count == 2)
        for (secret, signature) in zip(Self.secrets, signatures) {
            #expect(try pythonSignature(secret: secret, id: "msg_\(id)", timestamp: timestamp, body: request.body) == signature)
        }
        // The body says what happened, in Chinese, with the masked name and the figures.
        let text = String(decoding: request.body, as: UTF8.self)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        let data = try #require(object["data"] as? [String: Any])
        let body = try #require(data["text"] as? String)
        #expect(body.contains("张**"))
        #expect(!text.contains("张三丰"))
        #expect(body.contains("预计 2026-12-01 由钻石降为白金, 需在 11-30 前补足日均 ¥123,456.78"))
        #expect(body.contains("预警编号 \(alert)"))
        #expect(try fixture.scalar("SELECT state FROM notifications WHERE id = $1", id, as: String.self) == "sent")
        #expect(try fixture.scalar("SELECT http_status FROM notification_deliveries WHERE notification_id = $1", id, as: Int.self) == 200)
        // A follow-up task, urgent, due 3 business days after Thu 2026-11-26 → Tue 2026-12-01.
        #expect(try fixture.scalar("SELECT due_on::text || ' ' || kind || ' ' || urgent FROM rm_tasks WHERE alert_id = $1", alert, as: String.self)
                == "2026-12-01 回访 true")
    }

    @Test func serverErrorsAndRateLimitsRetryUnderTheSameIdempotencyKey() async throws {
        let fixture = try await offPool { try NotifyFixture() }
        let receiver = try RecordingReceiver(.status(500))
        let alert = try urgentSetup(fixture)
        let notifier = try notifier(receiver.url)
        let now = NotifyFixture.shanghai(10)
        await #expect(throws: NotifyRetryableError.self) { try await fixture.deliver(notifier, alert, now) }
        receiver.set(.status(429))
        await #expect(throws: NotifyRetryableError.self) { try await fixture.deliver(notifier, alert, now) }
        receiver.set(.ok)
        guard case .sent(let id) = try await fixture.deliver(notifier, alert, now) else {
            Issue.record("expected sent"); return
        }
        // Three posts, one idempotency key: a deduping receiver saw one message.
        #expect(receiver.requests.count == 3)
        #expect(receiver.uniqueWebhookIds == ["msg_\(id)"])
        let statuses = try fixture.session.query(PostgresQuery(
            "SELECT http_status, outcome FROM notification_deliveries WHERE notification_id = $1 ORDER BY id").binding(id))
            .map { "\(try $0.decode(Int?.self, at: 0) ?? 0) \(try $0.decode(String.self, at: 1))" }
        #expect(statuses == ["500 retry", "429 retry", "200 delivered"])
        // Delivered once: a fourth run does nothing.
        #expect(try await fixture.deliver(notifier, alert, now) == .alreadyDone(notificationId: id, state: "sent"))
        #expect(receiver.requests.count == 3)
    }

    @Test func aClientErrorFailsAtOnceWithItsReason() async throws {
        let fixture = try await offPool { try NotifyFixture() }
        let receiver = try RecordingReceiver(.status(400))
        let alert = try urgentSetup(fixture)
        let outcome = try await fixture.deliver(notifier(receiver.url), alert, NotifyFixture.shanghai(10))
        guard case .failed(let id, let reason) = outcome else { Issue.record("expected failed, got \(outcome)"); return }
        #expect(reason.hasPrefix("HTTP 400"))
        #expect(try fixture.scalar("SELECT state FROM notifications WHERE id = $1", id, as: String.self) == "failed")
        let failed = try NotifyQueries.failed(fixture.session)
        #expect(failed.map(\.id) == [id])
        // The operator's retry re-opens it and enqueues a send.
        try NotifyQueries.retry(fixture.session, id: id, reason: "receiver fixed")
        #expect(try fixture.scalar("SELECT state FROM notifications WHERE id = $1", id, as: String.self) == "pending")
        #expect(try fixture.scalar("SELECT count(*) FROM tg_jobs WHERE kind = 'send_notification'", as: Int.self) == 1)
    }

    @Test func slowReceiversNoAnswerAndRefusedConnectionsRetry() async throws {
        let fixture = try await offPool { try NotifyFixture() }
        try fixture.rm("RM01")
        var alerts: [Int64] = []
        for id in ["C001", "C002", "C003"] {
            try fixture.customer(id)
            alerts.append(try fixture.downgradeAlert(id))
        }
        let now = NotifyFixture.shanghai(10)
        let slow = try RecordingReceiver(.slow(seconds: 2))
        await #expect(throws: NotifyRetryableError.self) {
            try await fixture.deliver(notifier(slow.url, timeout: 0.5), alerts[0], now)
        }
        let silent = try SilentListener()
        await #expect(throws: NotifyRetryableError.self) {
            try await fixture.deliver(notifier(silent.url, timeout: 0.5), alerts[1], now)
        }
        await #expect(throws: NotifyRetryableError.self) {
            try await fixture.deliver(notifier("http://127.0.0.1:1/hook", timeout: 0.5), alerts[2], now)
        }
        let outcomes = try fixture.session.query(PostgresQuery(
            "SELECT outcome, excerpt FROM notification_deliveries ORDER BY id"))
            .map { "\(try $0.decode(String.self, at: 0)): \(try $0.decode(String.self, at: 1))" }
        try #require(outcomes.count == 3)
        #expect(outcomes.allSatisfy { $0.hasPrefix("retry: ") })
        #expect(outcomes[0].contains("timed out") && outcomes[1].contains("timed out"))
        // The notification (first try) stays pending: still owed, never lost.
        let states = try fixture.session.query(PostgresQuery("SELECT state || attempts FROM notifications ORDER BY id"))
            .map { try $0.decode(String.self, at: 0) }
        #expect(states == ["pending1", "pending1", "pending1"])
    }

    @Test func unknownAndInactiveRMsUseTheBranchFallbackOrAreSuppressed() async throws {
        let fixture = try await offPool { try NotifyFixture() }
        let receiver = try RecordingReceiver(.ok)
        try fixture.rm("RM09", branch: "B02", active: false)
        try fixture.customer("C100", rm: "RM09", branch: "B02")
        try fixture.customer("C101", rm: "NOPE", branch: "B03")
        let inactive = try fixture.downgradeAlert("C100")
        let unknown = try fixture.downgradeAlert("C101")
        var configuration = NotifierConfiguration(
            webhookURL: receiver.url, channels: [try WebhookChannel(secrets: Self.secrets, client: NotifyHTTPClient())])
        let now = NotifyFixture.shanghai(10)
        guard case .suppressed(.rmInactive, _) = try await fixture.deliver(AlertNotifier(configuration: configuration), inactive, now) else { Issue.record("expected rm_inactive"); return }
        configuration.fallbackRoutes = try NotifyRoute.parseFallbacks("B03=webhook:\(receiver.url)")
        guard case .sent = try await fixture.deliver(AlertNotifier(configuration: configuration), unknown, now) else { Issue.record("expected sent via fallback"); return }
        #expect(try fixture.scalar("SELECT rm_id FROM notifications WHERE alert_id = $1", unknown, as: String.self) == "branch:B03")
        let unrouted = try NotifyQueries.unrouted(fixture.session)
        #expect(Set(unrouted.map(\.alertId)) == [inactive, unknown])
        #expect(receiver.requests.count == 1)
    }

    /// A notifier that dies after the receiver accepted but before it recorded "sent" (the channel
    /// below delivers, then reports nothing) leaves the notification pending; the retry sends again
    /// under the same webhook-id, so a deduping receiver holds exactly one message and none is lost.
    @Test func aNotifierKilledBetweenSendingAndRecordingResendsUnderTheSameId() async throws {
        let fixture = try await offPool { try NotifyFixture() }
        let receiver = try RecordingReceiver(.ok)
        let alert = try urgentSetup(fixture)
        let webhook = try WebhookChannel(secrets: Self.secrets, client: NotifyHTTPClient(timeoutSeconds: 15))
        let crashing = AlertNotifier(configuration: NotifierConfiguration(webhookURL: receiver.url, channels: [LosesTheAnswer(inner: webhook)]))
        await #expect(throws: NotifyRetryableError.self) { try await fixture.deliver(crashing, alert, NotifyFixture.shanghai(10)) }
        #expect(receiver.requests.count == 1)
        #expect(try fixture.scalar("SELECT state FROM notifications WHERE alert_id = $1", alert, as: String.self) == "pending")
        let healthy = AlertNotifier(configuration: NotifierConfiguration(webhookURL: receiver.url, channels: [webhook]))
        guard case .sent(let id) = try await fixture.deliver(healthy, alert, NotifyFixture.shanghai(10)) else {
            Issue.record("expected sent"); return
        }
        #expect(receiver.requests.count == 2)
        #expect(receiver.uniqueWebhookIds == ["msg_\(id)"])
        #expect(try fixture.scalar("SELECT count(*) FROM notifications", as: Int.self) == 1)
    }
}

/// Delivers through `inner`, then loses the answer, as a process killed right after the send would.
struct LosesTheAnswer: NotificationChannel {
    let inner: WebhookChannel
    var kind: ChannelKind { inner.kind }
    func send(_ message: OutgoingMessage, session: PostgresSession) -> [DeliveryAttempt] {
        _ = inner.send(message, session: session)
        return [DeliveryAttempt(outcome: .retry, excerpt: "process killed before recording")]
    }
}
