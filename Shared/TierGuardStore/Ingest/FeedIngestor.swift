#if canImport(Glibc)
import Glibc
#endif
import CLibCrypto
public import FeedContract
import Foundation
public import JobQueue
public import Postgres
import ServiceKit

/// Where a feed came from, as `ingest_batches.source` records it.
public enum IngestSource: String, Sendable, Hashable {
    case file, stdin, http, watch
}

/// What one feed did to the archive.
public struct IngestResult: Sendable, Hashable {
    public var batchId: Int64
    /// Lines that created or changed a record.
    public var accepted: Int
    /// Lines stored in `ingest_rejects`.
    public var rejected: Int
    /// Lines identical to what the archive (or an earlier line of the feed) already held.
    public var unchanged: Int
    /// Balance and transaction lines parked in `pending_records` (their account is not in the archive).
    public var pending: Int
    /// Records parked by earlier feeds that this feed's accounts released into the archive.
    public var appliedPending: Int
    /// Coalesced `score_customer` jobs enqueued (a customer with a job already waiting counts 0).
    public var jobsEnqueued: Int
    /// Customers whose data changed.
    public var changedCustomers: Int
    /// Non-blank lines read: accepted + rejected + unchanged + pending.
    public var lines: Int
    /// The first rejects (line and masked reason), at most `IngestOptions.rejectSampleLimit`.
    public var sampleRejects: [IngestRejectSummary]
    public var seconds: Double
    /// Wall time of each step, in order (`stream` = read, decode and send the COPY data; `copy end` = the
    /// server finishing the COPY; `apply <table>`; `jobs`; `commit`), for `tierguard-bench ingest --phases`.
    public var phases: [IngestPhase] = []
    /// The traceparent carried by this feed's `score_customer` jobs (see `IngestOptions.traceparent`).
    public var traceparent: String?
}

/// One timed step of an ingest.
public struct IngestPhase: Sendable, Hashable {
    public var name: String
    public var seconds: Double
}

/// One reject as the HTTP answer and the CLI print it: the reason is already masked.
public struct IngestRejectSummary: Sendable, Hashable, Codable {
    public var line: Int
    public var reason: String
}

/// A feed that could not be used as a whole (unreadable, bad CSV header): nothing of it was applied.
/// A `failed` row in `ingest_batches` records it (`batchId`).
public struct IngestFileFailure: Error, Sendable, CustomStringConvertible {
    public var batchId: Int64?
    public var message: String
    public var description: String { message }
}

public struct IngestOptions: Sendable {
    /// How many rejects `IngestResult.sampleRejects` carries (all of them are in `ingest_rejects`).
    public var rejectSampleLimit = 100
    /// Called on the ingest thread every `progressEvery` lines with the lines read so far.
    public var progress: (@Sendable (Int) -> Void)?
    public var progressEvery = 100_000
    /// The W3C traceparent put on this feed's `score_customer` jobs; nil = a fresh trace per feed, so
    /// one feed's path through ingest → scorer → notifier shares one trace id (`IngestResult.traceparent`).
    public var traceparent: String?
    /// What the feed's bytes are: UTF-8 (the contract; a file that looks GBK is refused as a whole,
    /// `FeedFileError.notUTF8`) or GBK/GB18030, transcoded while streaming (`FeedEncoding`).
    /// `tierguard-ingest`: `TIERGUARD_FEED_ENCODING`, or `--encoding` on `load` and `watch`.
    public var encoding: FeedEncoding = .utf8
    public init() {}
}

