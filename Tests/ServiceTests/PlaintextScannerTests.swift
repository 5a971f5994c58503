import Foundation
import Postgres
import ServiceKit
import Synchronization
import Testing
import TestSupport

/// Issue 11: no plaintext identifier in any log line, job row or PostgreSQL log. A small end-to-end run with
/// the real executables (`tierguardctl generate`, `tierguard-ingest load`, `tierguard-scorer rescore`,
/// `tierguard-notifier` to a loopback webhook) on a private cluster, then a scan of every line they wrote,
/// every `tg_jobs` row (args, errors, everything as JSON) and the cluster's server log for valid resident
/// ID numbers, mainland mobile numbers and Luhn-valid card numbers: 0 hits. The sample feed holds all three
/// kinds (and invalid lines with them, so rejects are exercised); the scanner proves it finds planted ones.
@Suite struct PlaintextScannerTests {
    /// The three patterns, each bounded by non-alphanumerics so digits inside hex trace ids, UUIDs or
    /// longer numbers do not count.
    enum Scanner {
        static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        static let checkCharacters = Array("10X98765432")

        /// GB 11643 / ISO 7064 MOD 11-2 check character of the first 17 digits.
        static func residentIDIsValid(_ id: [Character]) -> Bool {
            guard id.count == 18, id.prefix(17).allSatisfy(\.isASCIIDigit) else { return false }
            let sum = zip(id.prefix(17), weights).reduce(0) { $0 + Int(String($1.0))! * $1.1 }
            return checkCharacters[sum % 11] == id[17]
        }

        static func luhn(_ digits: [Character]) -> Bool {
            var sum = 0
            for (i, c) in digits.reversed().enumerated() {
                var d = Int(String(c))!
                if i % 2 == 1 { d *= 2; if d > 9 { d -= 9 } }
                sum += d
            }
            return sum % 10 == 0
        }

        /// Every hit in `text`: "kind value".
        static func hits(_ text: String) -> [String] {
            var hits: [String] = []
            let chars = Array(text)
            var i = 0
            while i < chars.count {
                // A maximal run of [0-9X] not preceded by an alphanumeric.
                guard chars[i].isASCIIDigit, i == 0 || !(chars[i - 1].isASCIIAlnum) else { i += 1; continue }
                var j = i
                while j < chars.count && chars[j].isASCIIDigit { j += 1 }
                var run = Array(chars[i..<j])
                if j < chars.count && chars[j] == "X" && run.count == 17 { run.append("X"); j += 1 }
                defer { i = j }
                if j < chars.count && chars[j].isASCIIAlnum { continue }
                let value = String(run)
                if run.count == 18 && residentIDIsValid(run) { hits.append("resident_id \(value)") }
                if run.count == 11 && run[0] == "1" && ("3"..."9").contains(run[1]) { hits.append("mobile \(value)") }
                if (16...19).contains(run.count) && run.allSatisfy(\.isASCIIDigit) && luhn(run) { hits.append("card \(value)") }
            }
            return hits
        }
    }

    @Test func theScannerFindsPlantedValuesAndIgnoresLookAlikes() {
        // 11010519491231002X: weights give 277, 277 mod 11 = 2 → X.
        #expect(Scanner.hits("name 张* id 11010519491231002X.") == ["resident_id 11010519491231002X"])
        #expect(Scanner.hits("id=110105194912310021") == [], "wrong check digit")
        #expect(Scanner.hits("{\"phone\":\"13812345678\"}") == ["mobile 13812345678"])
        #expect(Scanner.hits("138****5678 12812345678 138123456789 a13812345678") == [])
        #expect(Scanner.hits("card 4111111111111111 end") == ["card 4111111111111111"])
        #expect(Scanner.hits("4111111111111112 411111******1111") == [])
    }

    final class Bodies: Sendable {
        let list = Mutex<[String]>([])
    }

