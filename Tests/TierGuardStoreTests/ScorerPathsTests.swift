import Foundation
import JobQueue
import Postgres
import ServiceKit
import TestSupport
import Testing
import TierGuardModel
import TierGuardStore

/// The per-customer path (one `score_customer` job per customer) and the whole-book path
/// (`BookScorer`, chunks) write identical scores, history and alerts for the same archive.
@Suite struct ScorerPathsTests {
    /// A small seeded book: 1–3 accounts per customer over ~100 days with jumps, negative
    /// balances, a closure, maturities, and transactions (transfers to other banks, card spend,
    /// fees), so every rule has something to say for some customer.
    static func seed(_ f: ScorerFixture, customers: Int) throws {
        var rng = SplitMix(seed: 20_260_301)
        let start = CalendarDate("2025-01-01")!
        let products = ["demand_deposit", "time_deposit", "wealth", "fund", "credit_card"]
        for c in 0..<customers {
            let id = String(format: "K%03d", c)
            try f.customer(id, risk: "C\(1 + Int(rng.next() % 5))", assessed: rng.next() % 4 == 0 ? "2023-06-01" : "2025-01-10",
                           income: rng.next() % 3 == 0 ? nil : Int64(rng.next() % 50_000_000),
                           opened: "2024-06-01", optOut: rng.next() % 7 == 0)
            let accounts = 1 + Int(rng.next() % 3)
            for a in 0..<accounts {
                let account = "\(id)-A\(a)"
                let product = products[Int(rng.next() % UInt64(products.count))]
                let maturity = product == "time_deposit" || product == "wealth" ? "2025-04-\(10 + Int(rng.next() % 15))" : nil
                let closed = rng.next() % 9 == 0 ? "2025-03-1\(Int(rng.next() % 9))" : nil
                try f.account(account, customer: id, product: product, maturity: maturity, closed: closed)
                var level = Int64(rng.next() % 800_000_000)
                var day = Int(rng.next() % 20)
                while day < 100 {
                    if rng.next() % 10 == 0 { level = Int64(rng.next() % 900_000_000) - 50_000_000 }
                    if rng.next() % 6 == 0 { level = level * 6 / 10 }
                    try f.balance(account, customer: id, start.adding(days: day).description, level)
                    day += 1 + Int(rng.next() % 4)
                }
                for t in 0..<Int(rng.next() % 6) {
                    let categories = ["transfer_out", "card_spend", "fee", "deposit", "interest"]
                    let category = categories[Int(rng.next() % 5)]
                    let when = start.adding(days: 60 + Int(rng.next() % 40))
                    try f.transaction("\(account)-T\(t)", account: account, customer: id, "\(when)T09:30:00+08:00",
                                      -Int64(rng.next() % 40_000_000), category: category,
                                      bank: category == "transfer_out" ? (rng.next() % 2 == 0 ? "ICBC" : "TGBK") : nil)
                }
            }
        }
    }

    /// A fresh database holding `seed`'s book of `customers`, and the tests' logger; the caller
    /// closes `fixture.session`.
    static func seededBook(customers: Int) throws -> (fixture: ScorerFixture, logger: Logger) {
        let (_, session) = try ScorerFixture.database()
        let f = ScorerFixture(session: session)
        try seed(f, customers: customers)
        return (f, Logger(service: "scorer-tests", threshold: .warning))
    }

    static func snapshot(_ session: PostgresSession) throws -> [String] {
        var lines: [String] = []
        for row in try session.query(PostgresQuery(
            "SELECT (to_jsonb(s) - 'id' - 'scored_at')::text FROM customer_scores s ORDER BY customer_id, id")) {
            lines.append(try row.decode(String.self, at: 0))
        }
        for row in try session.query(PostgresQuery(
            "SELECT (to_jsonb(h) - 'recorded_at')::text FROM customer_tier_history h ORDER BY customer_id, effective_on")) {
            lines.append(try row.decode(String.self, at: 0))
        }
        for row in try session.query(PostgresQuery("""
            SELECT (to_jsonb(a) - 'id' - 'first_raised_at' - 'last_raised_at' - 'resolved_at')::text FROM alerts a ORDER BY dedup_key
            """)) {
            lines.append(try row.decode(String.self, at: 0))
        }
        lines.append("jobs \(try ScorerFixture(session: session).count("SELECT count(*) FROM tg_jobs WHERE kind = 'notify_alert'"))")
        return lines
    }

