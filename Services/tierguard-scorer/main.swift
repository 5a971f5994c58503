import Foundation
import JobQueue
import Postgres
import ServiceKit
import TierGuardModel
import TierGuardStore

/// tierguard-scorer: tiers, 月日均, early warnings, signals and next best actions (issue 5).
/// A thin shell over `CustomerScorer` / `BookScorer` (Shared/TierGuardStore/Scoring).
///
/// - `run` (default): migrates, serves `/livez`, `/readyz` (database reachable, no migration
///   pending) and `/metrics` (with the job worker's counters) on `TIERGUARD_HTTP_HOST`/`_PORT`,
///   and works queue `scorer` with the job queue's `JobWorker`: `score_customer` (args
///   `{"customer_id": …}`, enqueued coalesced by ingest and feedback) scores one customer and
///   completes the job in the same transaction as its scores, alerts and notification jobs (a burst
///   of them, claimed together, is scored in batches of up to `TIERGUARD_SCORER_BATCH`, default 500:
///   `ScoreCustomerJob`);
///   `rescore_book` re-scores the whole book. A periodic job enqueues `rescore_book` daily at
///   `TIERGUARD_RESCORE_CRON` (default 06:30 Asia/Shanghai, after the nightly balance feed), once
///   per tick across replicas. SIGTERM/SIGINT: drain for `TIERGUARD_DRAIN_SECONDS`, stop the
///   listener, exit 0.
/// - `rescore`: re-scores the whole book once and exits (no listener).
/// Policy, catalog and business date: `TIERGUARD_POLICY_FILE`, `TIERGUARD_CATALOG_FILE`,
/// `TIERGUARD_BUSINESS_DATE` (see `ScoringSettings`). `application_name` is `tierguard-scorer`.
let cronVariable = ConfigVariable("TIERGUARD_RESCORE_CRON", default: "30 6 * * *",
                                  "cron (Asia/Shanghai) of the daily whole-book rescore")
let concurrencyVariable = ConfigVariable("TIERGUARD_SCORER_CONCURRENCY", default: "4", "score_customer jobs (or batches of them) run at once")
let batchVariable = ConfigVariable("TIERGUARD_SCORER_BATCH", default: String(ScoreCustomerJob.defaultMaxBatch),
                                   "score_customer jobs claimed at a time and scored together in one transaction (1-5000)")
let bootstrap = ServiceBootstrap.parse(
    service: "tierguard-scorer", version: "0.2.0",
    abstract: "Scores customers: tiers, 月日均, downgrade early warnings, signals, next best actions",
    variables: [cronVariable, concurrencyVariable, batchVariable] + ScoringSettings.configVariables + RetentionPurge.configVariables,
    positionals: [.init("command", help: "run (default): work the scorer queue until SIGTERM; rescore: re-score the whole book once and exit",
                        isOptional: true)])
let logger = bootstrap.logger
let command = bootstrap.arguments.positionals.first ?? "run"
guard command == "run" || command == "rescore" else {
    FileHandle.standardError.write(Data("unknown command \"\(command)\" (expected run or rescore)\n".utf8))
    ExitCode.usage.exit()
}

let settings: ScoringSettings
let cron: String
let concurrency: Int
let batch: Int
let retentionYears: Int
do {
    retentionYears = try RetentionPurge.years(bootstrap.config)
    var scoringEnvironment: [String: String] = [:]
    for variable in ScoringSettings.configVariables { scoringEnvironment[variable.name] = try bootstrap.config.optionalString(variable.name) }
    settings = try ScoringSettings.load(environment: scoringEnvironment)
    cron = try bootstrap.config.string(cronVariable.name)
    concurrency = try bootstrap.config.int(concurrencyVariable.name, in: 1...64)
    batch = try bootstrap.config.int(batchVariable.name, in: 1...5_000)
} catch {
    logger.critical("configuration: \(error)")
    ExitCode.configuration.exit()
}

let connection = await bootstrap.connectAndMigrate()
do {
    try await connection.withSession { session in try settings.recordPolicy(session) }
} catch {
    logger.critical("cannot record the scoring policy: \(error)")
    ExitCode.unavailable.exit()
}
logger.info("policy in force", metadata: ["policy_version": settings.policy.version, "catalog_version": settings.catalog.version])

