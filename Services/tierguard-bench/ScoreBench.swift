import Foundation
import JobQueue
import Postgres
import ServiceKit
import TierGuardModel
import TierGuardStore

/// `tierguard-bench score --database-url URL [--customers 10000] [--days 90] [--rounds 3] [--next-days 3]
/// [--chunk 1000] [--parallelism 2] [--reuse-archive] [--jobs BATCH]`
///
/// Resets the database's `public` schema (use a scratch database), migrates, and builds an
/// archive with COPY into month partitions (as ingest creates them): per customer 3 asset accounts (demand deposit, time deposit maturing inside
/// the book, wealth) with a balance every day for `days` days, and 6 transactions (deposits,
/// transfers out to another bank, card spend, fees). Balances follow a per-customer level with
/// steps, so tiers, watch months, downgrade warnings and signals all occur.
///
/// Rounds on the archive's business date (the first writes every score, later ones find them
/// unchanged), then `--next-days` rounds one business day later each, in which every score
/// changes — the daily job's case. Each round times (1) the whole-book rescore (`BookScorer.run`: load, model, COPY + INSERT…SELECT,
/// history, alerts, notification jobs), and (2) the ceiling in the same run: one bare SQL statement
/// computing the last three calendar months' 月日均 of every customer from the same balances
/// (dense daily balances, so no carry-forward), returned to the client. Prints customers/s of both,
/// the ratio, and the median of the rounds. Build with `-c release`; run against a cluster with
/// durable defaults (`deploy/local/pg.sh start DIR PORT`).
enum ScoreBench {
    static let spec = CommandSpec(
        name: "score", abstract: "Whole-book rescore in customers/s, beside one SQL statement for three months of 月日均",
        flags: [.init("reuse-archive", help: "keep the archive a previous run built (same --customers/--days) instead of rebuilding it")],
        options: [
            BenchArguments.databaseURLOption,
            .init("customers", valueName: "n", help: "customers in the book (default 10000)"),
            .init("days", valueName: "n", help: "days of balances per account (default 90)"),
            .init("rounds", valueName: "n", help: "timed rounds; the median is reported (default 3)"),
            .init("chunk", valueName: "n", help: "customers per chunk (default 1000)"),
            .init("parallelism", valueName: "n", help: "scoring workers (default 2)"),
            .init("next-days", valueName: "n", help: "rounds after those, each a business day later (default 3)"),
            .init("jobs", valueName: "batch", help: "then drain one score_customer job per customer with a JobWorker scoring batches of this size (1: one by one)"),
        ])

    static func run(_ arguments: [String]) async throws -> Int32 {
        guard let parsed = try BenchArguments.parse(arguments, spec: spec) else { return 0 }
        let url = try BenchArguments.databaseURL(parsed)
        let customers = try parsed.int("customers") ?? 10_000
        let days = try parsed.int("days") ?? 90
        let rounds = try parsed.int("rounds") ?? 3
        let chunk = try parsed.int("chunk") ?? 1_000
        let parallelism = try parsed.int("parallelism") ?? 2
        let reuse = parsed.flag("reuse-archive")
        let nextDays = try parsed.int("next-days") ?? 3
        let jobBatch = try parsed.int("jobs")
        let status = try await withCheckedThrowingContinuation { continuation in
            Thread {
                do {
                    continuation.resume(returning: try measure(url: url, customers: customers, days: days, rounds: rounds, chunk: chunk, parallelism: parallelism, reuse: reuse, nextDays: nextDays))
                } catch { continuation.resume(throwing: error) }
            }.start()
        }
        if status == 0, let jobBatch { try await measureJobs(url: url, customers: customers, batch: max(1, jobBatch)) }
        return status
    }

