import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Postgres
import TestSupport
import Testing

struct IngestProcessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The real `tierguard-ingest` and `tierguardctl rejects` executables: `load`, `watch`, `serve` over a
/// real socket, SIGTERM, and masked CLI output.
@Suite struct IngestProcessTests {
    static let customer = #"{"type":"customer","customer_id":"C1","name":"张三","id_type":"passport","id_number":"E1234567","risk_level":"C3","risk_assessed_on":"2026-01-05","rm_id":"RM1","branch_id":"B1","opened_on":"2020-01-01","status":"active"}"#
    static let account = #"{"type":"account","account_id":"A1","customer_id":"C1","product":"demand_deposit","currency":"CNY","opened_on":"2020-01-01"}"#
    static let balance = #"{"type":"balance","account_id":"A1","as_of":"2026-03-31","balance":"100.50"}"#
    static func transaction(_ id: String, account: String = "A1") -> String {
        #"{"type":"transaction","txn_id":"\#(id)","account_id":"\#(account)","booked_at":"2026-03-31T10:00:00+08:00","amount":"-5.00","category":"withdrawal","channel":"atm"}"#
    }
    /// A resident ID whose check digit should be X (11010519491231002X is valid), with a phone: refused.
    static let badResidentId = "110105194912310021"
    static let phone = "13812345678"
    static let badCustomer = #"{"type":"customer","customer_id":"C9","name":"李四","id_number":"\#(badResidentId)","phone":"\#(phone)","risk_level":"C3","risk_assessed_on":"2026-01-05","rm_id":"RM1","branch_id":"B1","opened_on":"2020-01-01","status":"active"}"#

