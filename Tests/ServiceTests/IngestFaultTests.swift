import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Postgres
import TestSupport
import Testing

/// Ingest under faults (issue 10, "Ingest"), with the real `tierguard-ingest` process: SIGKILL during a
/// load, a 100 MB line, torn and killed files in the watched folder, encodings and money at the edge.
///
/// Serialized: each test loads up to a few hundred MB and uses both cores; run side by side they only
/// slow each other and blur the memory figures.
@Suite(.serialized) struct IngestFaultTests {
    /// Peak resident memory allowed to one `tierguard-ingest load` (debug build): 150 MiB. The reader
    /// holds one buffer of ~2 MiB whatever the file size; what grows with the feed is
    /// `RepeatedKeyDetector`'s set of key hashes, capped at 4,000,000 hashes (~64 MB, then dropped).
    /// Measured: 38 MiB at 100,000 lines, 60 MiB at 1,000,000 (of a 190 MB file), the same for the
    /// clean, killed and final loads.
    static let peakMemoryLimit = 150 << 20

    /// Lines of the SIGKILL test's feed. 60,000 keeps the test under ~60 s in a debug build on this
    /// 2-core machine while the rest of ServiceTests runs beside it: a debug `tierguard-ingest` loads
    /// ~25,000 lines/s here, and the test does ~7 loads' worth of work (the clean load, 10 killed ones
    /// averaging about half a load plus the orphaned backends' rollbacks, the final one). Measured:
    /// 60,000 lines 16 s alone, 80 s beside the other ServiceTests on a box at load 7; 100,000 lines
    /// 34 s alone, 63–71 s beside them; 200,000 lines ~75 s alone. The issue's 1,000,000 lines run with `TIERGUARD_INGEST_FAULTS_FULL=1`
    /// (`killedLoadsOfAMillionLines…`: 530 s on a loaded machine, clean load 46 s, final load 74 s);
    /// `TIERGUARD_INGEST_FAULTS_LINES=N` picks any other size (a multiple of 100).
    static let defaultKillLines = 60_000

    /// The SIGKILL case at the CI size.
    @Test func tenSIGKILLsDuringALoadThenAReloadGiveTheSameArchiveAsOneCleanLoad() async throws {
        let lines = ProcessInfo.processInfo.environment["TIERGUARD_INGEST_FAULTS_LINES"].flatMap { Int($0) } ?? Self.defaultKillLines
        try await Self.killedLoads(lines: lines)
    }

    /// The issue's size: 1,000,000 lines, opt-in (`TIERGUARD_INGEST_FAULTS_FULL=1`) because it takes
    /// minutes in a debug build.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["TIERGUARD_INGEST_FAULTS_FULL"] == "1"))
    func killedLoadsOfAMillionLinesThenAReloadGiveTheSameArchiveAsOneCleanLoad() async throws {
        try await Self.killedLoads(lines: 1_000_000)
    }

