import Foundation
import Postgres
import ServiceKit
import TestSupport
import Testing
import TierGuardModel
import TierGuardStore

@Suite struct NotifySMSAndMailTests {
    @Test func smsNeverReachesAnOptedOutCustomerNorGoesOutInQuietHours() async throws {
        let fixture = try await offPool { try NotifyFixture() }
        let gateway = try RecordingReceiver(.smsOK)
        try fixture.rm("RM01")
        try fixture.customer("C001", optOut: true)
        // C002's birthday is today (Shanghai, by the database clock) and it is 金卡: the function
        // tierguard_birthday_sms_recipient hands out its number today only.
        let today = try #require(CalendarDate(try fixture.scalar(
            "SELECT (clock_timestamp() AT TIME ZONE 'Asia/Shanghai')::date::text", as: String.self)))
        try fixture.customer("C002", optOut: false, phone: "13900001111",
                             birth: CalendarDate(year: today.year - 44, month: today.month, day: today.day)!.description)
        try fixture.score("C002", tier: "gold")
        let notifier = AlertNotifier(configuration: NotifierConfiguration(channels: [
            SMSChannel(gatewayURL: gateway.url, signName: "某某银行", client: NotifyHTTPClient(timeoutSeconds: 15))]))
        guard case .suppressed(.optOut, _) = try await fixture.sms(notifier, "C001", NotifyFixture.shanghai(10)) else {
            Issue.record("expected opt_out"); return
        }
        guard case .suppressed(.quietHours, _) = try await fixture.sms(notifier, "C002", NotifyFixture.at(today.adding(days: -400), hour: 22)) else {
            Issue.record("expected quiet_hours"); return
        }
        #expect(gateway.requests.isEmpty)
        // Today (another year than the quiet-hours try), daytime, not opted out: one templated SMS.
        guard case .sent = try await fixture.sms(notifier, "C002", NotifyFixture.at(today, hour: 10)) else {
            Issue.record("expected sent"); return
        }
        let request = try #require(gateway.requests.first)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        #expect(body["phone_numbers"] as? String == "13900001111")
        #expect(body["sign_name"] as? String == "某某银行")
        #expect(body["template_code"] as? String == "SMS_BIRTHDAY")
        let params = try #require(body["template_param"] as? String)
        #expect(try JSONSerialization.jsonObject(with: Data(params.utf8)) is [String: String])
        // The opted-out customer never reached the gateway, whatever we tried.
        #expect(!gateway.requests.contains { String(decoding: $0.body, as: UTF8.self).contains("13812345678") })
    }

    @Test func subjectsAreRFC2047AndLeadingDotsAreStuffed() {
        #expect(SMTPChannel.encodeHeader("Daily") == "Daily")
        #expect(SMTPChannel.encodeHeader("日报") == "=?UTF-8?B?" + Data("日报".utf8).base64EncodedString() + "?=")
        #expect(SMTPChannel.dotStuff("a\n.b\n..c") == "a\r\n..b\r\n...c")
    }

    /// A real SMTP server (aiosmtpd) on loopback receives the mail; Python's `email` package decodes the
    /// subject and body back.
    @Test func mailReachesARealSMTPServerWithTheUTF8SubjectIntact() async throws {
        let fixture = try await offPool { try NotifyFixture() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let out = directory.appendingPathComponent("mail.txt").path
        let portFile = directory.appendingPathComponent("port").path
        let script = """
        import asyncio, sys, socket, email, email.header, email.policy
        from aiosmtpd.controller import Controller
        class Handler:
            async def handle_DATA(self, server, session, envelope):
                msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
                with open(sys.argv[1], 'w', encoding='utf-8') as f:
                    f.write(envelope.mail_from + '\\n' + ','.join(envelope.rcpt_tos) + '\\n' + str(msg['subject']) + '\\n' + msg.get_content())
                return '250 OK'
        s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()
        c = Controller(Handler(), hostname='127.0.0.1', port=port); c.start()
        open(sys.argv[2], 'w').write(str(port))
        import time; time.sleep(20)
        """
        // Everything below blocks (the Python server's start-up, SMTP over a socket, file polling): it runs
        // on its own thread, not on one of the two cooperative threads the concurrent suites share.
        struct Seen { var delivered: [DeliveryOutcome]; var lines: [String]; var refused: [DeliveryOutcome] }
        let subject = "【紧急】降级预警: 张** (钻石) — 请今日回访客户, 预计 2026-12-01 降为白金"
        let text = "第一行\n.以点开头的行\n预警编号 42"
        let seen = try await offPool { () throws -> Seen in
            let process = Process()
            // `python3` from PATH: the interpreter `python3 -m pip install aiosmtpd` installed into.
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", script, out, portFile]
            try process.run()
            defer { process.terminate() }
            try waitUntil(timeout: 10, "the SMTP server") { (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0) } != nil }
            struct NoPort: Error {}
            guard let port = Int(try String(contentsOfFile: portFile, encoding: .utf8)) else { throw NoPort() }
            let channel = SMTPChannel(host: "127.0.0.1", port: port, from: "tierguard@bank.example")
            let attempts = channel.send(OutgoingMessage(notificationId: 42, type: "tierguard.alert", title: subject, text: text,
                                                        target: "rm01@bank.example", rmId: "RM01"), session: fixture.session)
            var lines: [String] = []
            if attempts.map(\.outcome) == [DeliveryOutcome.delivered] {
                try waitUntil(timeout: 10, "the mail file") { FileManager.default.fileExists(atPath: out) }
                lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            }
            // Nothing listening: a retry, not a failure.
            let refused = SMTPChannel(host: "127.0.0.1", port: 1, from: "x@y").send(
                OutgoingMessage(notificationId: 1, type: "x", title: "t", text: "x", target: "a@b", rmId: "R"), session: fixture.session)
            return Seen(delivered: attempts.map(\.outcome), lines: lines, refused: refused.map(\.outcome))
        }
        #expect(seen.delivered == [.delivered])
        let lines = seen.lines
        try #require(lines.count >= 4)
        #expect(lines[0] == "tierguard@bank.example")
        #expect(lines[1] == "rm01@bank.example")
        #expect(lines[2] == subject)
        #expect(lines[3...].joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines) == text)
        #expect(seen.refused == [.retry])
    }
}