    /// Two fresh databases holding `seed`'s book of `customers`, the first one scored customer by customer
    /// on the per-customer path (in descending id order when `descending`); the caller closes both sessions.
    static func twoBooksOneScoredByCustomer(customers: Int, logger: Logger, descending: Bool = false) throws
        -> (scored: PostgresSession, other: TestDatabase, otherSession: PostgresSession) {
        let (_, one) = try ScorerFixture.database()
        let (other, otherSession) = try ScorerFixture.database()
        try seed(ScorerFixture(session: one), customers: customers)
        try seed(ScorerFixture(session: otherSession), customers: customers)
        let scorer = CustomerScorer(settings: ScoringSettings(), logger: logger)
        let ids = try one.query(PostgresQuery("SELECT customer_id FROM customers ORDER BY customer_id")).map { try $0.decode(String.self, at: 0) }
        for id in descending ? ids.reversed() : ids { try scorer.score(one, customerId: id) }
        return (one, other, otherSession)
    }

    @Test func perCustomerAndWholeBookWriteTheSameRows() throws {
        let logger = Logger(service: "scorer-tests", threshold: .warning)
        let (one, _, book) = try Self.twoBooksOneScoredByCustomer(customers: 40, logger: logger, descending: true)
        defer { one.close(); book.close() }
        let summary = try BookScorer(settings: ScoringSettings(), logger: logger, chunkSize: 7).run(book)
        #expect(summary.customers == 40 && summary.chunks == 6)

        let a = try Self.snapshot(one)
        let b = try Self.snapshot(book)
        #expect(a.count == b.count)
        for (x, y) in zip(a, b) where x != y { Issue.record("paths differ:\n\(x)\n\(y)") }
        // The data made the rules speak: some alerts and tier history exist.
        #expect(try ScorerFixture(session: book).count("SELECT count(*) FROM alerts") > 5)
        #expect(try ScorerFixture(session: book).count("SELECT count(DISTINCT kind) FROM alerts") >= 3)
    }
}