/// Applies feeds to the archive: one feed, one transaction (issue 10, invariant 7: a feed file is
/// applied entirely or not at all; the same bytes twice change nothing).
///
/// The path, per PERFORMANCE-NOTES: stream lines (`FeedLineReader`, never the whole file in memory) →
/// `FeedDecoder` → COPY text into the temp staging table `tg_stg` (partitioned by record type; rejects
/// go down the same stream) → `ANALYZE` → set-based apply per record type (`ArchiveApply`: within-feed
/// duplicates, comparison by content hash, audit trail, anti-join insert, pending records) → one
/// coalesced `score_customer` job per changed customer (`uniqueKey: score:<customer_id>`, queue
/// `scorer`) → the batch row with its counts, all in the same transaction.
///
/// Rollups: the scorer owns any per-account monthly rollup (its 0002 migration, by trigger or by its
/// own statement over `balances`); ingest only writes the archive tables.
///
/// Use on a thread that owns `session` (or inside `PostgresConnection.withSession`): every call blocks.
public enum FeedIngestor {
    /// Ingests a file (`path`), or stdin when `path` is `-`. The format comes from the file name
    /// (`*.ndjson`/`*.jsonl`/`*.json`, `customers*.csv`, …) unless given; stdin defaults to NDJSON.
    ///
    /// `checksum`: SHA-256 of the file's bytes, read in a first streaming pass (about 1 GB/s here). Stdin
    /// cannot be read twice, so its batch has no checksum.
    public static func ingest(session: PostgresSession, path: String, format: FeedFormat? = nil,
                              source: IngestSource? = nil, options: IngestOptions = IngestOptions()) throws -> IngestResult {
        if path == "-" {
            let reader: FeedLineReader
            do {
                reader = try FeedLineReader(fileDescriptor: 0, encoding: options.encoding)
            } catch {
                try recordFailure(session: session, source: source ?? .stdin, fileName: nil, checksum: nil,
                                  format: format ?? .ndjson, message: error.message)
            }
            return try ingest(session: session, reader: reader, format: format ?? .ndjson, source: source ?? .stdin,
                              fileName: nil, checksum: nil, options: options)
        }
        guard let format = format ?? FeedFormat.inferred(fromFileName: path) else {
            // Recorded like every other whole-file failure ("every batch is recorded"), format unknown.
            try recordFailure(session: session, source: source ?? .file, fileName: path, checksum: nil, format: nil,
                              message: "cannot tell the format of \(path): name it *.ndjson, *.jsonl, *.json or customers*.csv, accounts*.csv, balances*.csv, transactions*.csv, relationship_managers*.csv")
        }
        let checksum: String
        let reader: FeedLineReader
        do {
            checksum = try FeedChecksum.sha256(path: path)
            reader = try FeedLineReader(path: path, encoding: options.encoding)
        } catch {
            try recordFailure(session: session, source: source ?? .file, fileName: path, checksum: nil,
                                     format: format, message: "\(error)")
        }
        return try ingest(session: session, reader: reader, format: format, source: source ?? .file,
                          fileName: path, checksum: checksum, options: options)
    }

    /// Ingests a body held in memory (an HTTP request, a test).
    public static func ingest(session: PostgresSession, bytes: [UInt8], format: FeedFormat = .ndjson,
                              source: IngestSource = .http, fileName: String? = nil,
                              options: IngestOptions = IngestOptions()) throws -> IngestResult {
        let checksum = FeedChecksum.sha256(bytes: bytes)
        let reader: FeedLineReader
        do {
            reader = try FeedLineReader(bytes: bytes, encoding: options.encoding)
        } catch {
            try recordFailure(session: session, source: source, fileName: fileName, checksum: checksum,
                              format: format, message: error.message)
        }
        return try ingest(session: session, reader: reader, format: format, source: source,
                          fileName: fileName, checksum: checksum, options: options)
    }

