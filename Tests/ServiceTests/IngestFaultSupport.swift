import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Postgres
import TestSupport
import Testing

/// Helpers of the ingest fault tests (`IngestFaultTests`): a deterministic feed written fast, the
/// archive fingerprint, peak memory from `/proc`, and waits that never block a cooperative thread.
enum IngestFault {
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// What `writeFeed` wrote, worked out while writing (the expected counts of one clean load).
    struct FeedCounts: Equatable {
        var lines = 0
        var customers = 0
        var accounts = 0
        var balances = 0
        var transactions = 0
        /// Transactions for an account that is nowhere in the feed: parked in `pending_records`.
        var pending = 0
        /// Lines with a fault (money with three decimals): stored in `ingest_rejects`.
        var rejects = 0
        var accepted: Int { customers + accounts + balances + transactions }
    }

    /// Writes a valid NDJSON feed of `lines` lines (a multiple of 100) to `path`, 1 MiB at a time.
    ///
    /// Blocks of 100 lines, one per customer `C<n>`: the customer, two accounts, 30 balances (15 days of
    /// March 2026 × 2 accounts) and 67 transactions. In every 1,000th block (n % 1000 == 7) the last two
    /// lines are a transaction for an account the feed never brings (pending) and one whose amount has
    /// three decimals (a reject), so the fingerprint covers `pending_records` and `ingest_rejects` too.
    /// About 190 bytes a line: 1,000,000 lines are ~190 MB, written in about a second.
    static func writeFeed(path: String, lines: Int) throws -> FeedCounts {
        precondition(lines % 100 == 0 && lines > 0)
        guard let file = fopen(path, "w") else { throw Failure("cannot create \(path)") }
        defer { fclose(file) }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 21)
        func flush() throws {
            guard !buffer.isEmpty else { return }
            let written = buffer.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
            guard written == buffer.count else { throw Failure("short write to \(path)") }
            buffer.removeAll(keepingCapacity: true)
        }
        func put(_ s: String) { buffer.append(contentsOf: s.utf8) }
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

