import FeedContract
import Foundation
import Postgres
import ServiceKit
import TierGuardModel
import TierGuardStore

/// `tierguard-bench ingest --database-url URL [--transactions 1000000] [--customers 10000] [--runs 3] [--dir DIR] [--phases]`
///
/// Writes a deterministic NDJSON feed (one customer, one account each, then the transactions spread
/// over the accounts, ~200 bytes a line) and, beside it, the same transactions as COPY text. Each run
/// resets the database's `public` schema, migrates, and times (1) `FeedIngestor.ingest(path:)`, the
/// exact code path of `tierguard-ingest load FILE`, and (2) `psql -c "\copy"` of the same transaction
/// rows into a bare logged table with a primary key: the ceiling. Prints rows/s of both, the ratio, and
/// the median of the runs. Build with `-c release`; run it against a cluster with durable defaults.
///
/// `--phases` also prints, per run, the wall time of each ingest step (`IngestResult.phases`: stream =
/// read + decode + send COPY data, copy end, analyze, apply per table, jobs, commit) and, once, a
/// decode-only pass over the file without a database (the client's share of `stream`).
enum IngestBench {
    static let spec = CommandSpec(
        name: "ingest", abstract: "A 1,000,000-transaction NDJSON feed end to end, beside psql \\copy of the same rows",
        flags: [.init("phases", help: "print each ingest step's time per run, and a decode-only pass")],
        options: [
            BenchArguments.databaseURLOption,
            .init("transactions", valueName: "n", help: "transaction lines (default 1000000)"),
            .init("customers", valueName: "n", help: "customers they belong to (default 10000)"),
            .init("runs", valueName: "n", help: "timed runs; the median is reported (default 3)"),
            .init("dir", valueName: "path", help: "where the feed file is written (default $TMPDIR/tierguard-ingest-bench)"),
        ])