if command == "rescore" {
    do {
        let summary = try await connection.withSession { session in try BookScorer(settings: settings, logger: logger).run(session) }
        print("rescored \(summary.customers) customers on \(summary.businessDate?.description ?? "-") in "
              + "\(String(format: "%.2f", summary.seconds)) s; \(summary.newAlerts) new alerts"
              + (summary.notScored > 0 ? "; \(summary.notScored) customer(s) not scored (a money value beyond the model's range; the log names each)" : ""))
        await connection.close()
        ExitCode.success.exit()
    } catch {
        logger.error("rescore failed", metadata: ["error": "\(error)"])
        ExitCode.failure.exit()
    }
}

let server = bootstrap.startHTTP(readiness: bootstrap.readinessCheck(connection))

let scorer = CustomerScorer(settings: settings, logger: logger)
var registry = JobRegistry()
ScoreCustomerJob.register(&registry, scorer: scorer, maxBatch: batch)
registry.register("rescore_book") { context in
    let summary = try await context.database.withConnection { connection in
        try await connection.withSession { session in try BookScorer(settings: settings, logger: context.logger).run(session) }
    }
    context.logger.info("daily rescore", metadata: ["customers": String(summary.customers), "new_alerts": String(summary.newAlerts)])
    return .completed
}
// PIPL arts. 55–56: the daily retention purge (RetentionPurge), a periodic job at TIERGUARD_RETENTION_CRON.
registry.register(RetentionPurge.jobKind) { context in
    let summary = try await context.database.withConnection { connection in
        try await connection.withSession { session in try RetentionPurge.run(session, years: retentionYears) }
    }
    context.logger.info("retention purge", metadata: summary.rows.mapValues(String.init))
    return .completed
}
var workerConfig = bootstrap.workerConfiguration(queue: "scorer")
workerConfig.concurrency = concurrency
workerConfig.handlerConnections = min(concurrency, 4)
// A feed's burst of score_customer jobs is claimed `batch` at a time, so a batch can be that large (ScoreCustomerJob).
workerConfig.claimBatchSize = batch
do {
    workerConfig.periodicJobs = [try PeriodicJob(
        name: "rescore_book", cron: cron,
        job: NewJob(queue: "scorer", kind: "rescore_book", priority: 7, maxAttempts: 3, uniqueKey: "rescore_book")),
        try RetentionPurge.periodicJob(cron: try bootstrap.config.string(RetentionPurge.cronVariable.name))]
} catch {
    logger.critical("configuration: \(cronVariable.name): \(error)")
    ExitCode.configuration.exit()
}
let worker = JobWorker(configuration: workerConfig, registry: registry, logger: logger, metrics: bootstrap.metrics)
bootstrap.registerQueueGauges(queue: "scorer", connection: connection, maintenanceInterval: workerConfig.maintenanceInterval)
/// Business days between the newest balances (the business date) and the newest business date
/// scored. The scored date is the max over the latest 1,000 `customer_scores` rows (by id, the
/// primary key), so a scrape reads a few pages instead of scanning the table; nothing scored yet
/// counts every balance day as behind. 0 without balances.
let lagQuery = PostgresQuery("""
    WITH b AS (SELECT max(as_of) AS newest, min(as_of) AS oldest FROM balances),
         s AS (SELECT max(business_date) AS scored
               FROM (SELECT business_date FROM customer_scores ORDER BY id DESC LIMIT 1000) recent)
    SELECT coalesce(b.newest - coalesce(s.scored, b.oldest - 1), 0)::bigint FROM b, s
    """, name: "Scorer.businessDateLag")
/// Named without a unit word: `promtool check metrics` refuses `_days` ("use base unit seconds"), and
/// the value is a count of business dates, not a duration.
bootstrap.metrics.gaugeCallback("tierguard_scorer_business_dates_behind",
                                help: "Business dates between the newest balances and the newest scored business date") {
    guard let days = try? await connection.withSession({ session in try session.query(lagQuery)[0].decode(Int64.self, at: 0) })
    else { return [] }
    return [MetricSample(value: Double(max(0, days)))]
}
do {
    try await worker.start()
} catch {
    logger.critical("cannot start the worker: \(error)")
    ExitCode.unavailable.exit()
}
await worker.run(until: bootstrap.signals, deadline: .seconds(Int64(bootstrap.drainSeconds)))
server.stop()
await connection.close()
ExitCode.success.exit()