        var counts = FeedCounts()
        for n in 0..<(lines / 100) {
            let c = "C\(n)"
            put(#"{"type":"customer","customer_id":"\#(c)","name":"客户\#(n % 97)","id_type":"passport","id_number":"E\#(n)","risk_level":"C3","risk_assessed_on":"2026-01-05","rm_id":"RM\#(n % 50)","branch_id":"B\#(n % 7)","opened_on":"2020-01-01","status":"active"}"#)
            put("\n")
            for suffix in ["a", "b"] {
                put(#"{"type":"account","account_id":"A\#(n)\#(suffix)","customer_id":"\#(c)","product":"demand_deposit","currency":"CNY","opened_on":"2020-01-01"}"#)
                put("\n")
            }
            for k in 0..<30 {
                let account = "A\(n)" + (k % 2 == 0 ? "a" : "b")
                put(#"{"type":"balance","account_id":"\#(account)","as_of":"2026-03-\#(two(1 + k / 2))","balance":"\#(1000 + n % 1000 + k).\#(two(k))"}"#)
                put("\n")
            }
            let special = n % 1000 == 7
            for k in 0..<67 {
                var account = "A\(n)" + (k % 2 == 0 ? "a" : "b")
                var amount = "-\(1 + k).\(two(n % 100))"
                if special && k == 65 {
                    account = "AX\(n)"
                    counts.pending += 1
                } else if special && k == 66 {
                    amount = "-1.234"
                    counts.rejects += 1
                } else {
                    counts.transactions += 1
                }
                put(#"{"type":"transaction","txn_id":"T\#(n)-\#(k)","account_id":"\#(account)","booked_at":"2026-03-\#(two(1 + k % 28))T10:\#(two(k % 60)):00+08:00","amount":"\#(amount)","category":"withdrawal","channel":"atm"}"#)
                put("\n")
            }
            counts.customers += 1
            counts.accounts += 2
            counts.balances += 30
            counts.lines += 100
            if buffer.count >= 1 << 20 { try flush() }
        }
        try flush()
        return counts
    }

    /// One digest of the archive's content, independent of batch ids, row ids, timestamps and the
    /// random nonces of sealed columns (`*_enc`; their blind-index HMACs and key ids stay in): every
    /// row of customers, accounts, balances, transactions, pending records and rejects as JSON, each
    /// table in key order, plus the pending scoring jobs by their coalescing key.
    static let fingerprintSQL = """
        WITH drop_keys(k) AS (VALUES (ARRAY['first_batch_id', 'last_batch_id', 'batch_id', 'updated_at', 'created_at',
                                            'id', 'id_number_enc', 'phone_enc', 'raw_text_enc', 'changed_at']))
        SELECT concat_ws(' ',
            (SELECT md5(coalesce(string_agg(md5((to_jsonb(t) - k)::text), '' ORDER BY customer_id), '')) FROM customers t, drop_keys),
            (SELECT md5(coalesce(string_agg(md5((to_jsonb(t) - k)::text), '' ORDER BY account_id), '')) FROM accounts t, drop_keys),
            (SELECT md5(coalesce(string_agg(md5((to_jsonb(t) - k)::text), '' ORDER BY account_id, as_of), '')) FROM balances t, drop_keys),
            (SELECT md5(coalesce(string_agg(md5((to_jsonb(t) - k)::text), '' ORDER BY txn_id), '')) FROM transactions t, drop_keys),
            (SELECT md5(coalesce(string_agg(md5((to_jsonb(t) - k)::text), '' ORDER BY record_type, natural_key), '')) FROM pending_records t, drop_keys),
            (SELECT md5(coalesce(string_agg(concat_ws('|', line_number, record_type, field, reason, customer_id, natural_key), ',' ORDER BY line_number), '')) FROM ingest_rejects),
            (SELECT md5(coalesce(string_agg(concat_ws('|', queue, kind, args::text, state::text), ',' ORDER BY unique_key), '')) FROM tg_jobs WHERE kind = 'score_customer'))
        """

    static func fingerprint(_ session: PostgresSession) throws -> String {
        try session.query(PostgresQuery(unsafeSQL: fingerprintSQL))[0].decode(String.self, at: 0)
    }

    /// Rows left in every table a feed writes (archive, batches, rejects, pending, changes, jobs).
    static func rowsWritten(_ session: PostgresSession) throws -> Int {
        try session.query(PostgresQuery("""
            SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM accounts) + (SELECT count(*) FROM balances)
                 + (SELECT count(*) FROM transactions) + (SELECT count(*) FROM ingest_batches)
                 + (SELECT count(*) FROM ingest_rejects) + (SELECT count(*) FROM pending_records)
                 + (SELECT count(*) FROM archive_changes) + (SELECT count(*) FROM tg_jobs)
            """))[0].decode(Int.self, at: 0)
    }

    /// Backends of `tierguard-ingest` still connected to this database: a SIGKILLed client's backend
    /// runs on until its current statement ends and it finds the socket closed, then rolls back.
    static func ingestBackends(_ session: PostgresSession) throws -> Int {
        try session.query(PostgresQuery("""
            SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tierguard-ingest'
            """))[0].decode(Int.self, at: 0)
    }

    /// The `tierguard-ingest` backend's current statement (whitespace collapsed; nil when none is
    /// connected) and, during its COPY, the rows received so far (`pg_stat_progress_copy`).
    static func ingestActivity(_ session: PostgresSession) throws -> (query: String?, copied: Int?) {
        let rows = try session.query(PostgresQuery("""
            SELECT regexp_replace(left(a.query, 200), '\\s+', ' ', 'g'), p.tuples_processed
            FROM pg_stat_activity a LEFT JOIN pg_stat_progress_copy p ON p.pid = a.pid
            WHERE a.datname = current_database() AND a.application_name = 'tierguard-ingest' AND a.state = 'active'
            """))
        guard rows.count > 0 else { return (nil, nil) }
        return (try rows[0].decode(String?.self, at: 0), try rows[0].decode(Int?.self, at: 1))
    }

    /// Peak resident set (VmHWM) of a live process in bytes, nil once it is gone.
    static func peakResidentBytes(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kilobytes = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
            return kilobytes.map { $0 * 1024 }
        }
        return nil
    }

    /// Runs `tierguard-ingest` to its exit, sampling VmHWM every 20 ms; returns the status, stdout and
    /// the last peak read (VmHWM only grows, so the last sample is the peak up to ~20 ms before exit).
    static func runSampled(_ arguments: [String], environment: [String: String], timeout: Double) async throws
        -> (status: Int32, stdout: String, stderr: String, peakBytes: Int) {
        let process = try ServiceProcess("tierguard-ingest", arguments, environment: environment)
        var peak = 0
        let deadline = Date().addingTimeInterval(timeout)
        while process.process.isRunning {
            if let now = peakResidentBytes(pid: process.pid) { peak = max(peak, now) }
            if Date() > deadline {
                process.signal(SIGKILL)
                throw Failure("tierguard-ingest \(arguments.first ?? "") did not exit within \(timeout) s")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return (process.process.terminationStatus, process.standardOutput, process.standardError, peak)
    }

    /// Polls `condition` every 10 ms with `Task.sleep` (never blocking a cooperative thread) until it
    /// holds; throws after `timeout` seconds.
    static func poll(timeout: Double, _ what: String, _ condition: () throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try !condition() {
            if Date() > deadline { throw Failure("timed out after \(timeout) s waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    static func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "ingest-fault-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func count(_ session: PostgresSession, _ sql: StaticString) throws -> Int {
        try session.query(PostgresQuery(sql))[0].decode(Int.self, at: 0)
    }
}

/// SplitMix64: a seeded generator, so a failing kill schedule can be replayed
/// (`TIERGUARD_INGEST_FAULTS_SEED`).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
