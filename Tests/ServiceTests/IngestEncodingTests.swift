import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Postgres
import TestSupport
import Testing

/// A GBK-encoded feed through the real `tierguard-ingest` (issue 10, "Ingest: encodings"): refused as
/// a whole by `load` (exit 65), `watch` (failed/ with the reason) and `POST /v1/feed` (422), nothing
/// applied, the reason naming the file, line and byte; with `--encoding gbk` or
/// `TIERGUARD_FEED_ENCODING=gbk` the same bytes are transcoded and the Chinese names stored right.
/// (A stray invalid byte keeps its per-line reject: `IngestFaultFileTests`' edge-case file.)
@Suite(.serialized) struct IngestEncodingTests {
    /// `text` in GB18030 (`TestSupport.GB18030Text`).
    static func gbk(_ text: String) throws -> [UInt8] { try GB18030Text.bytes(text) }

    static func customer(_ id: String, _ name: String) -> String {
        #"{"type":"customer","customer_id":"\#(id)","name":"\#(name)","id_type":"passport","id_number":"E1234567","risk_level":"C3","risk_assessed_on":"2026-01-05","rm_id":"RM1","branch_id":"B1","opened_on":"2020-01-01","status":"active"}"#
    }
    static func account(_ id: String, customer: String) -> String {
        #"{"type":"account","account_id":"\#(id)","customer_id":"\#(customer)","product":"demand_deposit","currency":"CNY","opened_on":"2020-01-01"}"#
    }
    static func balance(_ account: String) -> String {
        #"{"type":"balance","account_id":"\#(account)","as_of":"2026-03-31","balance":"12.34"}"#
    }

