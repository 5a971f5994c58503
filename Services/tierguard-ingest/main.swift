#if canImport(Glibc)
import Glibc
#endif
import FeedContract
import Foundation
import JobQueue
import Postgres
import ServiceKit
import TierGuardStore

/// tierguard-ingest: feeds into the customer archive (issue 4). A thin shell over `FeedIngestor`.
///
/// - `load FILE…` (`-` = stdin, NDJSON): each file in its own transaction; a progress line on stderr when
///   stderr is a terminal; exit 0 when every file applied (rejects included), 65 when a file failed as a whole.
/// - `watch DIR`: polls DIR every second. Completeness rule (the only one): a file is picked up when it
///   has a feed name (`*.ndjson`, `*.jsonl`, `*.json`, `customers*.csv`, …) and does not start with `.`
///   and does not end with `.tmp` or `.part`: upstream writes `.name.tmp` (or `name.part`) and renames it
///   into place, which is atomic within one filesystem. Each file is applied in one transaction and then
///   moved to `DIR/processed/`; a file unusable as a whole (unreadable, bad CSV header, unknown name) goes
///   to `DIR/failed/` with `NAME.reason` beside it. Files are taken in name order.
/// - `serve`: `POST /v1/feed` with an NDJSON body and `Authorization: Bearer TOKEN`. Tokens are configured
///   as SHA-256 hashes only (`FeedTokens`: `TIERGUARD_INGEST_TOKENS=name:sha256hex,…` or, with scopes,
///   `name:scope+scope:sha256hex`; or `_FILE`); several may be active so they can rotate. No or malformed
///   Authorization → 401; a token matching no hash, or with scopes but without `feed:write` → 403 (every
///   configured hash is compared in constant time); over its rate (`FeedRateLimiter`, per token name:
///   `TIERGUARD_INGEST_RATE_PER_MINUTE`, `TIERGUARD_INGEST_RATE_BURST`) → 429 with `Retry-After`. The
///   answer: batch id, counts, rejects (line and masked reason, at most 100).
/// Encodings: feeds are UTF-8, and a file that looks GBK-encoded is refused as a whole (`load` exits 65,
/// `watch` moves it to failed/ with the reason, `POST /v1/feed` answers 422), naming the line and byte.
/// `TIERGUARD_FEED_ENCODING=gbk` (every subcommand) or `--encoding gbk` (`load`, `watch`; it wins over the
/// variable) reads feeds as GB18030 instead, transcoded to UTF-8 while streaming (`FeedEncoding`).
/// Every subcommand migrates at start (or, with `TIERGUARD_MIGRATE=off`, waits for the migration job);
/// `application_name` is `tierguard-ingest`.
let tokensVariable = ConfigVariable("TIERGUARD_INGEST_TOKENS", default: "",
                                    "bearer tokens for POST /v1/feed, comma-separated: name:sha256hex (may post) or name:scope+scope:sha256hex (may post with scope feed:write)",
                                    isSecret: true)
let ratePerMinuteVariable = ConfigVariable("TIERGUARD_INGEST_RATE_PER_MINUTE", default: "60",
                                           "POST /v1/feed requests per minute per token name, refilled continuously; 0 = unlimited (over it: 429 with Retry-After)")
let rateBurstVariable = ConfigVariable("TIERGUARD_INGEST_RATE_BURST", default: "10",
                                       "POST /v1/feed requests a token name may send at once before the per-minute rate applies")
let encodingVariable = ConfigVariable("TIERGUARD_FEED_ENCODING", default: "utf8",
                                      "what feeds are: utf8 (the contract; a GBK-looking file is refused as a whole) or gbk (GB18030, transcoded to UTF-8 while reading); load and watch take --encoding too")
let config = ServiceConfig(service: "tierguard-ingest",
                           variables: [.databaseURL, .logLevel, .httpHost, .httpPort, .environment, ServiceBootstrap.migrate,
                                       tokensVariable, ratePerMinuteVariable, rateBurstVariable, encodingVariable])
let encodingOption = CommandSpec.Option("encoding", valueName: "utf8|gbk",
                                        help: "what the files are (default: TIERGUARD_FEED_ENCODING, else utf8); gbk transcodes GB18030 to UTF-8")