    static func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "ingest-proc-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func count(_ session: PostgresSession, _ sql: StaticString) throws -> Int {
        try session.query(PostgresQuery(sql))[0].decode(Int.self, at: 0)
    }

    @Test func loadAppliesAFileEndToEnd() throws {
        let db = try TestDatabase.create()
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/feed.ndjson"
        let lines = [Self.customer, Self.account, Self.balance, Self.transaction("T1"), Self.transaction("T2"),
                     Self.badCustomer, Self.transaction("T3", account: "A404")]
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)

        let result = try ServiceProcess.run("tierguard-ingest", ["load", path], environment: ["DATABASE_URL": db.url])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        // 5 accepted, 1 rejected (line 6), 0 unchanged, 1 pending, one scoring job (C1).
        #expect(result.stdout.contains("5 accepted, 1 rejected, 0 unchanged, 1 pending"), "\(result.stdout)")
        #expect(result.stdout.contains("1 scoring jobs"))
        #expect(result.stdout.contains("line 6: "))
        #expect(!result.stdout.contains(Self.badResidentId) && !result.stderr.contains(Self.badResidentId))
        let session = try db.session()
        defer { session.close() }
        #expect(try Self.count(session, "SELECT count(*) FROM transactions WHERE customer_id = 'C1'") == 2)
        #expect(try Self.count(session, "SELECT balance_fen FROM balances WHERE account_id = 'A1'") == 10050)
        #expect(try Self.count(session, "SELECT count(*) FROM ingest_rejects WHERE line_number = 6") == 1)
        #expect(try Self.count(session, "SELECT count(*) FROM pending_records WHERE line_number = 7") == 1)
        #expect(try Self.count(session, "SELECT count(*) FROM ingest_batches WHERE source = 'file' AND accepted = 5") == 1)

        // The same file again changes nothing: 6 lines unchanged or still pending, exit 0.
        let again = try ServiceProcess.run("tierguard-ingest", ["load", path], environment: ["DATABASE_URL": db.url])
        #expect(again.status == 0)
        #expect(again.stdout.contains("0 accepted, 1 rejected, 5 unchanged, 1 pending"), "\(again.stdout)")
    }

    @Test func loadExits65WhenAFileFailsAsAWhole() throws {
        let db = try TestDatabase.create()
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/customers.csv"
        try "customer_id,name,name\nC1,x,y\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try ServiceProcess.run("tierguard-ingest", ["load", path], environment: ["DATABASE_URL": db.url])
        #expect(result.status == 65)
        #expect(result.stdout.contains("failed as a whole"))
    }

    @Test func watchMovesCompleteFilesAndLeavesPartialOnesAlone() throws {
        let db = try TestDatabase.create()
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fm = FileManager.default
        // Files that are not complete yet: a dot file and a .part file, both with feed-like names.
        try (Self.customer + "\n").write(toFile: dir + "/.incoming.ndjson", atomically: false, encoding: .utf8)
        try (Self.customer + "\n").write(toFile: dir + "/late.ndjson.part", atomically: false, encoding: .utf8)

        let process = try ServiceProcess("tierguard-ingest", ["watch", dir], environment: ["DATABASE_URL": db.url])
        defer { if process.process.isRunning { process.signal(SIGKILL) } }

        // A complete file is written under a temporary name and renamed into place.
        let feed = [Self.customer, Self.account, Self.transaction("T1")].joined(separator: "\n") + "\n"
        try feed.write(toFile: dir + "/.feed-1.ndjson.tmp", atomically: false, encoding: .utf8)
        try fm.moveItem(atPath: dir + "/.feed-1.ndjson.tmp", toPath: dir + "/feed-1.ndjson")
        // A CSV whose header repeats a column cannot be used as a whole.
        try "customer_id,name,name\nC1,x,y\n".write(toFile: dir + "/.c.tmp", atomically: false, encoding: .utf8)
        try fm.moveItem(atPath: dir + "/.c.tmp", toPath: dir + "/customers-bad.csv")

        try waitUntil(timeout: 15, interval: 0.05, "watch to move both files") {
            fm.fileExists(atPath: dir + "/processed/feed-1.ndjson") && fm.fileExists(atPath: dir + "/failed/customers-bad.csv.reason")
        }
        #expect(!fm.fileExists(atPath: dir + "/feed-1.ndjson"))
        #expect(fm.fileExists(atPath: dir + "/failed/customers-bad.csv"))
        let reason = try String(contentsOfFile: dir + "/failed/customers-bad.csv.reason", encoding: .utf8)
        #expect(reason.contains("header"), "\(reason)")
        let session = try db.session()
        defer { session.close() }
        #expect(try Self.count(session, "SELECT count(*) FROM transactions WHERE txn_id = 'T1' AND customer_id = 'C1'") == 1)
        #expect(try Self.count(session, "SELECT count(*) FROM ingest_batches WHERE source = 'watch' AND status = 'applied'") == 1)
        #expect(try Self.count(session, "SELECT count(*) FROM ingest_batches WHERE source = 'watch' AND status = 'failed'") == 1)

        process.signal(SIGTERM)
        #expect(try process.waitForExit(timeout: 15) == 0, "stderr: \(process.standardError)")
        // Never touched: still in place, nothing of them in the archive beyond C1 from feed-1.
        #expect(fm.fileExists(atPath: dir + "/.incoming.ndjson"))
        #expect(fm.fileExists(atPath: dir + "/late.ndjson.part"))
        #expect(try Self.count(session, "SELECT count(*) FROM ingest_batches") == 2)
    }

    struct FeedAnswer: Decodable {
        struct Reject: Decodable { var line: Int; var reason: String }
        var batch_id: Int64; var accepted: Int; var rejected: Int; var unchanged: Int; var pending: Int
        var rejects: [Reject]
    }

    static func post(port: Int, token: String?, body: String) async throws -> (Int, Data, HTTPURLResponse) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/feed")!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("application/x-ndjson", forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        return (http.statusCode, data, http)
    }

    /// Starts `serve` with `tokens` as `name:sha256hex` or, with `scopes[name]`, `name:scopes:sha256hex`
    /// entries (hashed by the database's sha256()).
    static func startServer(_ db: TestDatabase, tokens: [(name: String, token: String)], extra: [String: String] = [:],
                            scopes: [String: String] = [:]) async throws -> (ServiceProcess, Int) {
        let session = try db.session()
        defer { session.close() }
        var entries: [String] = []
        for t in tokens {
            let hash = try session.query(PostgresQuery("SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')").binding(t.token))[0]
                .decode(String.self, at: 0)
            entries.append([t.name, scopes[t.name], hash].compactMap { $0 }.joined(separator: ":"))
        }
        let port = LocalCluster.freePort()
        var env = ["DATABASE_URL": db.url, "TIERGUARD_HTTP_PORT": String(port), "TIERGUARD_HTTP_HOST": "127.0.0.1",
                   "TIERGUARD_INGEST_TOKENS": entries.joined(separator: ",")]
        for (k, v) in extra { env[k] = v }
        let process = try ServiceProcess("tierguard-ingest", ["serve"], environment: env)
        try await waitUntil(timeout: 20, interval: 0.1, "tierguard-ingest /readyz") {
            guard process.process.isRunning else { throw IngestProcessError("serve exited: \(process.standardError)") }
            guard let (_, response) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/readyz")!)
            else { return false }
            return (response as? HTTPURLResponse)?.statusCode == 200
        }
        return (process, port)
    }

    @Test func servePostFeedChecksTheTokenAndReportsCounts() async throws {
        let db = try TestDatabase.create()
        let (process, port) = try await Self.startServer(db, tokens: [("core", "s3cret-core-token")])
        defer { if process.process.isRunning { process.signal(SIGKILL) } }
        let body = [Self.customer, Self.account, Self.transaction("T1"), "not json", Self.transaction("T2", account: "A404")]
            .joined(separator: "\n") + "\n"

        let (missing, _, _) = try await Self.post(port: port, token: nil, body: body)
        #expect(missing == 401)
        let (wrong, _, _) = try await Self.post(port: port, token: "s3cret-core-tokeN", body: body)
        #expect(wrong == 403)

        let (status, data, _) = try await Self.post(port: port, token: "s3cret-core-token", body: body)
        #expect(status == 200, "\(String(decoding: data, as: UTF8.self))")
        let answer = try JSONDecoder().decode(FeedAnswer.self, from: data)
        #expect(answer.accepted == 3 && answer.rejected == 1 && answer.unchanged == 0 && answer.pending == 1)
        #expect(answer.rejects.map(\.line) == [4])
        #expect(answer.rejects.first?.reason.hasPrefix("line 4: ") == true)

        // The same body again: everything unchanged, the reject again, still pending.
        let (_, againData, _) = try await Self.post(port: port, token: "s3cret-core-token", body: body)
        let again = try JSONDecoder().decode(FeedAnswer.self, from: againData)
        #expect(again.accepted == 0 && again.unchanged == 3 && again.rejected == 1 && again.pending == 1)

        process.signal(SIGTERM)
        #expect(try await process.exitStatus(timeout: 15) == 0, "stderr: \(process.standardError)")
        #expect(!process.standardError.contains("s3cret-core-token"))
    }

    @Test func serveNeedsFeedWriteAndLimitsEachTokensRate() async throws {
        let db = try TestDatabase.create()
        // "core" may post (scoped), "audit" has a scope but not feed:write; 1 a minute after a burst of 2.
        let (process, port) = try await Self.startServer(
            db, tokens: [("core", "core-token"), ("audit", "audit-token")],
            extra: ["TIERGUARD_INGEST_RATE_PER_MINUTE": "1", "TIERGUARD_INGEST_RATE_BURST": "2"],
            scopes: ["core": "feed:write", "audit": "jobs:read"])
        defer { if process.process.isRunning { process.signal(SIGKILL) } }
        let body = Self.customer + "\n"

        let (scopeless, data, _) = try await Self.post(port: port, token: "audit-token", body: body)
        #expect(scopeless == 403)
        #expect(String(decoding: data, as: UTF8.self).contains("feed:write"))

        #expect(try await Self.post(port: port, token: "core-token", body: body).0 == 200)
        #expect(try await Self.post(port: port, token: "core-token", body: body).0 == 200)
        let (limited, _, response) = try await Self.post(port: port, token: "core-token", body: body)
        #expect(limited == 429)
        // One a minute: the next token is about 60 s away.
        let retryAfter = Int(response.value(forHTTPHeaderField: "Retry-After") ?? "") ?? 0
        #expect((50...60).contains(retryAfter), "Retry-After \(retryAfter)")

        process.signal(SIGTERM)
        #expect(try await process.exitStatus(timeout: 15) == 0)
    }

    @Test func rejectsAndPendingAreListedMaskedByDefault() throws {
        let db = try TestDatabase.create()
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/feed.ndjson"
        let usdAccount = #"{"type":"account","account_id":"A405","customer_id":"C1","product":"demand_deposit","currency":"USD","opened_on":"2020-01-01"}"#
        try ([Self.badCustomer, Self.transaction("T7", account: "A404"), usdAccount, Self.transaction("T8", account: "A405")]
            .joined(separator: "\n") + "\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let env = ["DATABASE_URL": db.url]
        #expect(try ServiceProcess.run("tierguard-ingest", ["load", path], environment: env).status == 0)

        let rejects = try ServiceProcess.run("tierguardctl", ["rejects"], environment: env)
        #expect(rejects.status == 0, "\(rejects.stderr)")
        #expect(rejects.stdout.contains("line 1: "), "\(rejects.stdout)")
        #expect(rejects.stdout.contains("check digit"))
        #expect(rejects.stdout.contains("2 reject(s) shown"))
        #expect(!rejects.stdout.contains(Self.badResidentId), "\(rejects.stdout)")
        #expect(!rejects.stdout.contains(Self.phone), "\(rejects.stdout)")

        let pending = try ServiceProcess.run("tierguardctl", ["rejects", "--pending"], environment: env)
        #expect(pending.status == 0)
        #expect(pending.stdout.contains("line 2: transaction T7: pending, account A404 is not in the archive\n"), "\(pending.stdout)")
        // A record whose account line was refused says where that line is.
        #expect(pending.stdout.contains("line 4: transaction T8: pending, account A405 is not in the archive (its account line was rejected: batch 1 line 3)"),
                "\(pending.stdout)")
        #expect(pending.stdout.contains("2 pending record(s) shown"))
        #expect(!pending.stdout.contains(Self.badResidentId) && !pending.stdout.contains(Self.phone))

        // The operator's escape hatch shows the raw line; since issue 11 it needs --reason (audited).
        #expect(try ServiceProcess.run("tierguardctl", ["rejects", "--unmask"], environment: env).status == 64)
        let unmasked = try ServiceProcess.run("tierguardctl", ["rejects", "--unmask", "--reason", "feed fix"], environment: env)
        #expect(unmasked.stdout.contains(Self.badResidentId) && unmasked.stdout.contains(Self.phone))
        // What --unmask showed came from the sealed column: the stored text is masked (0012).
        let session = try db.session()
        defer { session.close() }
        let stored = try session.query(PostgresQuery(
            "SELECT raw_text, raw_text_enc IS NOT NULL FROM ingest_rejects WHERE line_number = 1"))[0]
        let text = try stored.decode(String.self, at: 0)
        #expect(!text.contains(Self.badResidentId) && !text.contains(Self.phone) && text.contains("customer_id"), "\(text)")
        #expect(try stored.decode(Bool.self, at: 1))
    }
}