    /// A GBK export: two ASCII-only lines, then the customer with a Chinese name (line 3).
    static func gbkFeed(_ id: String, _ name: String) throws -> [UInt8] {
        try gbk([account("A" + id, customer: id), balance("A" + id), customer(id, name)].joined(separator: "\n") + "\n")
    }
    /// The 1-based byte of line 3 where the name starts (the JSON before it is ASCII in both encodings).
    static let nameByte = Array(#"{"type":"customer","customer_id":"C1","name":""#.utf8).count + 1

    /// A temporary folder holding `gbk.ndjson` (the GBK export of C1 张三) and a fresh database with a session.
    static func gbkFileAndDatabase() throws -> (dir: String, path: String, db: TestDatabase, session: PostgresSession) {
        let dir = try IngestFault.temporaryDirectory()
        let path = dir + "/gbk.ndjson"
        try Data(gbkFeed("C1", "张三")).write(to: URL(fileURLWithPath: path))
        let db = try TestDatabase.create()
        return (dir, path, db, try db.session())
    }

    /// Rows in every table a feed writes but `ingest_batches` (where a refused feed leaves its `failed` row).
    static func applied(_ session: PostgresSession) throws -> Int {
        try IngestFault.count(session, """
            SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM accounts) + (SELECT count(*) FROM balances)
                 + (SELECT count(*) FROM transactions) + (SELECT count(*) FROM ingest_rejects)
                 + (SELECT count(*) FROM pending_records) + (SELECT count(*) FROM archive_changes) + (SELECT count(*) FROM tg_jobs)
            """)
    }

    static func advice(_ file: String) -> String {
        "\(file) looks GBK-encoded at line 3 byte \(nameByte); feeds are UTF-8: re-send it as UTF-8, or set TIERGUARD_FEED_ENCODING=gbk (tierguard-ingest load|watch --encoding gbk) to transcode it; nothing of it was applied"
    }

    @Test func aGBKFileIsRefusedAsAWholeByLoadAndByWatchNamingLineAndByte() async throws {
        let (dir, path, db, session) = try Self.gbkFileAndDatabase()
        defer { try? FileManager.default.removeItem(atPath: dir); session.close() }

        let load = try await IngestFault.runSampled(["load", path], environment: ["DATABASE_URL": db.url], timeout: 60)
        #expect(load.status == 65, "stdout: \(load.stdout) stderr: \(load.stderr)")
        #expect(load.stdout.contains("\(path): failed as a whole, nothing applied: \(Self.advice(path))"), "\(load.stdout)")
        #expect(try Self.applied(session) == 0)
        let failed = try session.query(PostgresQuery("SELECT status, error FROM ingest_batches"))
            .map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1)) }
        #expect(failed.count == 1 && failed.first?.0 == "failed" && failed.first?.1 == Self.advice(path), "\(failed)")

        let inbox = dir + "/in"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: path, toPath: inbox + "/gbk.ndjson")
        let watch = try ServiceProcess("tierguard-ingest", ["watch", inbox], environment: ["DATABASE_URL": db.url])
        defer { if watch.process.isRunning { watch.signal(SIGKILL) } }
        try await IngestFault.poll(timeout: 30, "watch to move gbk.ndjson to failed/ or exit") {
            FileManager.default.fileExists(atPath: inbox + "/failed/gbk.ndjson.reason") || !watch.process.isRunning
        }
        #expect(watch.process.isRunning, "watch exited: \(watch.standardError.suffix(300))")
        let reason = (try? String(contentsOfFile: inbox + "/failed/gbk.ndjson.reason", encoding: .utf8)) ?? ""
        #expect(reason == Self.advice(inbox + "/gbk.ndjson") + "\n", "\(reason)")
        #expect(!FileManager.default.fileExists(atPath: inbox + "/gbk.ndjson"))
        #expect(try Self.applied(session) == 0)
        #expect(try IngestFault.count(session, "SELECT count(*) FROM ingest_batches WHERE status = 'failed'") == 2)
        watch.signal(SIGTERM)
        #expect(try await watch.exitStatus(timeout: 15) == 0, "stderr: \(watch.standardError.suffix(300))")
    }

    @Test func theSameGBKFileIsTranscodedWithEncodingGBKOrTheVariable() async throws {
        let (dir, path, db, session) = try Self.gbkFileAndDatabase()
        defer { try? FileManager.default.removeItem(atPath: dir); session.close() }

        let load = try await IngestFault.runSampled(["load", "--encoding", "gbk", path], environment: ["DATABASE_URL": db.url],
                                                    timeout: 60)
        #expect(load.status == 0, "stdout: \(load.stdout) stderr: \(load.stderr)")
        #expect(load.stdout.contains("3 accepted, 0 rejected"), "\(load.stdout)")
        #expect(try IngestFault.count(session, "SELECT count(*) FROM customers WHERE customer_id = 'C1' AND name = '张三'") == 1)
        #expect(try IngestFault.count(session, "SELECT balance_fen FROM balances WHERE account_id = 'AC1'") == 1234)

        // The variable does the same for watch (and serve); a bad value is refused at start.
        let bad = try ServiceProcess.run("tierguard-ingest", ["load", path],
                                         environment: ["DATABASE_URL": db.url, "TIERGUARD_FEED_ENCODING": "latin1"])
        #expect(bad.status != 0 && bad.stderr.contains("TIERGUARD_FEED_ENCODING=latin1: expected utf8 or gbk"), "\(bad.stderr)")
        let inbox = dir + "/in"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        try Data(Self.gbkFeed("C2", "欧阳娜娜")).write(to: URL(fileURLWithPath: inbox + "/gbk2.ndjson"))
        let watch = try ServiceProcess("tierguard-ingest", ["watch", inbox],
                                       environment: ["DATABASE_URL": db.url, "TIERGUARD_FEED_ENCODING": "gbk"])
        defer { if watch.process.isRunning { watch.signal(SIGKILL) } }
        try await IngestFault.poll(timeout: 30, "watch to process gbk2.ndjson or exit") {
            FileManager.default.fileExists(atPath: inbox + "/processed/gbk2.ndjson") || !watch.process.isRunning
        }
        #expect(FileManager.default.fileExists(atPath: inbox + "/processed/gbk2.ndjson"), "\(watch.standardError.suffix(300))")
        #expect(try IngestFault.count(session, "SELECT count(*) FROM customers WHERE customer_id = 'C2' AND name = '欧阳娜娜'") == 1)
        watch.signal(SIGTERM)
        #expect(try await watch.exitStatus(timeout: 15) == 0, "stderr: \(watch.standardError.suffix(300))")
    }

    @Test func postFeedAnswers422WithTheReasonForAGBKBody() async throws {
        let db = try TestDatabase.create()
        let (process, port) = try await IngestProcessTests.startServer(db, tokens: [("core", "s3cret-core-token")])
        defer { if process.process.isRunning { process.signal(SIGKILL) } }
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/feed")!)
        request.httpMethod = "POST"
        request.httpBody = Data(try Self.gbkFeed("C1", "张三"))
        request.setValue("application/x-ndjson", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer s3cret-core-token", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode
        #expect(status == 422, "\(String(decoding: data, as: UTF8.self))")
        let answer = try JSONDecoder().decode([String: String].self, from: data)
        #expect(answer["error"] == Self.advice("http:core"), "\(answer)")
        let session = try db.session()
        defer { session.close() }
        #expect(try Self.applied(session) == 0)
        process.signal(SIGTERM)
        #expect(try await process.exitStatus(timeout: 15) == 0, "stderr: \(process.standardError.suffix(300))")
    }
}