/// A burst of `score_customer` jobs, as a feed leaves behind, runs in batches (`ScoreCustomerJob`'s batch
/// handler on a real `JobWorker`) and writes exactly what scoring each customer on its own writes.
@Suite struct ScoreCustomerBatchTests {
    @Test func aBurstOfScoringJobsRunsInBatchesAndWritesWhatOneByOneWrites() async throws {
        let logger = Logger(service: "scorer-tests", threshold: .warning)
        let (one, db, jobs) = try ScorerPathsTests.twoBooksOneScoredByCustomer(customers: 40, logger: logger)
        defer { one.close(); jobs.close() }
        let ids = try jobs.query(PostgresQuery("SELECT customer_id FROM customers ORDER BY customer_id")).map { try $0.decode(String.self, at: 0) }

        // One job per customer, each with its own trace (as ingest gives each feed's jobs).
        func trace(_ n: Int) -> String { String(format: "00-%032x-%016x-01", 0xA000 + n, 0xB000 + n) }
        try JobEnqueuer.enqueue(jobs, ids.enumerated().map { n, id in
            NewJob(queue: "scorer", kind: ScoreCustomerJob.kind, argsJSON: #"{"customer_id": "\#(id)"}"#,
                   uniqueKey: "score:\(id)", traceparent: trace(n))
        })
        var registry = JobRegistry()
        ScoreCustomerJob.register(&registry, scorer: CustomerScorer(settings: ScoringSettings(), logger: logger))
        var config = JobWorkerConfiguration(database: db.configuration(applicationName: "scorer-batch-tests"), queue: "scorer",
                                            service: "scorer-batch-tests")
        config.pollInterval = 0.1
        let worker = JobWorker(configuration: config, registry: registry, logger: logger)
        try await worker.start()
        let watcher = ScorerFixture(session: try db.session())
        defer { watcher.session.close() }
        do {
            try await waitUntil(timeout: 60, "every scoring job completed") { () async throws -> Bool in
                try watcher.count("SELECT count(*) FROM tg_jobs WHERE kind = 'score_customer' AND state = 'completed'") == ids.count
            }
        } catch {
            await worker.shutdown(deadline: .seconds(2))
            throw error
        }
        await worker.shutdown(deadline: .seconds(2))

        let a = try ScorerPathsTests.snapshot(one)
        let b = try ScorerPathsTests.snapshot(jobs)
        #expect(a.count == b.count)
        for (x, y) in zip(a, b) where x != y { Issue.record("paths differ:\n\(x)\n\(y)") }
        // Batched: jobs completed in one transaction share its now(), their finished_at.
        #expect(try watcher.count("SELECT count(DISTINCT finished_at) FROM tg_jobs WHERE kind = 'score_customer'") < ids.count / 4)
        // Each alert's notification carries a child of its own customer's job's trace.
        let alerts = try watcher.count("SELECT count(*) FROM tg_jobs WHERE kind = 'notify_alert'")
        #expect(alerts > 5)
        #expect(try watcher.count("""
            SELECT count(*) FROM tg_jobs n JOIN alerts a ON a.id = (n.args->>'alert_id')::bigint
            JOIN tg_jobs s ON s.kind = 'score_customer' AND s.args->>'customer_id' = a.customer_id
            WHERE n.kind = 'notify_alert' AND split_part(n.traceparent, '-', 2) = split_part(s.traceparent, '-', 2)
              AND n.traceparent <> s.traceparent
            """) == alerts)
    }
}

/// A seeded generator so the book is the same in both databases and every run.
struct SplitMix {
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

/// The whole-book rescore writes a score row (and history) only for customers whose score changed
/// since their newest row; the per-customer path always writes one.
@Suite struct ScorerUnchangedTests {
    @Test func wholeBookRescoreWritesOnlyChangedCustomers() throws {
        let (f, logger) = try ScorerPathsTests.seededBook(customers: 12)
        let session = f.session
        defer { session.close() }
        let book = BookScorer(settings: ScoringSettings(), logger: logger, chunkSize: 5)

        #expect(try book.run(session).customers == 12)
        #expect(try f.count("SELECT count(*) FROM customer_scores") == 12)
        let before = try ScorerPathsTests.snapshot(session)

        // Same archive, same business date: nothing new, and nothing else changed either.
        #expect(try book.run(session).customers == 12)
        #expect(try f.count("SELECT count(*) FROM customer_scores") == 12)
        #expect(try ScorerPathsTests.snapshot(session) == before)
        // …and no alert row was rewritten (confirming on the same BD with the same figures is a no-op).
        #expect(try f.count("SELECT count(*) FROM alerts") > 0)
        #expect(try f.count("SELECT count(*) FROM alerts WHERE last_raised_at <> first_raised_at") == 0)

        // A late balance for an earlier month (BD stays 2025-04-10, the seed's last day) changes
        // K003's months: exactly one new row, for K003, with a different hash.
        let account = try session.query(PostgresQuery(
            "SELECT account_id FROM accounts WHERE customer_id = 'K003' AND product = 'demand_deposit' ORDER BY account_id LIMIT 1"))
        let target = account.count > 0 ? try account[0].decode(String.self, at: 0) : "K003-AX"
        if account.count == 0 { try f.account(target, customer: "K003") }
        try f.balance(target, customer: "K003", "2025-02-03", 987_654_321)
        #expect(try book.run(session).customers == 12)
        #expect(try f.count("SELECT count(*) FROM customer_scores") == 13)
        #expect(try f.count("SELECT count(*) FROM customer_scores WHERE customer_id = 'K003'") == 2)
        #expect(try f.count("SELECT count(DISTINCT content_hash) FROM customer_scores WHERE customer_id = 'K003'") == 2)

        // score_customer always writes, changed or not.
        try CustomerScorer(settings: ScoringSettings(), logger: logger).score(session, customerId: "K005")
        #expect(try f.count("SELECT count(*) FROM customer_scores") == 14)
        #expect(try f.count("SELECT count(*) FROM customer_scores WHERE content_hash IS NULL") == 0)
    }
}

extension ScorerUnchangedTests {
    /// The daily case: every customer gets a new score row (month-to-date moves), but a tier history
    /// that did not change is not written again (`history_hash`). A history row removed since (as
    /// the retention purge does) stays removed; `score_customer` still writes the whole history.
    @Test func nextDayRescoreWritesNoUnchangedHistory() throws {
        let (f, logger) = try ScorerPathsTests.seededBook(customers: 12)
        let session = f.session
        defer { session.close() }
        #expect(try BookScorer(settings: ScoringSettings(), logger: logger, chunkSize: 5).run(session).customers == 12)
        let k003History = try f.count("SELECT count(*) FROM customer_tier_history WHERE customer_id = 'K003'")
        #expect(k003History > 0)
        try session.execute(PostgresQuery("""
            DELETE FROM customer_tier_history WHERE customer_id = 'K003'
              AND effective_on = (SELECT min(effective_on) FROM customer_tier_history WHERE customer_id = 'K003')
            """))

        let nextDay = ScoringSettings(businessDateOverride: CalendarDate("2025-04-11")!)
        let summary = try BookScorer(settings: nextDay, logger: logger, chunkSize: 5).run(session)
        #expect(summary.scoreRows == 12)
        #expect(try f.count("SELECT count(*) FROM customer_scores WHERE history_hash IS NULL") == 0)
        #expect(try f.count("SELECT count(*) FROM customer_tier_history WHERE customer_id = 'K003'") == k003History - 1)

        // Documents (migration 0016): the next day's row points at the previous row's document exactly when
        // its hash is unchanged, and at a new one otherwise; every document belongs to its row's customer.
        let reuse = try session.query(PostgresQuery("""
            WITH ranked AS (SELECT r.*, row_number() OVER (PARTITION BY customer_id ORDER BY id DESC) AS n FROM customer_score_rows r)
            SELECT count(*) FILTER (WHERE (a.suitability_hash = b.suitability_hash) <> (a.suitability_doc = b.suitability_doc)
                                       OR (a.value_hash = b.value_hash) <> (a.value_doc = b.value_doc)
                                       OR (a.signals_hash = b.signals_hash) <> (a.signals_doc = b.signals_doc)
                                       OR (a.recommendations_hash = b.recommendations_hash) <> (a.recommendations_doc = b.recommendations_doc)),
                   count(*) FILTER (WHERE a.suitability_doc = b.suitability_doc),
                   count(*) FILTER (WHERE a.value_doc = b.value_doc),
                   count(*)
            FROM ranked a JOIN ranked b ON b.customer_id = a.customer_id AND a.n = 1 AND b.n = 2
            """))[0]
        #expect(try reuse.decode(Int.self, at: 3) == 12)
        #expect(try reuse.decode(Int.self, at: 0) == 0, "a document reused although it changed, or rewritten although it did not")
        #expect(try reuse.decode(Int.self, at: 1) == 12, "suitability does not change from one day to the next")
        #expect(try reuse.decode(Int.self, at: 2) > 0,
                "a value document states the last activity's date, not the days since it, so it is reused while nothing happens")
        #expect(try f.count("""
            SELECT count(*) FROM customer_score_rows r JOIN score_documents d
              ON d.id IN (r.warning_doc, r.signals_doc, r.value_doc, r.recommendations_doc, r.suitability_doc)
            WHERE d.customer_id <> r.customer_id
            """) == 0)

        try CustomerScorer(settings: nextDay, logger: logger).score(session, customerId: "K003")
        #expect(try f.count("SELECT count(*) FROM customer_tier_history WHERE customer_id = 'K003'") == k003History)
    }
}

/// The loads and the alert decisions read a chunk by its id range (`ScoringSQL`), so a sparse list
/// of ids must still score exactly its own customers and leave every customer between them alone.
@Suite struct ScorerSparseChunkTests {
    @Test func aSparseListScoresOnlyItsCustomersAndLeavesTheOnesBetweenAlone() throws {
        let (f, logger) = try ScorerPathsTests.seededBook(customers: 12)
        let session = f.session
        defer { session.close() }
        _ = try BookScorer(settings: ScoringSettings(), logger: logger, chunkSize: 12).run(session)
        let openBetween = try f.count("SELECT count(*) FROM alerts WHERE state = 'open' AND customer_id > 'K000' AND customer_id < 'K011'")
        #expect(openBetween > 0, "the seed must give the customers in between open alerts, or this test shows nothing")
        let rowsBefore = try f.count("SELECT count(*) FROM customer_scores")

        let scorer = CustomerScorer(settings: ScoringSettings(), logger: logger)
        let sparse = try scorer.score(session, customerIds: ["K011", "K000"])
        #expect(Set(sparse.scores.map(\.customerId)) == ["K000", "K011"])
        #expect(try f.count("SELECT count(*) FROM customer_scores") == rowsBefore + 2)
        #expect(try f.count("SELECT count(*) FROM alerts WHERE state = 'open' AND customer_id > 'K000' AND customer_id < 'K011'")
                == openBetween)
        // Each score is the one a chunk of that customer alone gives (no row of a neighbour leaked in).
        for score in sparse.scores {
            #expect(try scorer.score(session, customerIds: [score.customerId]).scores == [score])
        }
    }
}

extension ScorerSparseChunkTests {
    /// `ScoreWriter.write` stages through session temp tables that empty at commit: a second write in
    /// the same transaction must apply only its own scores (and its own document numbers).
    @Test func twoWritesInOneTransactionWriteEachScoreOnce() throws {
        let (f, logger) = try ScorerPathsTests.seededBook(customers: 3)
        let session = f.session
        defer { session.close() }
        let settings = ScoringSettings()
        let scorer = CustomerScorer(settings: settings, logger: logger)
        let first = try #require(try scorer.evaluate(session, customerId: "K000")).0
        let second = try #require(try scorer.evaluate(session, customerId: "K001")).0
        let bd = first.assessment.businessDate
        try settings.recordPolicy(session)
        try session.withTransaction { s in
            _ = try ScoreWriter().write(s, scores: [first], businessDate: bd, policy: settings.policy)
            _ = try ScoreWriter().write(s, scores: [second], businessDate: bd, policy: settings.policy)
        }
        #expect(try f.count("SELECT count(*) FROM customer_scores") == 2)
        #expect(try f.count("SELECT count(DISTINCT customer_id) FROM customer_scores") == 2)
    }
}

/// The stored documents are the model's, each in its own column: rows point at their documents by
/// id and reuse the newest row's unchanged ones (`score_documents`, migration 0016), so an id slip
/// would put one customer's (or one column's) document in another's place while both paths still agreed.
/// Checked against `JSONEncoder`, independent of the writer's `JSONTextWriter`.
@Suite struct ScorerStoredDocumentsTests {
    @Test func everyStoredDocumentIsTheModelsOwn() throws {
        let (f, logger) = try ScorerPathsTests.seededBook(customers: 12)
        let session = f.session
        defer { session.close() }
        #expect(try BookScorer(settings: ScoringSettings(), logger: logger, chunkSize: 5).run(session).customers == 12)
        let scorer = CustomerScorer(settings: ScoringSettings(), logger: logger)
        let encoder = JSONEncoder()
        func json(_ value: some Encodable) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
        var distinctSignals = Set<String>(), distinctSuitability = Set<String>()
        for c in 0..<12 {
            let id = String(format: "K%03d", c)
            let score = try #require(try scorer.evaluate(session, customerId: id)).0
            distinctSignals.insert(try json(score.signals))
            distinctSuitability.insert(try json(score.nextBestAction.suitability))
            let rows = try session.query(PostgresQuery("""
                SELECT signals = $1::jsonb, suitability = $2::jsonb, recommendations = $3::jsonb, value = $4::jsonb,
                       warning IS NOT DISTINCT FROM $5::jsonb
                FROM customer_scores WHERE customer_id = $6 ORDER BY id DESC LIMIT 1
                """).binding(try json(score.signals), try json(score.nextBestAction.suitability),
                             try json(score.nextBestAction.recommendations), try json(score.value),
                             try score.assessment.warning.map { try json($0) }, id))
            #expect(rows.count == 1)
            for column in 0..<5 { #expect(try rows[0].decode(Bool.self, at: column), "customer \(id), document \(column)") }
        }
        // Several distinct shared documents, or a mix-up between customers could not show.
        #expect(distinctSignals.count > 2 && distinctSuitability.count > 2)
    }
}
