import Foundation
import Postgres
import ServiceKit
import Synchronization
import TestSupport
import Testing
import TierGuardStore

@Suite struct NotifyWeComTests {
    @Test func markdownSplitsWithin4096BytesNeverInsideACharacter() {
        // 1,500 three-byte characters, a four-byte emoji every 7th, and line breaks now and then.
        var text = ""
        for i in 0..<1500 {
            text += i % 7 == 0 ? "😀" : "预"
            if i % 97 == 0 { text += "\n" }
        }
        let parts = NotifyText.split(text, maxBytes: 4096)
        #expect(parts.count == 2)
        #expect(parts.allSatisfy { $0.utf8.count <= 4096 })
        #expect(parts.joined() == text)
        // Each part is valid UTF-8 on its own: decoding its bytes back gives the same part.
        #expect(parts.allSatisfy { String(decoding: Array($0.utf8), as: UTF8.self) == $0 })
        // A run without line breaks is cut at the last whole character.
        let flat = String(repeating: "钻", count: 2000)   // 6,000 bytes
        let flatParts = NotifyText.split(flat, maxBytes: 4096)
        #expect(flatParts.map { $0.utf8.count } == [4095, 1905])
    }

    @Test func robotSendsEachPartAsAMarkdownMessage() async throws {
        let fixture = try await offPool { try NotifyFixture() }
        let receiver = try RecordingReceiver(.wecom(errcode: 0))
        let channel = WeComRobotChannel(client: NotifyHTTPClient(timeoutSeconds: 15))
        let text = String(repeating: "客户资产下降, 请尽快回访。\n", count: 400)   // ~15 KB
        let attempts = try await fixture.send(channel, OutgoingMessage(notificationId: 1, type: "tierguard.digest", title: "t", text: text,
                                                    target: receiver.url, rmId: "RM01"))
        let expectedParts = NotifyText.split(text, maxBytes: 4096).count
        #expect(attempts.count == expectedParts, "\(attempts)")
        #expect(attempts.allSatisfy { $0.outcome == .delivered && $0.errcode == 0 })
        var received = ""
        for request in receiver.requests {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
            #expect(object["msgtype"] as? String == "markdown")
            let content = try #require((object["markdown"] as? [String: Any])?["content"] as? String)
            #expect(content.utf8.count <= 4096)
            received += content
        }
        #expect(received == text)
        // WeCom's own rate limit retries; another errcode fails.
        receiver.set(.wecom(errcode: 45009))
        let limited = try await fixture.send(channel, OutgoingMessage(notificationId: 2, type: "x", title: "t", text: "hi", target: receiver.url, rmId: "RM01"))
        #expect(limited.map(\.outcome) == [.retry])
        receiver.set(.wecom(errcode: 93000))
        let refused = try await fixture.send(channel, OutgoingMessage(notificationId: 3, type: "x", title: "t", text: "hi", target: receiver.url, rmId: "RM01"))
        #expect(refused.map(\.outcome) == [.failed], "\(refused)")
    }

    /// Three notifier instances (threads, each with its own connection) send 30 messages to one robot
    /// in the same minute: exactly 20 get through, 10 are told to snooze.
    @Test func twentyPerMinuteHoldsAcrossThreeInstances() async throws {
        let fixture = try await offPool { try NotifyFixture() }
        let receiver = try RecordingReceiver(.wecom(errcode: 0))
        // Start early in a minute so all 30 sends fall in it.
        let second = try fixture.scalar("SELECT extract(second FROM clock_timestamp())::float8", as: Double.self)
        if second > 45 { try await Task.sleep(for: .milliseconds(Int((61 - second) * 1000))) }
        let database = fixture.database
        let url = receiver.url
        let outcomes = OutcomeBox()
        let group = DispatchGroup()
        for instance in 0..<3 {
            group.enter()
            Thread {
                defer { group.leave() }
                guard let session = try? database.session() else { return }
                defer { session.close() }
                let channel = WeComRobotChannel(client: NotifyHTTPClient(timeoutSeconds: 15))
                for i in 0..<10 {
                    let attempts = channel.send(OutgoingMessage(notificationId: Int64(instance * 10 + i), type: "x", title: "t",
                                                                text: "消息 \(instance)-\(i)", target: url, rmId: "RM01"), session: session)
                    outcomes.append(attempts.map(\.outcome))
                }
            }.start()
        }
        #expect(try await offPool { group.wait(timeout: .now() + 60) } == .success)
        let all = outcomes.values.flatMap { $0 }
        #expect(all.count == 30)
        // The limit is what the receiver saw and the window counted (below): exactly 20. A send whose
        // answer came too late on a loaded machine is a retry, not a delivery, but it still took its slot.
        #expect(all.filter { $0 != .rateLimited }.count == 20)
        #expect(all.filter { $0 == .delivered }.count >= 15)
        #expect(all.filter { $0 == .rateLimited }.count == 10)
        #expect(receiver.requests.count == 20)
        #expect(try fixture.scalar("SELECT sum(sent)::int FROM notify_rate_windows", as: Int.self) == 20)
    }

    @Test func applicationTokenIsFetchedOnceAndCached() async throws {
        let fixture = try await offPool { try NotifyFixture() }
        let receiver = try RecordingReceiver(.wecom(errcode: 0))
        let channel = WeComAppChannel(baseURL: "http://127.0.0.1:\(receiver.port)", corpId: "ww1", corpSecret: "s3cret",
                                      agentId: 1000002, client: NotifyHTTPClient(timeoutSeconds: 15))
        for i in 0..<3 {
            let attempts = try await fixture.send(channel, OutgoingMessage(notificationId: Int64(i), type: "x", title: "t", text: "提醒 \(i)",
                                                        target: "wangjl", rmId: "RM01"))
            #expect(attempts.map(\.outcome) == [.delivered], "\(attempts)")
        }
        #expect(receiver.tokenRequests == 1)
        let sends = receiver.requests.filter { $0.path == "/cgi-bin/message/send" }
        try #require(sends.count == 3)
        #expect(sends.allSatisfy { $0.target.contains("access_token=TOKEN1") })
        let body = try #require(try JSONSerialization.jsonObject(with: Data(sends[0].body)) as? [String: Any])
        #expect(body["touser"] as? String == "wangjl")
        #expect(body["agentid"] as? Int == 1000002)
        // Near expiry (< 300 s left) the next send refreshes it, once.
        _ = try fixture.session.execute(PostgresQuery("UPDATE wecom_tokens SET expires_at = clock_timestamp() + interval '100 seconds'"))
        _ = try await fixture.send(channel, OutgoingMessage(notificationId: 9, type: "x", title: "t", text: "x", target: "wangjl", rmId: "RM01"))
        #expect(receiver.tokenRequests == 2)
        #expect(receiver.requests.last?.target.contains("access_token=TOKEN2") == true)
    }
}

final class OutcomeBox: Sendable {
    private let stored = Mutex<[[DeliveryOutcome]]>([])
    func append(_ value: [DeliveryOutcome]) { stored.withLock { $0.append(value) } }
    var values: [[DeliveryOutcome]] { stored.withLock { $0 } }
}