    /// The feed is one transaction (invariant 7), so:
    /// 1. One clean load of the file into a fresh database gives the reference fingerprint.
    /// 2. In a second database, 10 loads of the same file are each SIGKILLed at a random point of
    ///    their own progress (`KillPoint`: a line of the COPY stream, or a statement of the apply),
    ///    seeded (the seed is printed; `TIERGUARD_INGEST_FAULTS_SEED` replays it). Points are read from
    ///    `pg_stat_progress_copy` and `pg_stat_activity`, not from the clock: a time fraction of the
    ///    clean load let a load that ran faster than the reference (a quieter machine) commit first.
    ///    After each kill, once the orphaned backend has rolled back, nothing is left: no archive row,
    ///    no `ingest_batches` row (the batch row is written inside the feed's transaction, so a killed
    ///    load never leaves one "running"; the table's statuses are only `applied` and `failed`), no
    ///    reject, pending record, audit row or job. Peak memory (VmHWM, read just before each kill)
    ///    stays under `peakMemoryLimit`.
    /// 3. One more load runs to completion: its counts and the archive fingerprint equal the clean
    ///    load's, and there is exactly one batch, `applied`.
    static func killedLoads(lines: Int) async throws {
        let dir = try IngestFault.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/feed.ndjson"
        let counts = try IngestFault.writeFeed(path: path, lines: lines)

        // 1. The reference: one clean load.
        let clean = try TestDatabase.create()
        // Migrated first, so T measures the load alone (every later load finds the schema in place).
        let cleanMigrated = try ServiceProcess.run("tierguardctl", ["migrate"], environment: ["DATABASE_URL": clean.url])
        try #require(cleanMigrated.status == 0, "migrate: \(cleanMigrated.stderr)")
        let started = Date()
        let reference = try await IngestFault.runSampled(["load", path], environment: ["DATABASE_URL": clean.url], timeout: 600)
        let cleanSeconds = Date().timeIntervalSince(started)
        try #require(reference.status == 0, "stderr: \(reference.stderr)")
        let expectedSummary = "\(counts.accepted) accepted, \(counts.rejects) rejected, 0 unchanged, \(counts.pending) pending"
        #expect(reference.stdout.contains(expectedSummary), "\(reference.stdout)")
        #expect(reference.peakBytes < peakMemoryLimit, "clean load peak \(reference.peakBytes >> 20) MiB")
        let cleanSession = try clean.session()
        defer { cleanSession.close() }
        let expected = try IngestFault.fingerprint(cleanSession)
        #expect(try IngestFault.count(cleanSession, "SELECT count(*) FROM transactions") == counts.transactions)
        #expect(try IngestFault.count(cleanSession, "SELECT count(*) FROM balances") == counts.balances)

        // 2. Ten killed loads into another database.
        let db = try TestDatabase.create()
        let env = ["DATABASE_URL": db.url]
        let migrated = try ServiceProcess.run("tierguardctl", ["migrate"], environment: env)
        try #require(migrated.status == 0, "migrate: \(migrated.stderr)")
        let session = try db.session()
        defer { session.close() }
        let seed = ProcessInfo.processInfo.environment["TIERGUARD_INGEST_FAULTS_SEED"].flatMap { UInt64($0) }
            ?? UInt64(Date().timeIntervalSince1970 * 1000)
        var random = SplitMix64(seed: seed)
        var schedule: [String] = []
        // Held during each killed load: its job enqueue (`INSERT INTO tg_jobs`, after every apply statement,
        // before COMMIT) waits on this lock, so a kill point whose statements all ran between two polls
        // still meets the load waiting there, never past its COMMIT, however loaded the machine.
        let blocker = try db.session()
        defer { blocker.close() }
        for kill in 1...10 {
            let point = KillPoint.random(using: &random)
            try blocker.executeScript(unsafeSQL: "BEGIN; LOCK TABLE tg_jobs IN SHARE MODE")
            let process = try ServiceProcess("tierguard-ingest", ["load", path], environment: env)
            var peak = 0
            var seen = "not started"
            while process.process.isRunning {
                if let now = IngestFault.peakResidentBytes(pid: process.pid) { peak = max(peak, now) }
                let (query, copied) = try IngestFault.ingestActivity(session)
                if let query { seen = copied.map { "COPY at line \($0)" } ?? String(query.prefix(40)) }
                if point.isReached(query: query, copied: copied, lines: lines) { break }
                try await Task.sleep(for: .milliseconds(2))
            }
            if let now = IngestFault.peakResidentBytes(pid: process.pid) { peak = max(peak, now) }
            let finishedFirst = !process.process.isRunning
            process.signal(SIGKILL)
            _ = try await process.exitStatus(timeout: 10)
            try blocker.executeScript(unsafeSQL: "ROLLBACK")
            // A load that beat its kill left a committed batch: the kill point was missed (every apply
            // stage past the target triggers the kill, and the enqueue waits on the blocker's lock, so
            // this should not happen); say so plainly.
            try #require(!finishedFirst, "load \(kill) finished before its kill \(point) (seed \(seed)); last seen: \(seen)")
            #expect(peak < peakMemoryLimit, "killed load \(kill): peak \(peak >> 20) MiB")
            let killed = Date()
            while try IngestFault.ingestBackends(session) > 0 {
                if Date().timeIntervalSince(killed) > 120 { throw IngestFault.Failure("the killed load's backend is still there after 120 s") }
                try await Task.sleep(for: .milliseconds(20))
            }
            schedule.append("\(point) [\(seen)] peak \(peak >> 20) MiB, rollback \(String(format: "%.2f", Date().timeIntervalSince(killed))) s")
            #expect(try IngestFault.rowsWritten(session) == 0, "kill \(kill) \(point) [\(seen)] (seed \(seed)) left rows behind")
        }
        print("IngestFaultTests: \(lines) lines, clean load \(String(format: "%.1f", cleanSeconds)) s, seed \(seed), kills: \(schedule.joined(separator: "; "))")

        // 3. One load to completion.
        let finalStarted = Date()
        let final = try await IngestFault.runSampled(["load", path], environment: env, timeout: 600)
        print("IngestFaultTests: final load \(String(format: "%.1f", Date().timeIntervalSince(finalStarted))) s, peak \(final.peakBytes >> 20) MiB; clean load peak \(reference.peakBytes >> 20) MiB")
        try #require(final.status == 0, "stderr: \(final.stderr)")
        #expect(final.stdout.contains(expectedSummary), "\(final.stdout)")
        #expect(final.peakBytes < peakMemoryLimit, "final load peak \(final.peakBytes >> 20) MiB")
        #expect(try IngestFault.fingerprint(session) == expected, "seed \(seed)")
        #expect(try IngestFault.count(session, "SELECT count(*) FROM ingest_batches") == 1)
        #expect(try IngestFault.count(session, "SELECT count(*) FROM ingest_batches WHERE status = 'applied' AND finished_at IS NOT NULL") == 1)
        #expect(try IngestFault.count(session, "SELECT accepted FROM ingest_batches") == counts.accepted)
    }
}