    /// Ingests what `reader` yields; `checksum` is recorded as given. The reader's own `encoding` counts
    /// (not `options.encoding`); a UTF-8 reader is made to refuse a GBK-looking file as a whole.
    public static func ingest(session: PostgresSession, reader: FeedLineReader, format: FeedFormat,
                              source: IngestSource, fileName: String?, checksum: String?,
                              options: IngestOptions = IngestOptions()) throws -> IngestResult {
        let started = monotonicSeconds()
        reader.refusesGBK = true
        if reader.sourceName == nil { reader.sourceName = fileName }
        do {
            var result = try session.withTransaction { session in
                try run(session: session, reader: reader, format: format, source: source, fileName: fileName,
                        checksum: checksum, options: options, started: started)
            }
            let committed = monotonicSeconds()
            result.phases.append(IngestPhase(name: "commit", seconds: committed - started - result.seconds))
            result.seconds = committed - started
            return result
        } catch let error as FeedFileError {
            try recordFailure(session: session, source: source, fileName: fileName, checksum: checksum,
                                     format: format, message: error.message)
        }
    }

    private static func recordFailure(session: PostgresSession, source: IngestSource, fileName: String?, checksum: String?,
                                      format: FeedFormat?, message: String) throws -> Never {
        let id = try session.query(PostgresQuery("""
            INSERT INTO ingest_batches (source, file_name, checksum, format, contract_version, finished_at, status, error)
            VALUES ($1, $2, $3, $4, $5, now(), 'failed', $6) RETURNING id
            """).binding(source.rawValue, fileName, checksum, format?.description ?? "unknown",
                                                     FeedContract.version, message))
            .ingestFirst.map { try $0.decode(Int64.self, at: 0) }
        throw IngestFileFailure(batchId: id, message: message)
    }