    static func run(_ arguments: [String]) async throws -> Int32 {
        guard let parsed = try BenchArguments.parse(arguments, spec: spec) else { return 0 }
        let url = try BenchArguments.databaseURL(parsed)
        let showPhases = parsed.flag("phases")
        let transactions = try parsed.int("transactions") ?? 1_000_000
        let customers = try parsed.int("customers") ?? 10_000
        let runs = try parsed.int("runs") ?? 3
        let dir = parsed.option("dir") ?? NSTemporaryDirectory() + "tierguard-ingest-bench"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let feed = dir + "/feed.ndjson", copyFile = dir + "/transactions.copy"
        let started = monotonicSeconds()
        try writeFeed(feed: feed, copyFile: copyFile, customers: customers, transactions: transactions)
        print("generated \(transactions) transactions for \(customers) customers in \(format(monotonicSeconds() - started)) s: \(feed)")
        if showPhases {
            let t0 = monotonicSeconds()
            let lines = try FeedIngestor.decodeOnly(path: feed)
            let seconds = monotonicSeconds() - t0
            print("decode only (read, decode, build COPY rows; no database): \(lines) lines in \(format(seconds)) s = \(Int(Double(lines) / seconds)) lines/s")
        }

        // Run on a thread of our own: every call below blocks.
        let printPhases = showPhases
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                do {
                    continuation.resume(returning: try measure(url: url, feed: feed, copyFile: copyFile,
                                                               transactions: transactions, runs: runs,
                                                               showPhases: printPhases))
                } catch { continuation.resume(throwing: error) }
            }.start()
        }
    }

    private static func measure(url: String, feed: String, copyFile: String, transactions: Int, runs: Int,
                                showPhases: Bool) throws -> Int32 {
        let session = try PostgresSession(configuration: PostgresConfiguration(url, applicationName: "tierguard-ingest"))
        defer { session.close() }
        var ingestRates: [Double] = [], copyRates: [Double] = []
        for run in 1...runs {
            try session.executeScript(unsafeSQL: "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
            try TierGuardSchema.migrate(session)
            try session.execute(PostgresQuery("CHECKPOINT"))
            let t0 = monotonicSeconds()
            let result = try FeedIngestor.ingest(session: session, path: feed)
            let ingestSeconds = monotonicSeconds() - t0
            guard result.rejected == 0, result.pending == 0 else {
                print("unexpected: \(result.rejected) rejected, \(result.pending) pending")
                return 1
            }
            try session.executeScript(unsafeSQL: """
                CREATE TABLE bench_copy (txn_id text PRIMARY KEY, account_id text NOT NULL, booked_at timestamptz NOT NULL,
                    amount_fen bigint NOT NULL, category text NOT NULL, channel text NOT NULL);
                CHECKPOINT;
                """)
            let t1 = monotonicSeconds()
            let psql = Process()
            psql.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            psql.arguments = ["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", "\\copy bench_copy FROM '\(copyFile)'"]
            try psql.run()
            psql.waitUntilExit()
            let copySeconds = monotonicSeconds() - t1
            guard psql.terminationStatus == 0 else { print("psql \\copy failed"); return 1 }
            let ingestRate = Double(transactions) / ingestSeconds, copyRate = Double(transactions) / copySeconds
            ingestRates.append(ingestRate); copyRates.append(copyRate)
            if showPhases {
                print("run \(run) phases: " + result.phases.map { "\($0.name) \(format($0.seconds))" }.joined(separator: ", "))
            }
            print("run \(run): ingest \(format(ingestSeconds)) s = \(Int(ingestRate)) transactions/s (batch \(result.batchId): accepted \(result.accepted), jobs \(result.jobsEnqueued)); psql \\copy \(format(copySeconds)) s = \(Int(copyRate)) rows/s; ratio \(format(ingestRate / copyRate))")
        }
        let ingest = median(ingestRates), copy = median(copyRates)
        print("median of \(runs): ingest \(Int(ingest)) transactions/s end to end; psql \\copy into a keyed table \(Int(copy)) rows/s; ratio \(format(ingest / copy)); peak RSS \(peakRSSMegabytes()) MB")
        return 0
    }

    /// Deterministic lines: customer C<i> owns account A<i>; transaction T<j> is on A<j % customers>.
    private static func writeFeed(feed: String, copyFile: String, customers: Int, transactions: Int) throws {
        guard let out = FileHandle(forWritingAtPath: feed) ?? {
            _ = FileManager.default.createFile(atPath: feed, contents: nil)
            return FileHandle(forWritingAtPath: feed)
        }(), let copy = FileHandle(forWritingAtPath: copyFile) ?? {
            _ = FileManager.default.createFile(atPath: copyFile, contents: nil)
            return FileHandle(forWritingAtPath: copyFile)
        }() else { throw CocoaError(.fileWriteUnknown) }
        try out.truncate(atOffset: 0); try copy.truncate(atOffset: 0)
        defer { try? out.close(); try? copy.close() }
        var text = ""
        var copyText = ""
        func flush(_ force: Bool) {
            if force || text.utf8.count > 1 << 20 {
                out.write(Data(text.utf8)); copy.write(Data(copyText.utf8))
                text = ""; copyText = ""
            }
        }
        for c in 0..<customers {
            text += #"{"type":"customer","customer_id":"C\#(c)","name":"客户\#(c)","id_type":"passport","id_number":"E\#(c)","risk_level":"C3","risk_assessed_on":"2026-06-01","rm_id":"RM\#(c % 50)","branch_id":"B\#(c % 7)","opened_on":"2019-01-01","status":"active"}"# + "\n"
            text += #"{"type":"account","account_id":"A\#(c)","customer_id":"C\#(c)","product":"demand_deposit","currency":"CNY","opened_on":"2019-01-01"}"# + "\n"
            flush(false)
        }
        let categories = ["deposit", "withdrawal", "transfer_in", "transfer_out", "card_spend"]
        let channels = ["mobile", "online", "branch", "atm", "pos"]
        for t in 0..<transactions {
            let seconds = 1_780_000_000 + t * 7
            let day = seconds / 86_400, rest = seconds % 86_400
            let date = CalendarDate(dayNumber: day).description
            let time = String(format: "%02d:%02d:%02d", rest / 3600, rest / 60 % 60, rest % 60)
            let yuan = (t * 7919) % 100_000, fen = t % 100
            let sign = t % 3 == 0 ? "-" : ""
            let amount = "\(sign)\(yuan).\(fen < 10 ? "0" : "")\(fen)"
            let fenValue = (yuan * 100 + fen) * (sign.isEmpty ? 1 : -1)
            let category = categories[t % 5], channel = channels[t % 5]
            text += #"{"type":"transaction","txn_id":"T\#(t)","account_id":"A\#(t % customers)","booked_at":"\#(date)T\#(time)Z","amount":"\#(amount)","category":"\#(category)","channel":"\#(channel)","description":"bench \#(t % 97)"}"# + "\n"
            copyText += "T\(t)\tA\(t % customers)\t\(date) \(time)+00\t\(fenValue)\t\(category)\t\(channel)\n"
            flush(false)
        }
        flush(true)
    }

    private static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    private static func format(_ value: Double) -> String { String(format: "%.2f", value) }

    private static func peakRSSMegabytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return -1 }
        return kb / 1024
    }
}