/// Where a killed load is stopped, as the load's own backend shows it.
///
/// 70 % of kills land in the COPY stream (read, parse, send: ~70 % of a debug load's time), at a
/// uniformly drawn line; 30 % in the apply, at one of its long statements (ANALYZE, the month
/// partitions, the customers, accounts, balances or transactions apply). Any later apply statement
/// seen also triggers the kill, and the test holds a SHARE lock on `tg_jobs` during each killed load,
/// so the load waits at its job enqueue: a stage too quick to be sampled (2 ms polling, slower on a
/// loaded machine) still kills the load before its COMMIT. A kill during the COMMIT itself is left
/// out: its outcome is either.
enum KillPoint: CustomStringConvertible {
    case copyLine(fraction: Double)
    case applyStage(Int)

    /// The apply's statements in the order `FeedIngestor` runs them, each as the prefixes its query
    /// text may start with (the balances and transactions insert is a plain `INSERT` followed by the
    /// touched customers when every staged row is new, `ArchiveApply` step 3); stages 0...5 may be
    /// drawn, 6... only trigger a kill that a quicker stage let slip.
    static let stages: [[String]] = [
        ["ANALYZE"], ["SELECT tierguard_ensure_month_partitions"], ["WITH i AS (INSERT INTO customers", "WITH i AS ( INSERT INTO customers"],
        ["WITH i AS (INSERT INTO accounts"], ["WITH i AS (INSERT INTO balances", "INSERT INTO balances"],
        ["WITH i AS (INSERT INTO transactions", "INSERT INTO transactions"], ["INSERT INTO tg_touched"],
        ["INSERT INTO pending_records"], ["DELETE FROM pending_records"], ["SELECT DISTINCT customer_id"],
        ["INSERT INTO tg_jobs"], ["DROP TABLE tg_stg"],
    ]

    static func random(using generator: inout some RandomNumberGenerator) -> KillPoint {
        let u = Double.random(in: 0..<1, using: &generator)
        return u < 0.7 ? .copyLine(fraction: u / 0.7) : .applyStage(Int.random(in: 0...5, using: &generator))
    }

    func isReached(query: String?, copied: Int?, lines: Int) -> Bool {
        guard let query else { return false }
        // Whitespace runs as one space: the statements kept as files (`IngestSQL`) span lines.
        let text = query.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let stage = Self.stages.firstIndex { $0.contains(where: text.hasPrefix) }
        switch self {
        case .copyLine(let fraction):
            if let copied { return Double(copied) >= fraction * Double(lines) }
            return stage != nil
        case .applyStage(let target):
            return stage.map { $0 >= target } ?? false
        }
    }

    var description: String {
        switch self {
        case .copyLine(let fraction): "at \(Int(fraction * 100)) % of the COPY"
        case .applyStage(let stage): "at apply stage \(Self.stages[stage][0])"
        }
    }
}
