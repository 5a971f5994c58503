import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Postgres
import TestSupport
import Testing

/// Awkward files through the real `tierguard-ingest` process (issue 10, "Ingest"): a 100 MB line,
/// encodings and JSON edge cases in one file, money at the Int64 edge, torn and killed files in the
/// watched folder. The parsers' own tests (FeedContractTests) cover each rule in isolation; these
/// show the same rules hold end to end: the line is refused with its reason, the rest is applied.
@Suite(.serialized) struct IngestFaultFileTests {
    static let customer = #"{"type":"customer","customer_id":"C1","name":"张三","id_type":"passport","id_number":"E1234567","risk_level":"C3","risk_assessed_on":"2026-01-05","rm_id":"RM1","branch_id":"B1","opened_on":"2020-01-01","status":"active"}"#
    static let account = #"{"type":"account","account_id":"A1","customer_id":"C1","product":"demand_deposit","currency":"CNY","opened_on":"2020-01-01"}"#
    static func balance(_ day: String, _ amount: String, account: String = "A1") -> String {
        #"{"type":"balance","account_id":"\#(account)","as_of":"2026-03-\#(day)","balance":"\#(amount)"}"#
    }
    static func transaction(_ id: String, extra: String = "") -> String {
        #"{"type":"transaction","txn_id":"\#(id)","account_id":"A1","booked_at":"2026-03-31T10:00:00+08:00","amount":"-5.00","category":"withdrawal","channel":"atm"\#(extra)}"#
    }

