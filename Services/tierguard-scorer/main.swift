import Foundation
import JobQueue
import Postgres
import ServiceKit
import TierGuardModel
import TierGuardStore

/// tierguard-scorer: tiers, 月日均, early warnings, signals and next best actions (issue 5).
/// A thin shell over `CustomerScorer` / `BookScorer` (Shared/TierGuardStore/Scoring).
///
/// - `run` (default): migrates, then works queue `scorer` with the job queue's `JobWorker`:
///   `score_customer` (args `{"customer_id": …}`, enqueued coalesced by ingest and feedback) scores
///   one customer and completes the job in the same transaction as its scores, alerts and
///   notification jobs; `rescore_book` re-scores the whole book. A periodic job enqueues
///   `rescore_book` daily at `TIERGUARD_RESCORE_CRON` (default 06:30 Asia/Shanghai, after the
///   nightly balance feed), once per tick across replicas. SIGTERM/SIGINT drain and exit 0.
/// - `rescore`: re-scores the whole book once and exits.
/// Policy, catalog and business date: `TIERGUARD_POLICY_FILE`, `TIERGUARD_CATALOG_FILE`,
/// `TIERGUARD_BUSINESS_DATE` (see `ScoringSettings`). `application_name` is `tierguard-scorer`.
let service = "tierguard-scorer"
let cronVariable = ConfigVariable("TIERGUARD_RESCORE_CRON", default: "30 6 * * *",
                                  "cron (Asia/Shanghai) of the daily whole-book rescore")
let concurrencyVariable = ConfigVariable("TIERGUARD_SCORER_CONCURRENCY", default: "4", "score_customer jobs run at once")
let config = ServiceConfig(service: service, variables: [.databaseURL, .logLevel, cronVariable, concurrencyVariable]
                           + ScoringSettings.configVariables)
let spec = CommandSpec(
    name: service, abstract: "Scores customers: tiers, 月日均, downgrade early warnings, signals, next best actions.",
    subcommands: [
        CommandSpec(name: "run", abstract: "Work the scorer queue (score_customer, daily rescore_book) until SIGTERM."),
        CommandSpec(name: "rescore", abstract: "Re-score the whole book once and exit."),
    ],
    version: "0.1.0", footer: config.helpText)

var argv = Array(CommandLine.arguments.dropFirst())
if argv.isEmpty { argv = ["run"] }
let arguments: Arguments
do {
    switch try Arguments.parse(argv, spec: spec) {
    case .help(let text): print(text); ExitCode.success.exit()
    case .version(let text): print(text); ExitCode.success.exit()
    case .run(let parsed): arguments = parsed
    }
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    ExitCode.usage.exit()
}

let env = EnvironmentConfig(config: config, environment: ProcessInfo.processInfo.environment)
let logger: Logger
let postgres: PostgresConfiguration
let settings: ScoringSettings
let cron: String
let concurrency: Int
do {
    logger = Logger(service: service, threshold: try env.logLevel())
    postgres = PostgresConfiguration(try env.string(ConfigVariable.databaseURL.name), applicationName: service)
    var scoringEnvironment: [String: String] = [:]
    for variable in ScoringSettings.configVariables { scoringEnvironment[variable.name] = try env.optionalString(variable.name) }
    settings = try ScoringSettings.load(environment: scoringEnvironment)
    cron = try env.string(cronVariable.name)
    concurrency = try env.int(concurrencyVariable.name, in: 1...64)
} catch {
    FileHandle.standardError.write(Data("\(service): \(error)\n".utf8))
    ExitCode.configuration.exit()
}

/// Runs blocking libpq work on a thread of its own, never on the cooperative pool.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

do {
    try await onOwnThread {
        let session = try PostgresSession(configuration: postgres)
        defer { session.close() }
        let applied = try TierGuardSchema.migrate(session)
        if !applied.isEmpty { logger.info("migrated", metadata: ["applied": applied.map { "\($0.component)/\($0.version)" }.joined(separator: ",")]) }
        try settings.recordPolicy(session)
    }
} catch {
    logger.error("cannot migrate or reach the database", metadata: ["error": "\(error)"])
    ExitCode.unavailable.exit()
}
logger.info("policy in force", metadata: ["policy_version": settings.policy.version, "catalog_version": settings.catalog.version])

switch arguments.subcommands.first {
case "rescore":
    do {
        let summary = try await onOwnThread {
            let session = try PostgresSession(configuration: postgres)
            defer { session.close() }
            return try BookScorer(settings: settings, logger: logger).run(session)
        }
        print("rescored \(summary.customers) customers on \(summary.businessDate?.description ?? "-") in "
              + "\(String(format: "%.2f", summary.seconds)) s; \(summary.newAlerts) new alerts")
        ExitCode.success.exit()
    } catch {
        logger.error("rescore failed", metadata: ["error": "\(error)"])
        ExitCode.failure.exit()
    }

default:
    struct ScoreArgs: Codable, Sendable {
        var customerId: String
        enum CodingKeys: String, CodingKey { case customerId = "customer_id" }
    }
    let scorer = CustomerScorer(settings: settings, logger: logger)
    var registry = JobRegistry()
    registry.register("score_customer", ScoreArgs.self) { args, context in
        let id = args.customerId
        try await context.withCompletionTransaction { session in
            _ = try scorer.score(session, customerIds: [id])
        }
        return .completedInTransaction
    }
    registry.register("rescore_book") { context in
        let summary = try await context.database.withConnection { connection in
            try await connection.withSession { session in try BookScorer(settings: settings, logger: context.logger).run(session) }
        }
        context.logger.info("daily rescore", metadata: ["customers": String(summary.customers), "new_alerts": String(summary.newAlerts)])
        return .completed
    }
    var workerConfig = JobWorkerConfiguration(database: postgres, queue: "scorer", service: service)
    workerConfig.concurrency = concurrency
    workerConfig.handlerConnections = min(concurrency, 4)
    do {
        workerConfig.periodicJobs = [try PeriodicJob(
            name: "rescore_book", cron: cron,
            job: NewJob(queue: "scorer", kind: "rescore_book", priority: 7, maxAttempts: 3, uniqueKey: "rescore_book"))]
    } catch {
        FileHandle.standardError.write(Data("\(service): \(cronVariable.name): \(error)\n".utf8))
        ExitCode.configuration.exit()
    }
    let signals = SignalWatcher()
    let worker = JobWorker(configuration: workerConfig, registry: registry, logger: logger)
    do {
        try await worker.start()
    } catch {
        logger.error("worker could not start", metadata: ["error": "\(error)"])
        ExitCode.unavailable.exit()
    }
    await worker.run(until: signals, deadline: .seconds(30))
    ExitCode.success.exit()
}
