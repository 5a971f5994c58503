import Foundation
import Postgres
import ServiceKit
import TierGuardStore

/// tierguard-feedback: surveys, complaints (with the complaint clock), RM visit outcomes,
/// preferences and alert feedback, back into scoring.
///
/// `tierguard-feedback [serve]` runs the HTTP API (`FeedbackAPI`) plus a sweep every
/// `TIERGUARD_FEEDBACK_SWEEP_SECONDS`: pending items whose customer arrived, complaint-clock alerts
/// for the Asia/Shanghai calendar day (database clock), and the free-text retention purge.
/// `tierguard-feedback load FILE…` loads NDJSON files (`FeedbackLoader`) and exits 0, or 65 when a
/// line was rejected. SIGTERM: stop accepting, let in-flight requests commit and answer, exit 0.
let bootstrap = ServiceBootstrap.parse(
    service: "tierguard-feedback", version: "0.1.0",
    abstract: "Collects surveys, complaints, visit outcomes, preferences and alert feedback and feeds them back into scoring",
    variables: [
        ConfigVariable("TIERGUARD_FEEDBACK_TOKENS", default: "",
                       "calling systems: name:scope+scope:sha256hex entries, comma- or newline-separated", isSecret: true),
        ConfigVariable("TIERGUARD_FEEDBACK_RETENTION_DAYS", default: String(FeedbackRetention.defaultDays),
                       "days free text (comments, descriptions, notes) is kept before it is blanked"),
        ConfigVariable("TIERGUARD_FEEDBACK_CONNECTIONS", default: "8", "database connections for requests"),
        ConfigVariable("TIERGUARD_FEEDBACK_SWEEP_SECONDS", default: "300",
                       "seconds between sweeps (pending items, complaint clock, retention purge)"),
    ],
    positionals: [.init("command", help: "serve (default) or load", isOptional: true),
                  .init("files", help: "NDJSON files for load", isOptional: true, isVariadic: true)])

let command = bootstrap.arguments.positionals.first ?? "serve"
let logger = bootstrap.logger
let connection = await bootstrap.connectAndMigrate()

switch command {
case "load":
    let files = Array(bootstrap.arguments.positionals.dropFirst())
    guard !files.isEmpty else {
        logger.critical("load needs at least one file")
        ExitCode.usage.exit()
    }
    var rejected = 0
    for file in files {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            let name = file
            let summary = try await connection.withSession { session in try FeedbackLoader.load(session, fileName: name, data: data) }
            rejected += summary.rejected
            print("\(file): batch \(summary.batchID): \(summary.applied) applied, \(summary.pending) pending, "
                  + "\(summary.replayed) replayed, \(summary.rejected) rejected")
        } catch {
            logger.error("load failed", metadata: ["file": file, "error": String(describing: error)])
            await connection.close()
            ExitCode.failure.exit()
        }
    }
    await connection.close()
    (rejected > 0 ? ExitCode.dataError : ExitCode.success).exit()
case "serve":
    break
default:
    FileHandle.standardError.write(Data("unknown command \"\(command)\" (expected serve or load)\n".utf8))
    ExitCode.usage.exit()
}

let tokens: FeedbackTokens
let retentionDays: Int
let sweepSeconds: Int
let pool: FeedbackPool
do {
    tokens = try FeedbackTokens(parsing: try bootstrap.config.string("TIERGUARD_FEEDBACK_TOKENS"))
    retentionDays = try bootstrap.config.int("TIERGUARD_FEEDBACK_RETENTION_DAYS", in: 1...36500)
    sweepSeconds = try bootstrap.config.int("TIERGUARD_FEEDBACK_SWEEP_SECONDS", in: 1...86400)
    let size = try bootstrap.config.int("TIERGUARD_FEEDBACK_CONNECTIONS", in: 1...64)
    pool = try await FeedbackPool(configuration: bootstrap.database, size: size)
} catch {
    logger.critical("configuration: \(error)")
    ExitCode.configuration.exit()
}
if tokens.entries.isEmpty { logger.warning("TIERGUARD_FEEDBACK_TOKENS is empty: every request will be refused (401)") }

// Feedback feeds the scorer queue (score_customer jobs): /metrics shows that queue's gauges.
bootstrap.registerQueueGauges(queue: "scorer", connection: connection)
let server = bootstrap.startHTTP(readiness: bootstrap.readinessCheck(connection))
FeedbackAPI(pool: pool, tokens: tokens, logger: logger).register(on: server)

let sweeper = Task {
    while !Task.isCancelled {
        do {
            let days = retentionDays
            let (applied, raised, purged) = try await connection.withSession { session in
                let applied = try session.withTransaction { s in try FeedbackPending.applyArrived(s) }
                let raised = try session.withTransaction { s in
                    let today = try s.query(PostgresQuery("SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date",
                                                          name: "FeedbackSQL.today"))[0].decode(PostgresDate.self, at: 0)
                    return try ComplaintClock.raiseDue(s, today: today).count
                }
                let purged = try FeedbackRetention.purge(session, olderThan: Date().addingTimeInterval(-Double(days) * 86_400))
                return (applied, raised, purged.values.reduce(0, +))
            }
            if applied + raised + purged > 0 {
                logger.info("sweep", metadata: ["pending_applied": String(applied), "complaint_alerts": String(raised),
                                                "purged": String(purged)])
            }
        } catch {
            logger.error("sweep failed", metadata: ["error": String(describing: error)])
        }
        try? await Task.sleep(for: .seconds(sweepSeconds))
    }
}

await bootstrap.waitForShutdownSignal()
sweeper.cancel()
server.stop(grace: .seconds(bootstrap.drainSeconds))
await pool.close()
await connection.close()
ExitCode.success.exit()