    /// A line of 100 MiB of padding (plus its JSON) between valid lines: refused as `line 3: line is
    /// N bytes, longer than the limit of 1048576 bytes`, the lines after it applied, and the process's
    /// peak memory (GNU time's maximum RSS) stays under 64 MiB, well below the line itself: the reader
    /// skips an overlong line chunk by chunk, keeping its first 4,096 bytes for the reject.
    @Test func aHundredMegabyteLineIsRefusedByNumberAndLimitAndTheLinesAfterItApply() async throws {
        let dir = try IngestFault.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/big.ndjson"
        let head = #"{"type":"balance","account_id":"A1","as_of":"2026-03-30","balance":"1.00","pad":""#
        let tail = #""}"#
        let padding = 100 << 20
        let lineLength = head.utf8.count + padding + tail.utf8.count
        do {
            guard let file = fopen(path, "w") else { throw IngestFault.Failure("cannot create \(path)") }
            defer { fclose(file) }
            func put(_ bytes: [UInt8]) { _ = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) } }
            put(Array((Self.customer + "\n" + Self.account + "\n" + head).utf8))
            let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
            for _ in 0..<(padding >> 20) { put(chunk) }
            put(Array((tail + "\n" + Self.balance("31", "2.00") + "\n" + Self.transaction("T1") + "\n").utf8))
        }

        let db = try TestDatabase.create()
        let rssFile = dir + "/rss"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
        process.arguments = ["-f", "%M", "-o", rssFile, ServiceProcess.binary("tierguard-ingest").path, "load", path]
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = db.url
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning {
            if Date() > deadline { kill(process.processIdentifier, SIGKILL); throw IngestFault.Failure("load did not exit within 60 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
        let stdout = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(stdout)")
        #expect(stdout.contains("4 accepted, 1 rejected, 0 unchanged, 0 pending"), "\(stdout)")
        let reason = "line 3: line is \(lineLength) bytes, longer than the limit of 1048576 bytes"
        #expect(stdout.contains(reason), "\(stdout)")

        let rssText = try String(contentsOfFile: rssFile, encoding: .utf8)
        let peakKiB = try #require(rssText.split(separator: "\n").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }, "\(rssText)")
        print("IngestFaultFileTests: 100 MiB line, peak RSS \(peakKiB / 1024) MiB")
        #expect(peakKiB * 1024 < 64 << 20, "peak RSS \(peakKiB) KiB for a \(lineLength)-byte line")

        let session = try db.session()
        defer { session.close() }
        #expect(try IngestFault.count(session, "SELECT balance_fen FROM balances WHERE account_id = 'A1' AND as_of = '2026-03-31'") == 200)
        #expect(try IngestFault.count(session, "SELECT count(*) FROM balances WHERE as_of = '2026-03-30'") == 0)
        #expect(try IngestFault.count(session, "SELECT count(*) FROM transactions WHERE txn_id = 'T1'") == 1)
        let stored = try session.query(PostgresQuery("""
            SELECT reason, octet_length(raw_text), octet_length(raw_text_enc) FROM ingest_rejects WHERE line_number = 3
            """))
        try #require(stored.count == 1)
        #expect(try stored[0].decode(String.self, at: 0) == reason)
        // The kept prefix (4,096 bytes and "…", sealed or not), never the line.
        let kept = (try stored[0].decode(Int?.self, at: 1), try stored[0].decode(Int?.self, at: 2))
        #expect((kept.0 ?? 0) < 8192 && (kept.1 ?? 0) < 8192, "raw_text \(kept.0 ?? -1) bytes, raw_text_enc \(kept.1 ?? -1) bytes")
    }

    /// One file with the encoding and JSON faults side by side, through the process: a BOM on line 1
    /// and CRLF line ends (accepted), a Latin-1 name (stray invalid UTF-8 that is not GBK: that line
    /// refused, naming the byte), a NUL byte, invalid UTF-8, a duplicate key, 10,000-deep nesting, a
    /// 10,000-digit number and a `1e999999` in unknown fields (accepted: they are ignored), a blank line
    /// (skipped, numbered), and a last line without a line end (applied). 4 lines accepted, 5 refused,
    /// each with its line.
    ///
    /// GBK: a file that looks GBK-encoded is refused as a whole, or transcoded when configured
    /// (`IngestEncodingTests`); the Latin-1 `é` before an ASCII letter here is a valid GBK pair but not a
    /// GB2312 character, so it stays a per-line reject (`GBKDetector`).
    @Test func encodingsAndJSONEdgeCasesInOneFileAreRefusedLineByLineAndTheRestApplies() async throws {
        let dir = try IngestFault.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/edges.ndjson"
        let latin1Prefix = #"{"type":"customer","customer_id":"C2","name":"Ren"#
        let latin1Suffix = #"","id_type":"passport","id_number":"E7654321","risk_level":"C3","risk_assessed_on":"2026-01-05","rm_id":"RM1","branch_id":"B1","opened_on":"2020-01-01","status":"active"}"#
        var bytes: [UInt8] = [0xEF, 0xBB, 0xBF]
        func line(_ text: String) { bytes += Array(text.utf8) + [0x0D, 0x0A] }
        line(Self.customer)                                                        // 1
        line(Self.account)                                                         // 2
        bytes += Array(latin1Prefix.utf8) + [0xE9, 0x65] + Array(latin1Suffix.utf8) + [0x0A]  // 3: Renée in Latin-1
        bytes += Array(#"{"type":"balance","account_id":"A1","as_of":"2026-03-28","#.utf8) + [0x00]
            + Array(#""balance":"1.00"}"#.utf8) + [0x0A]                         // 4: NUL
        bytes += Array(#"{"type":"balance","account_id":"A1","as_of":"2026-03-27","balance":"1.0"#.utf8) + [0xC3, 0x28]
            + Array(#""}"#.utf8) + [0x0A]                                          // 5: invalid UTF-8
        line(#"{"type":"balance","account_id":"A1","as_of":"2026-03-26","balance":"1.00","balance":"2.00"}"#)  // 6
        line(String(Self.balance("25", "3.00").dropLast()) + #","x":"# + String(repeating: "[", count: 10_000)
             + String(repeating: "]", count: 10_001) + "}")                        // 7: deep nesting, one ']' too many
        line("  \t")                                                               // 8: blank
        line(Self.transaction("T1", extra: #","score":1e999999,"count":"# + String(repeating: "7", count: 10_000)))  // 9
        bytes += Array(Self.balance("31", "12.34").utf8)                           // 10: no line end
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let db = try TestDatabase.create()
        let result = try await IngestFault.runSampled(["load", path], environment: ["DATABASE_URL": db.url], timeout: 60)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("4 accepted, 5 rejected, 0 unchanged, 0 pending"), "\(result.stdout)")
        let session = try db.session()
        defer { session.close() }
        let rejects = try session.query(PostgresQuery("SELECT line_number, reason FROM ingest_rejects ORDER BY line_number"))
            .map { (try $0.decode(Int.self, at: 0), try $0.decode(String.self, at: 1)) }
        #expect(rejects.map(\.0) == [3, 4, 5, 6, 7])
        let latin1Byte = latin1Prefix.utf8.count + 1
        #expect(rejects.first?.1 == "line 3: not valid UTF-8 at byte \(latin1Byte) (is the file GBK or another encoding? feeds are UTF-8)")
        #expect(rejects.dropFirst().first?.1.hasPrefix("line 4: NUL byte at byte ") == true)
        #expect(rejects.dropFirst(2).first?.1.hasPrefix("line 5: not valid UTF-8 at byte ") == true)
        #expect(rejects.dropFirst(3).first?.1 == "line 6: duplicate key balance")
        #expect(rejects.dropFirst(4).first?.1.hasPrefix("line 7: not valid JSON: expected ',' or '}' at byte ") == true)
        #expect(try IngestFault.count(session, "SELECT count(*) FROM customers") == 1)
        #expect(try IngestFault.count(session, "SELECT count(*) FROM transactions WHERE txn_id = 'T1'") == 1)
        #expect(try IngestFault.count(session, "SELECT balance_fen FROM balances WHERE as_of = '2026-03-31'") == 1234)
        // The BOM is not part of the first record: C1's content is what the same line without it gives.
        #expect(try IngestFault.count(session, "SELECT count(*) FROM customers WHERE customer_id = 'C1' AND name = '张三'") == 1)
    }

    /// RFC 4180 end to end: `load feed.ndjson transactions.csv` (two files, two transactions), the CSV
    /// with a BOM, CRLF line ends and no final line end; quoted fields holding a comma, doubled quotes
    /// and a CRLF (stored as sent, `\r\n`; the record keeps the number of its first line); a quote inside an
    /// unquoted field and a short record refused; a quote left open refused at its own line (5) and
    /// the lines after it read again, so the last record still lands.
    @Test func aCSVFeedWithRFC4180EdgeCasesAppliesItsGoodRecordsByPhysicalLine() async throws {
        let dir = try IngestFault.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try (Self.customer + "\n" + Self.account + "\n").write(toFile: dir + "/feed.ndjson", atomically: true, encoding: .utf8)
        let fixed = "A1,2026-03-31T10:00:00+08:00,-5.00,withdrawal,atm"
        let csv = "\u{FEFF}txn_id,account_id,booked_at,amount,category,channel,description\r\n"
            + "T1,\(fixed),\"a, b\"\r\n"                    // 2
            + "T2,\(fixed),\"say \"\"hi\"\"\"\r\n"          // 3
            + "T3,\(fixed),\"two\r\nlines\"\r\n"            // 4-5
            + "T4,\(fixed),bad\"quote\r\n"                  // 6: quote in an unquoted field
            + "T5,\(fixed)\r\n"                              // 7: a field short
            + "T6,\(fixed),\"unclosed\r\n"                   // 8: never closed
            + "T7,\(fixed),last"                              // 9: no final line end
        try Data(csv.utf8).write(to: URL(fileURLWithPath: dir + "/transactions.csv"))
        let db = try TestDatabase.create()
        let result = try await IngestFault.runSampled(["load", dir + "/feed.ndjson", dir + "/transactions.csv"],
                                                      environment: ["DATABASE_URL": db.url], timeout: 60)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("transactions.csv: batch 2: 4 accepted, 3 rejected, 0 unchanged, 0 pending"), "\(result.stdout)")
        let session = try db.session()
        defer { session.close() }
        let descriptions = try session.query(PostgresQuery("SELECT txn_id, description FROM transactions ORDER BY txn_id"))
            .map { "\(try $0.decode(String.self, at: 0))=\(try $0.decode(String.self, at: 1))" }
        #expect(descriptions == ["T1=a, b", "T2=say \"hi\"", "T3=two\r\nlines", "T7=last"])
        let rejects = try session.query(PostgresQuery("SELECT line_number, reason FROM ingest_rejects ORDER BY line_number"))
            .map { (try $0.decode(Int.self, at: 0), try $0.decode(String.self, at: 1)) }
        #expect(rejects.map(\.0) == [6, 7, 8], "\(rejects)")
        #expect(rejects.last?.1 == "line 8: CSV: a quoted field opened on this line is not closed by the end of the file", "\(rejects)")
    }

    /// Money at the edge of Int64 fen, end to end. The contract's range is symmetric, ±Int64.max fen
    /// (±92233720368547758.07 yuan; Int64.min is refused so that negating an amount never traps):
    /// both ends are stored exactly, one fen beyond either is a reject naming the limit, the feed goes on.
    @Test func moneyAtTheInt64EdgeIsStoredExactlyAndOneFenMoreIsRefused() async throws {
        let dir = try IngestFault.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/money.ndjson"
        // Two transactions (no rollup over them) carry the extremes; a third overflows by one fen.
        let lines = [Self.customer, Self.account,
                     Self.transaction("TMAX").replacingOccurrences(of: #""-5.00""#, with: #""92233720368547758.07""#),
                     Self.transaction("TMIN").replacingOccurrences(of: #""-5.00""#, with: #""-92233720368547758.07""#),
                     Self.transaction("TOVER").replacingOccurrences(of: #""-5.00""#, with: #""92233720368547758.08""#),
                     Self.transaction("TUNDER").replacingOccurrences(of: #""-5.00""#, with: #""-92233720368547758.09""#),
                     Self.balance("31", "1.00"),
                     Self.transaction("TMIN64").replacingOccurrences(of: #""-5.00""#, with: #""-92233720368547758.08""#)]
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let db = try TestDatabase.create()
        let result = try await IngestFault.runSampled(["load", path], environment: ["DATABASE_URL": db.url], timeout: 60)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("6 accepted, 2 rejected"), "\(result.stdout)")
        #expect(result.stdout.contains("line 5: amount 92233720368547758.08: too large"), "\(result.stdout)")
        #expect(result.stdout.contains("line 6: amount -92233720368547758.09: too small"), "\(result.stdout)")
        #expect(result.stdout.contains("-92233720368547758.08 to 92233720368547758.07 yuan"), "\(result.stdout)")
        let session = try db.session()
        defer { session.close() }
        let amounts = try session.query(PostgresQuery("SELECT amount_fen FROM transactions ORDER BY txn_id"))
            .map { try $0.decode(Int64.self, at: 0) }
        #expect(amounts == [Int64.max, -Int64.max, Int64.min])  // TMAX, TMIN, TMIN64: Int64.min fen fits too
    }

    /// A balance the contract accepts (any amount that fits Int64 fen) must not fail the whole feed.
    ///
    /// Found here, fixed by migration 0013: the balances rollup trigger (0009) cast a month's fen·days
    /// to bigint, so a balance above Int64.max / 31 fen held to month end overflowed and the whole feed's
    /// transaction failed. The sum now saturates (the scorer does not model such a customer:
    /// `CustomerScorer.maxModelMoneyFen`).
    @Test func aLargeButValidBalanceDoesNotFailTheWholeFeed() async throws {
        let dir = try IngestFault.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/big-balance.ndjson"
        let lines = [Self.customer, Self.account, Self.balance("29", "92233720368547758.07"), Self.transaction("T1")]
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let db = try TestDatabase.create()
        let result = try await IngestFault.runSampled(["load", path], environment: ["DATABASE_URL": db.url], timeout: 60)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("4 accepted, 0 rejected"), "\(result.stdout)")
        // The scorer leaves that customer out with an error line instead of trapping on overflow.
        let rescore = try ServiceProcess.run("tierguard-scorer", ["rescore"], environment: ["DATABASE_URL": db.url])
        #expect(rescore.status == 0, "stderr: \(rescore.stderr.split(separator: "\n").suffix(3))")
        #expect(rescore.stderr.contains("customer not scored"), "\(rescore.stderr.suffix(500))")
        #expect(rescore.stdout.contains("rescored 0 customers") && rescore.stdout.contains("1 customer(s) not scored"), "\(rescore.stdout)")
    }

    /// `watch` given a file the database refuses as a whole (here a CHECK constraint, as a new
    /// migration might add; SQLSTATE classes 22 and 23) moves it to `failed/` with its reason and goes
    /// on with the next file. Found here: `watch` used to catch only `IngestFileFailure`, so such a file
    /// ended the process at every restart and the files after it were never applied.
    @Test func aFileTheDatabaseRefusesDoesNotStopTheWatch() async throws {
        let dir = try IngestFault.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inbox = dir + "/in"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let poison = Self.customer.replacingOccurrences(of: "\"C1\"", with: "\"CPOISON\"")
        try (poison + "\n").write(toFile: inbox + "/a-poison.ndjson", atomically: true, encoding: .utf8)
        try (Self.customer + "\n").write(toFile: inbox + "/b-next.ndjson", atomically: true, encoding: .utf8)
        let db = try TestDatabase.create()
        let migrate = try ServiceProcess.run("tierguardctl", ["migrate"], environment: ["DATABASE_URL": db.url])
        #expect(migrate.status == 0, "\(migrate.stderr)")
        let session = try db.session()
        defer { session.close() }
        try session.execute(PostgresQuery("ALTER TABLE customers ADD CONSTRAINT no_poison CHECK (customer_id <> 'CPOISON')"))
        let watch = try ServiceProcess("tierguard-ingest", ["watch", inbox], environment: ["DATABASE_URL": db.url])
        defer { if watch.process.isRunning { watch.signal(SIGKILL) } }
        let fm = FileManager.default
        // Either the next file is processed or the watch has died: wait for one.
        try await IngestFault.poll(timeout: 30, "watch to process b-next.ndjson or exit") {
            fm.fileExists(atPath: inbox + "/processed/b-next.ndjson") || !watch.process.isRunning
        }
        #expect(watch.process.isRunning, "watch exited \(watch.process.terminationStatus): \(watch.standardError.suffix(300))")
        #expect(fm.fileExists(atPath: inbox + "/failed/a-poison.ndjson"))
        #expect(fm.fileExists(atPath: inbox + "/processed/b-next.ndjson"))
        let reason = (try? String(contentsOfFile: inbox + "/failed/a-poison.ndjson.reason", encoding: .utf8)) ?? ""
        #expect(reason.contains("the database refused the feed") && reason.contains("no_poison"), "\(reason)")
        if watch.process.isRunning {
            watch.signal(SIGTERM)
            _ = try await watch.exitStatus(timeout: 15)
        }
    }

    /// The watched folder (`watch DIR`), killed and torn:
    /// - `watch` SIGKILLed while a 50,000-line file streams leaves nothing in the archive and the file
    ///   where it was (not in `processed/`); restarted, it applies the file once and moves it.
    /// - A torn file (its last line cut mid-string, no line end) under a complete name is applied
    ///   like any feed: the lines before the cut land and the cut line is a JSON-syntax reject. Only
    ///   the rename rule (upstream writes `.name.tmp` and renames) keeps half-written files out, and
    ///   `IngestProcessTests.watchMovesCompleteFilesAndLeavesPartialOnesAlone` covers that rule.
    @Test func aKilledWatchLeavesNothingAndItsRestartAppliesTheFileOnceAndATornFileLosesOnlyItsCutLine() async throws {
        let dir = try IngestFault.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inbox = dir + "/in"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let counts = try IngestFault.writeFeed(path: dir + "/feed.ndjson", lines: 50_000)
        let db = try TestDatabase.create()
        let env = ["DATABASE_URL": db.url]
        let session = try db.session()
        defer { session.close() }

        let first = try ServiceProcess("tierguard-ingest", ["watch", inbox], environment: env)
        defer { if first.process.isRunning { first.signal(SIGKILL) } }
        try await IngestFault.poll(timeout: 30, "watch to start") {
            FileManager.default.fileExists(atPath: inbox + "/processed")
        }
        try FileManager.default.moveItem(atPath: dir + "/feed.ndjson", toPath: inbox + "/feed.ndjson")
        // Kill while the feed's COPY is streaming: the batch is open, nothing committed.
        try await IngestFault.poll(timeout: 30, "the feed's COPY to start") {
            try IngestFault.count(session, """
                SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                AND application_name = 'tierguard-ingest' AND state = 'active' AND query LIKE 'COPY%'
                """) > 0
        }
        try await Task.sleep(for: .milliseconds(300))
        first.signal(SIGKILL)
        _ = try await first.exitStatus(timeout: 10)
        try await IngestFault.poll(timeout: 120, "the killed watch's backend to go") {
            try IngestFault.ingestBackends(session) == 0
        }
        #expect(try IngestFault.rowsWritten(session) == 0)
        #expect(FileManager.default.fileExists(atPath: inbox + "/feed.ndjson"))
        #expect(!FileManager.default.fileExists(atPath: inbox + "/processed/feed.ndjson"))

        // A torn file: customer, account, then a transaction cut in its account_id string.
        let torn = [#"{"type":"customer","customer_id":"CT","name":"王五","id_type":"passport","id_number":"E99","risk_level":"C3","risk_assessed_on":"2026-01-05","rm_id":"RM1","branch_id":"B1","opened_on":"2020-01-01","status":"active"}"#,
                    #"{"type":"account","account_id":"AT","customer_id":"CT","product":"demand_deposit","currency":"CNY","opened_on":"2020-01-01"}"#,
                    #"{"type":"transaction","txn_id":"TT","account_id":"A"#].joined(separator: "\n")
        try torn.write(toFile: inbox + "/torn.ndjson", atomically: false, encoding: .utf8)

        let second = try ServiceProcess("tierguard-ingest", ["watch", inbox], environment: env)
        defer { if second.process.isRunning { second.signal(SIGKILL) } }
        try await IngestFault.poll(timeout: 60, "the restarted watch to process both files") {
            FileManager.default.fileExists(atPath: inbox + "/processed/feed.ndjson")
                && FileManager.default.fileExists(atPath: inbox + "/processed/torn.ndjson")
        }
        second.signal(SIGTERM)
        #expect(try await second.exitStatus(timeout: 15) == 0, "stderr: \(second.standardError)")
        #expect(try IngestFault.count(session, "SELECT count(*) FROM transactions") == counts.transactions)
        #expect(try IngestFault.count(session, "SELECT count(*) FROM customers") == counts.customers + 1)
        #expect(try IngestFault.count(session, "SELECT count(*) FROM ingest_batches WHERE source = 'watch' AND status = 'applied'") == 2)
        let tornRejects = try session.query(PostgresQuery("""
            SELECT r.line_number, r.reason FROM ingest_rejects r JOIN ingest_batches b ON b.id = r.batch_id
            WHERE b.file_name LIKE '%torn.ndjson'
            """)).map { (try $0.decode(Int.self, at: 0), try $0.decode(String.self, at: 1)) }
        #expect(tornRejects.count == 1)
        #expect(tornRejects.first?.0 == 3)
        #expect(tornRejects.first?.1 == "line 3: not valid JSON: a string is not closed", "\(tornRejects)")
    }
}
