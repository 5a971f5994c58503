import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Postgres
import TestSupport
import Testing

/// Issue 9, "Watching it": a live `/metrics` scrape of a real service process passes
/// `promtool check metrics`, exposes the series the alert rules in deploy/observability/alerts.yaml
/// read, and carries no per-customer label.
@Suite struct MetricsLintTests {
    static let promtool = "/usr/bin/promtool"

    /// The scorer with one job of a kind it has no handler for and `max_attempts` 1: its only attempt
    /// fails, so the job is discarded and `tierguard_jobs_discarded_total{queue="scorer",kind="lint_probe"}`
    /// must read exactly 1. `tierguard_workers_live{queue="scorer"}` must read 1 (this one worker). The
    /// queue depth is only checked for presence: the start-up `rescore_book` may be waiting at the scrape.
    @Test func theScorersMetricsPassPromtoolAndCarryTheAlertSeries() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.promtool) else {
            Issue.record("promtool is not installed at \(Self.promtool): `apt-get install -y prometheus` (as deploy/lint.sh does)")
            return
        }
        let db = try TestDatabase.create()
        let port = LocalCluster.freePort()
        let process = try ServiceProcess("tierguard-scorer", [], environment: [
            "DATABASE_URL": db.url, "TIERGUARD_HTTP_PORT": String(port), "TIERGUARD_HTTP_HOST": "127.0.0.1",
            "TIERGUARD_LISTEN": "off"])
        defer { if process.process.isRunning { process.signal(SIGKILL) } }
        let base = "http://127.0.0.1:\(port)"
        try await waitUntil(timeout: 30, interval: 0.1, "tierguard-scorer /readyz (stderr: \(process.standardError))") {
            guard let (_, response) = try? await URLSession.shared.data(from: URL(string: base + "/readyz")!) else { return false }
            return (response as? HTTPURLResponse)?.statusCode == 200
        }
        let connection = try await db.connection()
        try await connection.execute(PostgresQuery(
            "INSERT INTO tg_jobs (queue, kind, max_attempts) VALUES ('scorer', 'lint_probe', 1)", name: "t.probe"))
        await connection.close()

        var text = ""
        // /readyz answers before the worker's threads start, and the claim thread may discard the probe
        // before the maintenance thread's first heartbeat: wait for both.
        try await waitUntil(timeout: 15, interval: 0.2, "the probe job counted as discarded and the worker live") {
            guard let (body, _) = try? await URLSession.shared.data(from: URL(string: base + "/metrics")!) else { return false }
            text = String(decoding: body, as: UTF8.self)
            let discarded = text.contains("tierguard_jobs_discarded_total{kind=\"lint_probe\",queue=\"scorer\"} 1")
                || text.contains("tierguard_jobs_discarded_total{queue=\"scorer\",kind=\"lint_probe\"} 1")
            return discarded && text.contains("tierguard_workers_live{queue=\"scorer\"} 1")
        }
        let expected = ["tierguard_workers_live{queue=\"scorer\"} 1", "tierguard_queue_depth{queue=\"scorer\"} ",
                        "tierguard_queue_oldest_available_seconds{queue=\"scorer\"}", "tierguard_jobs_failed_total",
                        "tierguard_scorer_business_dates_behind 0"]
        let missing = expected.filter { !text.contains($0) }
        #expect(missing.isEmpty, "missing \(missing) in:\n\(text)")
        #expect(Self.customerLikeLabels(text).isEmpty, "customer-like labels: \(Self.customerLikeLabels(text))")

        let lint = try await Task.detached { try Self.promtoolCheck(text) }.value
        #expect(lint.status == 0, "promtool exit \(lint.status): \(lint.output)")
        #expect(lint.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "promtool problems: \(lint.output)")

        process.signal(SIGTERM)
        let status = try await Task.detached { try process.waitForExit(timeout: 30) }.value
        #expect(status == 0, "stderr: \(process.standardError)")
    }

    /// The customer-id check itself catches a customer label and a customer id as a label value.
    @Test func theCustomerLabelCheckFindsCustomerIDs() {
        #expect(Self.customerLikeLabels("x_total{queue=\"scorer\",kind=\"score_customer\"} 1").isEmpty)
        #expect(Self.customerLikeLabels("x_total{customer_id=\"a\"} 1") == ["customer_id=\"a\""])
        #expect(Self.customerLikeLabels("x_total{key=\"C00012345\"} 1") == ["key=\"C00012345\""])
    }

    /// Labels that name a customer, or whose value looks like a customer id (a letter or none,
    /// then 6 or more digits). Queue, kind, route, code… never match.
    static func customerLikeLabels(_ text: String) -> [String] {
        var found: [String] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}") else { continue }
            let labels = line[line.index(after: open)..<close]
            for pair in labels.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let name = parts[0].lowercased()
                let value = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                let looksLikeID = value.wholeMatch(of: /[A-Za-z]{0,2}[0-9]{6,}/) != nil
                if name.contains("customer") || name.contains("cust") || looksLikeID { found.append(String(pair)) }
            }
        }
        return found
    }

    /// Runs `promtool check metrics < file` on `text` (blocking: call it off the cooperative pool).
    static func promtoolCheck(_ text: String) throws -> (status: Int32, output: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString).txt")
        try Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: promtool)
        process.arguments = ["check", "metrics"]
        process.standardInput = try FileHandle(forReadingFrom: file)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