    /// The per-customer path as a feed leaves it: one `score_customer` job per customer, drained by a
    /// `JobWorker` set up as `tierguard-scorer` sets up its own (`ScoreCustomerJob` with batches of
    /// `batch`, claims of max(batch, 100), 4 handlers), on the archive's business date. The time is the
    /// database's, from the first claim to the last completion; the whole-book rounds above, same
    /// engine in chunks of 1,000, are its reference. `batch` 1 is the one-job-one-transaction path.
    private static func measureJobs(url: String, customers: Int, batch: Int) async throws {
        let configuration = PostgresConfiguration(url, applicationName: "tierguard-scorer")
        let connection = try await PostgresConnection(configuration: configuration)
        defer { Task { await connection.close() } }
        try await connection.withSession { s in
            try s.execute(PostgresQuery("DELETE FROM tg_jobs WHERE queue = 'scorer'"))
            try s.execute(PostgresQuery("""
                INSERT INTO tg_jobs (queue, kind, args, unique_key)
                SELECT 'scorer', 'score_customer', jsonb_build_object('customer_id', customer_id), 'score:' || customer_id FROM customers
                """))
        }
        let logger = Logger(service: "tierguard-scorer", threshold: .warning)
        var registry = JobRegistry()
        ScoreCustomerJob.register(&registry, scorer: CustomerScorer(settings: ScoringSettings(), logger: logger), maxBatch: batch)
        var config = JobWorkerConfiguration(database: configuration, queue: "scorer", service: "tierguard-bench")
        config.concurrency = 4
        config.handlerConnections = 4
        config.claimBatchSize = max(batch, 100)
        let worker = JobWorker(configuration: config, registry: registry, logger: logger)
        let cpuBefore = CPUSeconds.now()
        try await worker.start()
        while try await connection.withSession({ s in
            try s.query(PostgresQuery("SELECT count(*) FROM tg_jobs WHERE queue = 'scorer' AND state <> 'completed'"))[0].decode(Int.self, at: 0)
        }) > 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
        let cpu = CPUSeconds.now() - cpuBefore
        await worker.shutdown(deadline: .seconds(5))
        let (seconds, transactions) = try await connection.withSession { s in
            let row = try s.query(PostgresQuery("""
                SELECT extract(epoch FROM max(finished_at) - min(attempted_at))::float8, count(DISTINCT finished_at)
                FROM tg_jobs WHERE queue = 'scorer' AND kind = 'score_customer'
                """))[0]
            return (try row.decode(Double.self, at: 0), try row.decode(Int.self, at: 1))
        }
        print("score_customer jobs, batch \(batch): \(customers) jobs in \(transactions) transactions, \(format(seconds)) s = "
              + "\(Int(Double(customers) / seconds)) customers/s (CPU-seconds scorer \(format(cpu.process)), "
              + "rest of the machine \(format(cpu.machine - cpu.process)), start-up and shutdown included)")
    }

    static func format(_ x: Double) -> String { String(format: "%.3f", x) }