    private static func run(session: PostgresSession, reader: FeedLineReader, format: FeedFormat, source: IngestSource,
                            fileName: String?, checksum: String?, options: IngestOptions, started: Double) throws -> IngestResult {
        guard let batchId = try session.query(PostgresQuery("""
            INSERT INTO ingest_batches (source, file_name, checksum, format, contract_version)
            VALUES ($1, $2, $3, $4, $5) RETURNING id
            """).binding(source.rawValue, fileName, checksum, format.description, FeedContract.version))
            .ingestFirst.map({ try $0.decode(Int64.self, at: 0) }) else {
            throw IngestFileFailure(batchId: nil, message: "inserting the batch row returned nothing")
        }
        try createStaging(session)
        var phases: [IngestPhase] = []
        var mark = started
        func phase(_ name: String) {
            let now = monotonicSeconds()
            phases.append(IngestPhase(name: name, seconds: now - mark))
            mark = now
        }
        phase("setup")

        // Stream: decode → COPY. Counts and the first rejects stay in memory; nothing else does.
        var writer = StagingRowWriter()
        defer { writer.release() }
        var recordLines = 0, rejectLines = 0
        var repeatedKeys = RepeatedKeyDetector()
        var samples: [IngestRejectSummary] = []
        var sinceProgress = 0
        let copy = "COPY tg_stg (\(StagingRowWriter.columns.joined(separator: ", "))) FROM STDIN"
        try session.copyFrom(PostgresQuery(unsafeSQL: copy)) { copyWriter in
            try FeedDecoder.decode(reader, format: format) { item in
                writer.build(item)
                copyWriter.write(writer.row)
                switch item {
                case .record(let record, _):
                    recordLines += 1
                    repeatedKeys.note(record)
                case .reject(let reject):
                    rejectLines += 1
                    if samples.count < options.rejectSampleLimit {
                        samples.append(IngestRejectSummary(line: reject.lineNumber, reason: reject.reason))
                    }
                }
                if let progress = options.progress {
                    sinceProgress += 1
                    if sinceProgress >= options.progressEvery { sinceProgress = 0; progress(recordLines + rejectLines) }
                }
            }
            phase("stream")
        }
        phase("copy end")
        for partition in ["c", "a", "b", "t", "r", "x"] {
            try session.execute(PostgresQuery(unsafeSQL: "ANALYZE tg_stg_\(partition)"))
        }
        try session.execute(PostgresQuery("SET LOCAL work_mem = '128MB'"))
        phase("analyze")

        // One feed applies at a time across ingest replicas (streaming above runs in parallel): the
        // month-partitioned transactions cannot make txn_id unique by themselves, so the apply's
        // existence check must not race another feed's insert (0010 migration). Then the months the feed
        // and the pending records it may release need, so rows land in their month, not the default.
        try session.execute(IngestSQL.applyLock)
        // The months the feed's rows (and the pending ones it may release) fall in: one range when they
        // span at most 50 years (one pass over the staged rows), else month by month, only the months
        // that have rows — one stray date decades away (an upstream "epoch zero" 1970-01-01) makes one
        // partition, not every month in between (the function refuses a span over 50 years, which would
        // refuse the whole feed).
        for (parent, staged, pendingColumn, recordType) in [("balances", "SELECT b_as_of AS d FROM tg_stg_b", "as_of", "balance"),
                                                            ("transactions", "SELECT t_booked_on AS d FROM tg_stg_t", "booked_on", "transaction")] {
            let days = "\(staged) UNION ALL SELECT \(pendingColumn) FROM pending_records WHERE record_type = '\(recordType)'"
            try session.execute(PostgresQuery(unsafeSQL: """
                SELECT CASE WHEN hi - lo <= 366 * 50 THEN tierguard_ensure_month_partitions('\(parent)', lo, hi)
                            ELSE (SELECT sum(tierguard_ensure_month_partitions('\(parent)', m, m))::integer
                                  FROM (SELECT DISTINCT date_trunc('month', d)::date AS m FROM (\(days)) x) months) END
                FROM (SELECT min(d) AS lo, max(d) AS hi FROM (\(days)) x) span
                """, name: "FeedIngestor.ensurePartitions.\(parent)"))
        }
        phase("partitions")

        var total = ApplyCounts()
        for spec in ArchiveTableSpec.applyOrder {
            let counts = try ArchiveApply.apply(spec, session: session, batchId: batchId,
                                                mayRepeatKeys: repeatedKeys.mayRepeat.contains(spec.type))
            phase("apply \(spec.table)")
            total.accepted += counts.accepted
            total.unchanged += counts.unchanged
            total.pending += counts.pending
            total.appliedPending += counts.appliedPending
        }

        // Rejects, after the apply so an account this feed brought names the customer of a refused
        // balance or transaction line (`RejectKeys`).
        try session.execute(PostgresQuery("""
            INSERT INTO ingest_rejects (batch_id, line_number, record_type, field, reason, raw_text, raw_text_enc,
                                        raw_text_key_id, customer_id, natural_key)
            SELECT $1, s.line, s.x_record_type, s.x_field, s.x_reason, s.x_raw_text, s.x_raw_text_enc, s.x_raw_text_key_id,
                   coalesce(s.x_customer_id, acc.customer_id), s.x_natural_key
            FROM tg_stg_x s LEFT JOIN accounts acc ON acc.account_id = s.x_account_id
            """).binding(batchId))
        phase("rejects")

        // One coalesced job per changed customer, in this transaction (the outbox), all on one trace.
        let traceparent = options.traceparent ?? TraceContext.random().traceparent
        let customers = try session.query(PostgresQuery(
            "SELECT DISTINCT customer_id FROM tg_touched WHERE customer_id IS NOT NULL ORDER BY 1"))
            .map { try $0.decode(String.self, at: 0) }
        var jobs = 0
        var start = 0
        while start < customers.count {
            let slice = customers[start..<min(start + 1000, customers.count)]
            jobs += try JobEnqueuer.enqueue(session, slice.map { scoreJob(customerId: $0, traceparent: traceparent) })
            start += 1000
        }
        try session.execute(PostgresQuery("DROP TABLE tg_stg, tg_touched"))
        phase("jobs")
        let seconds = monotonicSeconds() - started
        try session.execute(PostgresQuery("""
            UPDATE ingest_batches SET finished_at = clock_timestamp(), accepted = $2, rejected = $3, unchanged = $4,
                   pending = $5, applied_pending = $6, jobs_enqueued = $7
            WHERE id = $1
            """).binding(batchId, total.accepted, rejectLines, total.unchanged, total.pending,
                                               total.appliedPending, jobs))
        return IngestResult(batchId: batchId, accepted: total.accepted, rejected: rejectLines, unchanged: total.unchanged,
                            pending: total.pending, appliedPending: total.appliedPending, jobsEnqueued: jobs,
                            changedCustomers: customers.count, lines: recordLines + rejectLines,
                            sampleRejects: samples, seconds: seconds, phases: phases, traceparent: traceparent)
    }