    final class Receiver: Sendable {
        let server: HTTPServer
        let port: Int
        let bodies = Bodies()
        init() throws {
            let server = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0),
                                    logger: Logger(service: "receiver", threshold: .critical))
            let bodies = self.bodies
            server.route("POST", "/hook") { request in
                bodies.list.withLock { $0.append(String(decoding: request.body, as: UTF8.self)) }
                return HTTPResponse(status: 200, body: Array("{}".utf8))
            }
            self.server = server
            self.port = try server.start()
        }
    }

    @Test func anEndToEndRunLeavesNoPlaintextIdentifierInLogsJobsOrThePostgreSQLLog() async throws {
        let cluster = try LocalCluster.startPrivate()
        defer { cluster.destroy() }
        let admin = try PostgresSession(configuration: PostgresConfiguration(cluster.url, applicationName: "tierguard-tests"))
        try admin.execute("CREATE DATABASE scan")
        admin.close()
        let url = cluster.url(database: "scan")
        let dir = NSTemporaryDirectory() + "tg-scan-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let receiver = try Receiver()
        defer { receiver.server.stop() }
        var logs: [(String, String)] = []
        func record(_ name: String, _ result: (status: Int32, stdout: String, stderr: String)) {
            logs.append((name + " stdout", result.stdout))
            logs.append((name + " stderr", result.stderr))
        }

        let generated = try ServiceProcess.run("tierguardctl", ["generate", "--customers", "40", "--days", "62", "--out", dir])
        record("generate", generated)
        #expect(generated.status == 0, "\(generated.stderr)")
        let feed = String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir + "/feed.ndjson")), as: UTF8.self)
        #expect(!Scanner.hits(feed).isEmpty, "the sample feed carries identifiers, so the scan below means something")

        let env = ["DATABASE_URL": url, "TIERGUARD_LOG_LEVEL": "debug"]
        let ingest = try ServiceProcess.run("tierguard-ingest", ["load", dir + "/feed.ndjson"], environment: env)
        record("ingest", ingest)
        #expect(ingest.status == 0 || ingest.status == 65, "\(ingest.stderr)")
        let rescore = try ServiceProcess.run("tierguard-scorer", ["rescore"], environment: env)
        record("scorer", rescore)
        #expect(rescore.status == 0, "\(rescore.stderr)")
        let rejects = try ServiceProcess.run("tierguardctl", ["rejects"], environment: env)
        record("rejects", rejects)

        let s = try PostgresSession(configuration: PostgresConfiguration(url, applicationName: "tierguard-tests"))
        defer { s.close() }
        let alertJobs = try s.query("SELECT count(*) FROM tg_jobs WHERE kind = 'notify_alert'")[0].decode(Int.self, at: 0)
        #expect(alertJobs > 0, "the sample feed raises alerts")
        let notifier = try ServiceProcess("tierguard-notifier", [], environment: env.merging([
            "TIERGUARD_HTTP_PORT": "0", "TIERGUARD_NOTIFY_CHANNEL": "webhook",
            "TIERGUARD_NOTIFY_WEBHOOK_URL": "http://127.0.0.1:\(receiver.port)/hook",
            "TIERGUARD_NOTIFY_WEBHOOK_SECRETS": "whsec_" + Data("scan-test-secret-32-bytes-long!!".utf8).base64EncodedString(),
            "TIERGUARD_NOTIFY_URGENT_IN_QUIET_HOURS": "true",
        ]) { $1 })
        // Every notify_alert job handled: completed, or deferred to the end of quiet hours (non-urgent ones at night).
        try await waitUntil(timeout: 20, interval: 0.2, "notify_alert jobs handled") { () async throws -> Bool in
            if !notifier.process.isRunning { return true }
            return try s.query("""
                SELECT count(*) = 0 FROM tg_jobs WHERE kind = 'notify_alert' AND (state IN ('available', 'running')
                   AND run_at <= now())
                """)[0].decode(Bool.self, at: 0)
        }
        notifier.signal(SIGTERM)
        let notifierStatus = try notifier.waitForExit(timeout: 20)
        #expect(notifierStatus == 0, "the notifier ran until SIGTERM: \(notifier.standardError.suffix(2000))")
        #expect(try s.query("SELECT count(*) FROM notifications")[0].decode(Int.self, at: 0) > 0, "the notifier handled alerts")
        logs.append(("notifier stdout", notifier.standardOutput))
        logs.append(("notifier stderr", notifier.standardError))
        let received = receiver.bodies.list.withLock { $0 }
        logs.append(("webhook bodies", received.joined(separator: "\n")))

        var hits: [String] = []
        for (name, text) in logs { hits += Scanner.hits(text).map { "\(name): \($0)" } }
        for row in try s.query("SELECT row_to_json(j)::text FROM tg_jobs j") {
            hits += Scanner.hits(try row.decode(String.self, at: 0)).map { "tg_jobs: \($0)" }
        }
        let serverLog = String(decoding: try Data(contentsOf: URL(fileURLWithPath: cluster.directory! + "/server.log")), as: UTF8.self)
        hits += Scanner.hits(serverLog).map { "server.log: \($0)" }
        #expect(hits.isEmpty, "\(hits.prefix(20))")
        // The run did produce what was scanned.
        #expect(logs.map(\.1).joined().count > 1_000)
        #expect(try s.query("SELECT count(*) FROM tg_jobs")[0].decode(Int.self, at: 0) > 0)
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    var isASCIIAlnum: Bool { isASCIIDigit || ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}