let spec = CommandSpec(
    name: "tierguard-ingest", abstract: "Loads feeds (contract v\(FeedContract.version)) into the customer archive.",
    subcommands: [
        CommandSpec(name: "load", abstract: "Apply feed files (- for stdin), each in one transaction.",
                    options: [.init("format", valueName: "ndjson|customer|account|balance|transaction|relationship_manager",
                                    help: "format when the file name does not say it (CSV: its record type)"),
                              encodingOption],
                    positionals: [.init("FILE", help: "feed files; - reads NDJSON from stdin", isVariadic: true)]),
        CommandSpec(name: "watch", abstract: "Apply complete files dropped into DIR (see --help of the service).",
                    options: [encodingOption],
                    positionals: [.init("DIR", help: "the drop folder; processed/ and failed/ are made inside")]),
        CommandSpec(name: "serve", abstract: "HTTP listener with POST /v1/feed (bearer token)."),
    ],
    version: "tierguard-ingest 0.1.0", footer: config.helpText)

let arguments: Arguments
do {
    switch try Arguments.parse(Array(CommandLine.arguments.dropFirst()), spec: spec) {
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
let databaseURL: String
do {
    logger = Logger(service: config.service, threshold: try env.logLevel())
    databaseURL = try env.string(ConfigVariable.databaseURL.name)
} catch {
    FileHandle.standardError.write(Data("tierguard-ingest: \(error)\n".utf8))
    ExitCode.configuration.exit()
}
/// `--encoding` (load, watch), else `TIERGUARD_FEED_ENCODING`; a bad option is a usage error (64), a bad
/// variable a configuration error.
let feedEncoding: FeedEncoding = {
    /// `value` parsed, or the process stops with `code` naming where the value came from.
    func parse(_ value: String, from origin: String, _ code: ExitCode) -> FeedEncoding {
        guard let parsed = FeedEncoding(setting: value) else {
            FileHandle.standardError.write(Data("tierguard-ingest: \(origin)\(value): expected utf8 or gbk\n".utf8))
            code.exit()
        }
        return parsed
    }
    if let value = arguments.option("encoding") { return parse(value, from: "--encoding ", .usage) }
    do {
        return parse(try env.string(encodingVariable.name), from: "\(encodingVariable.name)=", .configuration)
    } catch {
        FileHandle.standardError.write(Data("tierguard-ingest: \(error)\n".utf8))
        ExitCode.configuration.exit()
    }
}()
PersonalDataKeys.requireAtStartup(logger)
let postgres = PostgresConfiguration(databaseURL, applicationName: "tierguard-ingest")

/// Connects and runs the shared schema step (`ServiceBootstrap.prepareSchema`: migrate, or with
/// `TIERGUARD_MIGRATE=off` wait for the migration job). A refused superuser exits 78.
func connectAndMigrate() throws -> PostgresSession {
    let session = try PostgresSession(configuration: postgres)
    do {
        _ = try ServiceBootstrap.prepareSchema(session, config: env, logger: logger)
    } catch let refused as MigrationGuard.SuperuserRefused {
        logger.critical("cannot start: \(refused)")
        ExitCode.configuration.exit()
    }
    return session
}

func summary(_ r: IngestResult) -> Logger.Metadata {
    ["batch_id": "\(r.batchId)", "accepted": "\(r.accepted)", "rejected": "\(r.rejected)", "unchanged": "\(r.unchanged)",
     "pending": "\(r.pending)", "applied_pending": "\(r.appliedPending)", "jobs": "\(r.jobsEnqueued)",
     "seconds": String(format: "%.3f", r.seconds),
     "trace_id": r.traceparent.flatMap(TraceContext.init(traceparent:))?.traceID ?? ""]
}

func explicitFormat(_ name: String?) -> FeedFormat? {
    guard let name else { return nil }
    if name == "ndjson" { return .ndjson }
    return FeedRecordType(rawValue: name).map { .csv($0) }
}

switch arguments.subcommands.first {
case "load":
    do {
        let session = try connectAndMigrate()
        defer { session.close() }
        var failed = false
        for path in arguments.positionals {
            var options = IngestOptions()
            options.encoding = feedEncoding
            if isatty(2) == 1 {
                let started = monotonicSeconds()
                options.progress = { lines in
                    let rate = Double(lines) / max(monotonicSeconds() - started, 0.001)
                    FileHandle.standardError.write(Data("\r\(path): \(lines) lines read, \(Int(rate)) lines/s   ".utf8))
                }
            }
            do {
                let result = try FeedIngestor.ingest(session: session, path: path,
                                                     format: explicitFormat(arguments.option("format")), options: options)
                if isatty(2) == 1 { FileHandle.standardError.write(Data("\r".utf8)) }
                logger.info("feed applied", metadata: summary(result).merging(["file": path]) { a, _ in a })
                print("\(path): batch \(result.batchId): \(result.accepted) accepted, \(result.rejected) rejected, \(result.unchanged) unchanged, \(result.pending) pending, \(result.appliedPending) earlier pending applied, \(result.jobsEnqueued) scoring jobs, \(String(format: "%.2f", result.seconds)) s")
                for reject in result.sampleRejects.prefix(20) { print("  \(reject.reason)") }
                if result.rejected > 20 { print("  … \(result.rejected - 20) more: tierguardctl rejects --batch \(result.batchId)") }
            } catch let failure as IngestFileFailure {
                failed = true
                logger.error("feed failed as a whole", metadata: ["file": path, "reason": failure.message])
                print("\(path): failed as a whole, nothing applied: \(failure.message)")
            }
        }
        (failed ? ExitCode.dataError : ExitCode.success).exit()
    } catch {
        logger.error("load failed", metadata: ["error": "\(error)"])
        ExitCode.failure.exit()
    }

case "watch":
    guard let dir = arguments.positionals.first else { print(spec.usage(path: ["watch"])); ExitCode.usage.exit() }
    let signals = SignalWatcher()
    do {
        let session = try connectAndMigrate()
        defer { session.close() }
        let fm = FileManager.default
        for sub in ["processed", "failed"] { try fm.createDirectory(atPath: "\(dir)/\(sub)", withIntermediateDirectories: true) }
        /// A file that failed as a whole goes to failed/ with NAME.reason beside it.
        func moveToFailed(_ name: String, reason: String) throws {
            try? fm.removeItem(atPath: "\(dir)/failed/\(name)")
            try fm.moveItem(atPath: "\(dir)/\(name)", toPath: "\(dir)/failed/\(name)")
            try Data((reason + "\n").utf8).write(to: URL(fileURLWithPath: "\(dir)/failed/\(name).reason"))
        }
        logger.info("watching", metadata: ["dir": dir])
        while !signals.isShutdownRequested {
            let names = ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).sorted().filter { name in
                !name.hasPrefix(".") && !name.hasSuffix(".tmp") && !name.hasSuffix(".part") && !name.hasSuffix(".reason")
                    && FeedFormat.inferred(fromFileName: name) != nil
            }
            for name in names where !signals.isShutdownRequested {
                let path = "\(dir)/\(name)"
                var isDirectory: ObjCBool = false
                guard fm.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                do {
                    var options = IngestOptions()
                    options.encoding = feedEncoding
                    let result = try FeedIngestor.ingest(session: session, path: path, source: .watch, options: options)
                    logger.info("feed applied", metadata: summary(result).merging(["file": name]) { a, _ in a })
                    try? fm.removeItem(atPath: "\(dir)/processed/\(name)")
                    try fm.moveItem(atPath: path, toPath: "\(dir)/processed/\(name)")
                } catch let failure as IngestFileFailure {
                    logger.error("feed failed as a whole", metadata: ["file": name, "reason": failure.message])
                    try moveToFailed(name, reason: failure.message)
                } catch let refused as PostgresError
                            where ["22", "23"].contains(where: { refused.sqlState?.hasPrefix($0) == true }) {
                    // The database refused this file's content (SQLSTATE class 22 data exception, 23
                    // integrity constraint): the file fails as a whole, like a bad header, and the watch goes
                    // on with the next one. Any other error (connection, shutdown, timeout, disk full) is
                    // not the file's fault: it stays and is retried.
                    let reason = "the database refused the feed: " + PersonalDataScrubber.scrub(refused.description)
                    logger.error("feed failed as a whole", metadata: ["file": name, "reason": reason])
                    try moveToFailed(name, reason: reason)
                } catch {
                    // Not the file's fault (connection lost, server restarting): keep the file, reconnect,
                    // and try it again on the next round.
                    logger.error("feed not applied; will retry", metadata: ["file": name, "error": "\(error)"])
                    try? session.reconnect()
                    break
                }
            }
            _ = signals.waitForShutdown(timeout: .seconds(1))
        }
        ExitCode.success.exit()
    } catch {
        logger.error("watch failed", metadata: ["error": "\(error)"])
        ExitCode.failure.exit()
    }

case "serve":
    let signals = SignalWatcher()
    let tokens: FeedTokens
    let limiter: FeedRateLimiter
    do {
        tokens = try FeedTokens(parsing: try env.string(tokensVariable.name), variable: tokensVariable.name)
        limiter = FeedRateLimiter(perMinute: try env.int(ratePerMinuteVariable.name, in: 0...1_000_000),
                                  burst: try env.int(rateBurstVariable.name, in: 1...1_000_000))
        _ = try connectAndMigrate()
    } catch {
        logger.error("cannot start", metadata: ["error": "\(error)"])
        ExitCode.configuration.exit()
    }
    let connection = try await PostgresConnection(configuration: postgres)
    // /metrics: the rejects counter, and the gauges of the queue ingest feeds (scorer), read through a
    // connection of their own so a scrape never waits behind a feed's transaction.
    let metrics = MetricsRegistry()
    let rejects = metrics.counter("tierguard_ingest_rejects_total", help: "Feed lines rejected (stored in ingest_rejects)")
    let metricsConnection = try await PostgresConnection(configuration: postgres)
    JobQueueStats.registerGauges(on: metrics, connection: metricsConnection, queues: ["scorer"])
    let server: HTTPServer
    do {
        server = HTTPServer(configuration: .init(host: try env.string(ConfigVariable.httpHost.name),
                                                 port: try env.int(ConfigVariable.httpPort.name, in: 0...65535)),
                            logger: logger, metrics: metrics)
    } catch {
        logger.error("bad configuration", metadata: ["error": "\(error)"]); ExitCode.configuration.exit()
    }
    if tokens.entries.isEmpty { logger.warning("TIERGUARD_INGEST_TOKENS is empty: every POST /v1/feed will be refused") }
    server.route("POST", "/v1/feed", FeedRoute.handler(tokens: tokens, limiter: limiter, connection: connection,
                                                       logger: logger, rejects: rejects, encoding: feedEncoding))
    do {
        let port = try server.start()
        logger.info("listening", metadata: ["port": "\(port)"])
    } catch {
        logger.error("cannot listen", metadata: ["error": "\(error)"]); ExitCode.unavailable.exit()
    }
    for await _ in signals.signals() { break }
    server.stop()
    await connection.close()
    await metricsConnection.close()
    ExitCode.success.exit()

default:
    print(spec.usage())
    ExitCode.usage.exit()
}

/// `POST /v1/feed`, outside the main actor: the handler runs on the server's tasks and does its
/// database work on the `PostgresConnection`'s own thread.
enum FeedRoute {
    struct Answer: Codable {
        var batch_id: Int64; var accepted: Int; var rejected: Int; var unchanged: Int; var pending: Int
        var applied_pending: Int; var jobs_enqueued: Int; var rejects: [IngestRejectSummary]
    }

    static func json(_ status: Int, _ body: some Encodable) -> HTTPResponse {
        let data = (try? JSONEncoder().encode(body)) ?? Data("{}".utf8)
        return HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: [UInt8](data))
    }

    static func handler(tokens: FeedTokens, limiter: FeedRateLimiter, connection: PostgresConnection,
                        logger: Logger, rejects: Counter, encoding: FeedEncoding) -> HTTPServer.Handler {
        return { request in
            let tokenName: String
            switch tokens.verify(authorization: request.headers.values("Authorization").first) {
            case .missing:
                var response = json(401, ["error": "missing bearer token"])
                response.headers.add("WWW-Authenticate", "Bearer")
                return response
            case .invalid: return json(403, ["error": "token not accepted"])
            case .lacksScope(let name):
                logger.warning("feed refused: token lacks scope", metadata: ["token": name, "scope": FeedTokens.feedWrite])
                return json(403, ["error": "token lacks scope \(FeedTokens.feedWrite)"])
            case .allowed(let name): tokenName = name
            }
            if let retryAfter = limiter.acquire(tokenName) {
                var response = json(429, ["error": "too many feeds from \(tokenName); retry after \(retryAfter) s"])
                response.headers.add("Retry-After", String(retryAfter))
                return response
            }
            let body = request.body
            do {
                let result = try await connection.withSession { session in
                    var options = IngestOptions()
                    options.encoding = encoding
                    return try FeedIngestor.ingest(session: session, bytes: body, source: .http, fileName: "http:\(tokenName)",
                                                   options: options)
                }
                logger.info("feed applied", metadata: summary(result).merging(["token": tokenName]) { a, _ in a })
                rejects.increment(by: Double(result.rejected))
                return json(200, Answer(batch_id: result.batchId, accepted: result.accepted, rejected: result.rejected,
                                        unchanged: result.unchanged, pending: result.pending,
                                        applied_pending: result.appliedPending, jobs_enqueued: result.jobsEnqueued,
                                        rejects: result.sampleRejects))
            } catch let failure as IngestFileFailure {
                return json(422, ["error": failure.message])
            } catch {
                logger.error("feed not applied", metadata: ["error": "\(error)"])
                return json(503, ["error": "the archive is not available; retry"])
            }
        }
    }
}