    private static func measure(url: String, customers: Int, days: Int, rounds: Int, chunk: Int, parallelism: Int,
                                reuse: Bool, nextDays: Int) throws -> Int32 {
        let session = try PostgresSession(configuration: PostgresConfiguration(url, applicationName: "tierguard-scorer"))
        defer { session.close() }
        let bd = CalendarDate("2026-03-14")!
        let start = bd.adding(days: -(days - 1))
        let expectedBalances = customers * 3 * days
        let existing = reuse ? try? session.query(PostgresQuery(
            "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM balances)"))[0] : nil
        if let existing, try existing.decode(Int.self, at: 0) == customers, try existing.decode(Int.self, at: 1) == expectedBalances {
            try TierGuardSchema.migrate(session)  // migrations newer than the archive, if any
            print("archive: reusing \(customers) customers × 3 accounts × \(days) days; BD \(bd)")
        } else {
            try session.executeScript(unsafeSQL: "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
            try TierGuardSchema.migrate(session)
            let t0 = monotonicSeconds()
            try buildArchive(session, customers: customers, start: start, days: days)
            try session.execute(PostgresQuery("ANALYZE"))
            try session.execute(PostgresQuery("CHECKPOINT"))
            print("archive: \(customers) customers × 3 accounts × \(days) days = \(expectedBalances) balances, "
                  + "\(customers * 6) transactions, built in \(format(monotonicSeconds() - t0)) s; BD \(bd)")
        }

        let logger = Logger(service: "tierguard-scorer", threshold: .warning)
        let m0 = bd.firstOfMonth
        let m1 = m0.yearMonth.previous, m2 = m1.previous, m3 = m2.previous
        let ceilingSQL = """
            SELECT b.customer_id,
                   sum(greatest(b.balance_fen, 0)) FILTER (WHERE b.as_of >= '\(m3.first)' AND b.as_of < '\(m2.first)')::bigint / \(m3.days) AS m3,
                   sum(greatest(b.balance_fen, 0)) FILTER (WHERE b.as_of >= '\(m2.first)' AND b.as_of < '\(m1.first)')::bigint / \(m2.days) AS m2,
                   sum(greatest(b.balance_fen, 0)) FILTER (WHERE b.as_of >= '\(m1.first)' AND b.as_of < '\(m0)')::bigint / \(m1.days) AS m1
            FROM balances b JOIN accounts a ON a.account_id = b.account_id
            WHERE a.product IN ('demand_deposit', 'time_deposit', 'wealth', 'fund', 'insurance')
              AND b.as_of >= '\(m3.first)' AND b.as_of < '\(m0)'
            GROUP BY b.customer_id
            """
        var bookRates: [Double] = [], ceilingRates: [Double] = [], dailyRates: [Double] = []
        // Same-day rounds rescore the business date again (after the first, every score is
        // unchanged and only alerts are re-decided); next-day rounds move the business date on by a
        // day each (TIERGUARD_BUSINESS_DATE, balances carried forward): every month-to-date sum
        // moves, so every customer gets a new score row, as in the daily job.
        let plan = (1...max(rounds, 1)).map { ("same day \($0)", bd) } + (0..<max(nextDays, 0)).map { ("next day +\($0 + 1)", bd.adding(days: $0 + 1)) }
        for (label, day) in plan {
            let settings = ScoringSettings(businessDateOverride: day == bd ? nil : day)
            let book = BookScorer(settings: settings, logger: logger, chunkSize: chunk, parallelism: parallelism)
            let cpuBefore = CPUSeconds.now()
            let summary = try book.run(session)
            let cpu = CPUSeconds.now() - cpuBefore
            guard summary.customers == customers else {
                throw ScoringError("scored \(summary.customers) customers, expected \(customers)")
            }
            let t1 = monotonicSeconds()
            let rows = try session.query(PostgresQuery(unsafeSQL: ceilingSQL))
            var checksum: Int64 = 0
            for row in rows { checksum &+= try row.decode(Int64?.self, at: 3) ?? 0 }
            let ceilingSeconds = monotonicSeconds() - t1
            guard rows.count == customers else { throw ScoringError("ceiling returned \(rows.count) rows") }
            let rate = summary.customersPerSecond, ceiling = Double(customers) / ceilingSeconds
            if day == bd { bookRates.append(rate) } else { dailyRates.append(rate) }
            ceilingRates.append(ceiling)
            print("\(label) (BD \(day)): whole-book rescore \(format(summary.seconds)) s = \(Int(rate)) customers/s "
                  + "(\(summary.scoreRows) score rows and \(summary.documents) documents written, \(summary.newAlerts) new alerts; thread-seconds load \(format(summary.loadSeconds)), "
                  + "model \(format(summary.computeSeconds)), write \(format(summary.writeSeconds)); CPU-seconds scorer \(format(cpu.process)), "
                  + "rest of the machine \(format(cpu.machine - cpu.process))); ceiling (bare SQL, 3 months of 月日均) "
                  + "\(format(ceilingSeconds)) s = \(Int(ceiling)) customers/s; ratio \(String(format: "%.2f", rate / ceiling))")
        }
        let tiers = try session.query(PostgresQuery("""
            SELECT tier, count(*) FROM customer_status GROUP BY tier ORDER BY min(CASE tier WHEN 'standard' THEN 0 WHEN 'gold' THEN 1
              WHEN 'platinum' THEN 2 WHEN 'diamond' THEN 3 ELSE 4 END)
            """)).map { "\(try $0.decode(String.self, at: 0)) \(try $0.decode(Int.self, at: 1))" }
        let warnings = try session.query(PostgresQuery("SELECT count(*) FROM customer_status WHERE downgrade_date IS NOT NULL"))[0].decode(Int.self, at: 0)
        print("tiers: \(tiers.joined(separator: ", ")); downgrade warnings: \(warnings)")
        let b = median(bookRates), c = median(ceilingRates), d = median(dailyRates)
        print("median of \(bookRates.count) same-day rounds: whole-book \(Int(b)) customers/s; of \(dailyRates.count) next-day rounds: "
              + "\(Int(d)) customers/s; ceiling \(Int(c)) customers/s; ratios \(String(format: "%.2f", b / c)) / \(String(format: "%.2f", d / c))")
        return 0
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? 0 : s[s.count / 2]
    }

    /// Deterministic archive: customer k's level is chosen so the book spans every tier, with a
    /// step down part-way for about a third of them (downgrade warnings and sudden drops).
    static func buildArchive(_ session: PostgresSession, customers: Int, start: CalendarDate, days: Int) throws {
        var rng: UInt64 = 0x5EED
        func next() -> UInt64 {
            rng &+= 0x9E37_79B9_7F4A_7C15
            var z = rng
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let bd = start.adding(days: days - 1)
        let hash = "\\\\x00"
        try session.withTransaction { s in
            // Month partitions as tierguard-ingest creates them (FeedIngestor), so the scorer's reads
            // prune to the months they need, as they do on a real archive.
            for table in ["balances", "transactions"] {
                try s.execute(PostgresQuery("SELECT tierguard_ensure_month_partitions($1::regclass, $2::date, $3::date)")
                    .binding(table, PostgresDate(year: start.year, month: start.month, day: start.day),
                             PostgresDate(year: bd.year, month: bd.month, day: bd.day)))
            }
            try s.copyFrom(PostgresQuery(unsafeSQL: """
                COPY customers (customer_id, name, id_type, risk_level, risk_assessed_on, annual_income_fen, rm_id,
                    branch_id, opened_on, status, marketing_opt_out, content_hash, first_batch_id, last_batch_id) FROM STDIN
                """)) { w in
                for k in 0..<customers {
                    let assessed = k % 5 == 0 ? "2024-06-01" : "2025-12-01"
                    w.write("C\(String(format: "%07d", k))\t客户\(k)\tresident_id\tC\(1 + k % 5)\t\(assessed)\t"
                            + "\(k % 4 == 0 ? "\\N" : String(12_000_000 + (k % 97) * 1_000_000))\tRM\(k % 50)\tB\(k % 7)\t2020-01-01\tactive\t"
                            + "\(k % 11 == 0 ? "t" : "f")\t\(hash)\t0\t0\n")
                }
            }
            try s.copyFrom(PostgresQuery(unsafeSQL: """
                COPY accounts (account_id, customer_id, product, currency, opened_on, maturity_on, closed_on, content_hash,
                    first_batch_id, last_batch_id) FROM STDIN
                """)) { w in
                for k in 0..<customers {
                    let c = "C\(String(format: "%07d", k))"
                    w.write("\(c)-D\t\(c)\tdemand_deposit\tCNY\t2020-01-01\t\\N\t\\N\t\(hash)\t0\t0\n")
                    w.write("\(c)-T\t\(c)\ttime_deposit\tCNY\t2020-01-01\t\(bd.adding(days: Int(next() % 60)))\t\\N\t\(hash)\t0\t0\n")
                    w.write("\(c)-W\t\(c)\twealth\tCNY\t2020-01-01\t\(bd.adding(days: 30 + Int(next() % 60)))\t\\N\t\(hash)\t0\t0\n")
                }
            }
            let levels: [Int64] = [2_000_000, 6_000_000, 30_000_000, 70_000_000, 250_000_000, 700_000_000]
            let dates = (0..<days).map { start.adding(days: $0).description }
            try s.copyFrom(PostgresQuery(unsafeSQL: """
                COPY balances (account_id, as_of, customer_id, balance_fen, content_hash, first_batch_id, last_batch_id) FROM STDIN
                """)) { w in
                for k in 0..<customers {
                    let c = "C\(String(format: "%07d", k))"
                    let level = levels[k % levels.count] + Int64(next() % 1_000_000)
                    let stepDay = k % 3 == 0 ? Int(next() % UInt64(days)) : days
                    for (suffix, share) in [("D", 3), ("T", 5), ("W", 2)] {
                        let account = "\(c)-\(suffix)"
                        var value = level * Int64(share) / 10
                        for d in 0..<days {
                            if d == stepDay { value = value * 55 / 100 }
                            let wiggle = Int64(next() % 2_001) - 1_000
                            w.write("\(account)\t\(dates[d])\t\(c)\t\(value + wiggle)\t\(hash)\t0\t0\n")
                        }
                    }
                }
            }
            try s.copyFrom(PostgresQuery(unsafeSQL: """
                COPY transactions (txn_id, account_id, customer_id, booked_at, booked_on, amount_fen, category, channel,
                    counterparty_bank, content_hash, first_batch_id, last_batch_id) FROM STDIN
                """)) { w in
                let kinds: [(String, Int64, String)] = [("deposit", 1, "\\N"), ("transfer_out", -1, "ICBC"), ("card_spend", -1, "\\N"),
                                                         ("fee", -1, "\\N"), ("transfer_out", -1, "TGBK"), ("withdrawal", -1, "\\N")]
                for k in 0..<customers {
                    let c = "C\(String(format: "%07d", k))"
                    for (t, kind) in kinds.enumerated() {
                        let day = bd.adding(days: -Int(next() % UInt64(min(days, 80))))
                        let amount = kind.1 * Int64(next() % 30_000_000)
                        w.write("\(c)-X\(t)\t\(c)-D\t\(c)\t\(day) 10:15:00+08\t\(day)\t\(amount)\t\(kind.0)\tmobile\t\(kind.2)\t\(hash)\t0\t0\n")
                    }
                }
            }
        }
    }
}

/// CPU time, the measure the machine's noise moves least: this process's (getrusage) and the whole
/// machine's busy time (/proc/stat: user, nice, system, irq, softirq, steal over every core). On a
/// quiet machine the difference is PostgreSQL's work for the rescore. Two cores give at most 2
/// CPU-seconds per second, so a rate of R customers/s needs at most 2 × 10,000 / R CPU-seconds per
/// 10,000 customers (20,000/s: 1.0).
struct CPUSeconds {
    var process: Double
    var machine: Double

    static func now() -> CPUSeconds {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let process = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        var machine = 0.0
        if let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
           let first = stat.split(separator: "\n").first, first.hasPrefix("cpu ") {
            // cpu user nice system idle iowait irq softirq steal …, in clock ticks (USER_HZ).
            let ticks = first.split(separator: " ").dropFirst().compactMap { Double($0) }
            if ticks.count >= 8 {
                machine = (ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]) / Double(sysconf(Int32(_SC_CLK_TCK)))
            }
        }
        return CPUSeconds(process: process, machine: machine)
    }

    static func - (a: CPUSeconds, b: CPUSeconds) -> CPUSeconds {
        CPUSeconds(process: a.process - b.process, machine: a.machine - b.machine)
    }
}