    /// Reads, decodes and builds the staging rows of a feed without a database: the client-side cost
    /// alone (`tierguard-bench ingest --phases`). Returns the non-blank lines.
    public static func decodeOnly(path: String, format: FeedFormat? = nil) throws -> Int {
        guard let format = format ?? FeedFormat.inferred(fromFileName: path) else { return 0 }
        var writer = StagingRowWriter()
        defer { writer.release() }
        var lines = 0
        try FeedDecoder.decode(try FeedLineReader(path: path), format: format) { item in
            writer.build(item)
            lines += 1
        }
        return lines
    }

    /// The job that wakes the scorer for one customer: queue `scorer`, kind `score_customer`, coalesced
    /// by `score:<customer_id>` (a customer with a job already waiting gets no second one).
    public static func scoreJob(customerId: String, traceparent: String? = nil) -> NewJob {
        let args = "{\"customer_id\":" + jsonString(customerId) + "}"
        return NewJob(queue: "scorer", kind: "score_customer", argsJSON: args, uniqueKey: "score:\(customerId)",
                      traceparent: traceparent)
    }

    private static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func createStaging(_ session: PostgresSession) throws {
        let columns = StagingRowWriter.columns.map { "\($0) \(StagingRowWriter.columnTypes[$0] ?? "text")" }
            + ["counted boolean NOT NULL DEFAULT false"]
        try session.execute(PostgresQuery(unsafeSQL: """
            CREATE TEMP TABLE tg_stg (\(columns.joined(separator: ", "))) PARTITION BY LIST (rt)
            """))
        for partition in ["c", "a", "b", "t", "r", "x"] {
            try session.execute(PostgresQuery(unsafeSQL: """
                CREATE TEMP TABLE tg_stg_\(partition) PARTITION OF tg_stg FOR VALUES IN ('\(partition)')
                """))
        }
        try session.execute(PostgresQuery("CREATE TEMP TABLE tg_touched (customer_id text)"))
    }
}

/// SHA-256 of a feed through OpenSSL's EVP interface (no hand-written cryptography).
public enum FeedChecksum {
    public final class Incremental {
        private let ctx: OpaquePointer
        public init() {
            ctx = EVP_MD_CTX_new()
            _ = EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
        }
        deinit { EVP_MD_CTX_free(ctx) }
        public func update(_ bytes: UnsafeRawBufferPointer) {
            if let base = bytes.baseAddress, bytes.count > 0 { _ = EVP_DigestUpdate(ctx, base, bytes.count) }
        }
        /// Lowercase hex; call once.
        public func finish() -> String {
            var digest = [UInt8](repeating: 0, count: 32)
            var length: UInt32 = 0
            _ = EVP_DigestFinal_ex(ctx, &digest, &length)
            return digest.map { String(format: "%02x", $0) }.joined()
        }
    }

    public static func sha256(bytes: [UInt8]) -> String {
        let hasher = Incremental()
        bytes.withUnsafeBytes { hasher.update($0) }
        return hasher.finish()
    }

    /// Streams the file in 1 MiB reads.
    public static func sha256(path: String) throws(FeedFileError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw FeedFileError(code: .readFailed, message: "cannot open feed \(path): \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        let hasher = Incremental()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n == 0 { break }
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                throw FeedFileError(code: .readFailed, message: "reading the feed \(path) failed: \(String(cString: strerror(code)))")
            }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return hasher.finish()
    }
}
