import Foundation
import JobQueue
import PersonalDataVault
import Postgres
import ServiceKit

/// The start-up every TierGuard service shares: parse `--help`/`--version`, resolve configuration
/// (printed with secrets masked), connect with retries, migrate under the advisory lock, serve
/// `/livez`, `/readyz` and `/metrics`, and watch SIGTERM/SIGINT.
///
/// A service's `main.swift` stays thin: it declares its variables and subcommands, calls
/// `ServiceBootstrap.start`, and registers its routes and workers on the result.
public struct ServiceBootstrap: Sendable {
    public let service: String
    public let config: EnvironmentConfig
    public let logger: Logger
    public let metrics: MetricsRegistry
    public let signals: SignalWatcher
    public let database: PostgresConfiguration
    public let arguments: Arguments

    /// Variables every service reads.
    public static let commonVariables: [ConfigVariable] = [
        .databaseURL, .logLevel, .httpHost, .httpPort, .environment,
        ConfigVariable("TIERGUARD_DRAIN_SECONDS", default: "20",
                       "on SIGTERM, how long running jobs may finish before the rest are released"),
        listenDatabaseURL, listen, migrate,
    ]

    /// `off` where each service connects as its own role (no DDL right, deploy/SECURITY.md "Service
    /// logins"): the migration job applies migrations as the owning role and the service waits for them.
    public static let migrate = ConfigVariable(
        "TIERGUARD_MIGRATE", default: "on",
        "on: apply pending migrations at start-up; off: wait up to 300 s for the migration job to apply them (per-service database roles)")
    /// How long a service with `TIERGUARD_MIGRATE=off` waits for the migration job, in seconds.
    static let migrationWaitSeconds = 300.0

    /// Behind PgBouncer in transaction mode, `TIERGUARD_DATABASE_URL` names the pool (claims,
    /// completions) and this names a direct or session-mode connection for LISTEN.
    public static let listenDatabaseURL = ConfigVariable(
        "TIERGUARD_LISTEN_DATABASE_URL", default: "",
        "LISTEN connection (direct or PgBouncer session mode) when TIERGUARD_DATABASE_URL is a transaction-mode pool; unset = the same URL",
        isSecret: true)
    /// `off` = poll-only: no LISTEN at all, new jobs are found by polling every second.
    public static let listen = ConfigVariable(
        "TIERGUARD_LISTEN", default: "on",
        "on: wake workers with LISTEN/NOTIFY; off: poll-only (a new job waits up to the poll interval, 1 s)")

    /// Parses the command line; prints help/version or a usage error and exits; otherwise resolves
    /// the configuration and creates the logger. Does not touch the database yet.
    public static func parse(service: String, version: String, abstract: String,
                             variables: [ConfigVariable], subcommands: [CommandSpec] = [],
                             flags: [CommandSpec.Flag] = [], options: [CommandSpec.Option] = [],
                             positionals: [CommandSpec.Positional] = []) -> ServiceBootstrap {
        let signals = SignalWatcher()
        let configSpec = ServiceConfig(service: service, variables: commonVariables + variables)
        let spec = CommandSpec(name: service, abstract: abstract, flags: flags, options: options,
                               positionals: positionals, subcommands: subcommands,
                               version: "\(service) \(version)", footer: configSpec.helpText)
        let arguments = Arguments.parseCommandLine(spec: spec)
        let config = configSpec.resolve()
        let problems = config.validate()
        let logger = Logger(service: service, threshold: (try? config.logLevel()) ?? .info)
        if !problems.isEmpty {
            for problem in problems { logger.critical("configuration: \(problem)") }
            ExitCode.configuration.exit()
        }
        logger.info("starting \(service) \(version)", metadata: ["config": config.startupSummary])
        // Personal identifiers are sealed with the keys from TIERGUARD_PII_KEYS_FILE (PersonalDataVault):
        // production refuses to start without them; elsewhere the development key is used, with a warning.
        switch PersonalDataVault.processResult {
        case .success(let vault): if let warning = vault.startupWarning { logger.warning(warning) }
        case .failure(let error):
            logger.critical("configuration: \(error)")
            ExitCode.configuration.exit()
        }
        let url: String
        do { url = try config.string(ConfigVariable.databaseURL.name) } catch {
            logger.critical("configuration: \(error)")
            ExitCode.configuration.exit()
        }
        return ServiceBootstrap(service: service, config: config, logger: logger, metrics: MetricsRegistry(),
                                signals: signals, database: PostgresConfiguration(url, applicationName: service),
                                arguments: arguments)
    }

    /// Connects (retrying with backoff for up to `reconnectDeadlineSeconds`) and runs `prepareSchema` on
    /// the connection's own thread. Exits 78 for a refused superuser, 69 when the database cannot be
    /// reached or the migrations do not arrive.
    public func connectAndMigrate() async -> PostgresConnection {
        do {
            let connection = try await PostgresConnection(configuration: database)
            let config = self.config, logger = self.logger
            let applied = try await connection.withSession { session in
                try Self.prepareSchema(session, config: config, logger: logger)
            }
            for migration in applied {
                logger.notice("applied migration \(migration.component) \(migration.version)_\(migration.name)")
            }
            return connection
        } catch let refused as MigrationGuard.SuperuserRefused {
            logger.critical("cannot start: \(refused)")
            ExitCode.configuration.exit()
        } catch {
            logger.critical("cannot start: \(error)")
            ExitCode.unavailable.exit()
        }
    }

    /// The schema step of every executable's start-up, on a thread that owns `session`:
    /// `TIERGUARD_MIGRATE=on` refuses a superuser in production (`MigrationGuard`) and applies pending
    /// migrations under the advisory lock; `off` applies nothing and waits, polling every 2 s for up to
    /// `migrationWaitSeconds`, until the migration job has applied them all, then throws (the service
    /// exits 69 and is restarted).
    public static func prepareSchema(_ session: PostgresSession, config: EnvironmentConfig,
                                     logger: Logger) throws -> [Migrator.Applied] {
        guard (try? config.string(migrate.name)) == "off" else {
            try MigrationGuard.check(session, production: MigrationGuard.isProduction(config))
            return try TierGuardSchema.migrate(session)
        }
        let deadline = monotonicSeconds() + migrationWaitSeconds
        var logged = false
        while true {
            let pending = try Migrator.pending(session, TierGuardSchema.migrations())
                .map { "\($0.component) \($0.version)_\($0.name)" }
            if pending.isEmpty { return [] }
            if monotonicSeconds() > deadline {
                throw MigrationError(message: "TIERGUARD_MIGRATE=off and after \(Int(migrationWaitSeconds)) s these "
                                     + "migrations are still pending: \(pending.joined(separator: ", ")); run the migration job")
            }
            if !logged {
                logger.notice("waiting for the migration job", metadata: ["pending": pending.joined(separator: ", ")])
                logged = true
            }
            Thread.sleep(forTimeInterval: 2)
        }
    }

    /// The readiness check: the database answers and no migration is pending.
    public func readinessCheck(_ connection: PostgresConnection) -> HTTPServer.ReadinessCheck {
        { @Sendable in
            do {
                let pending = try await connection.withSession { session in
                    try Migrator.pending(session, TierGuardSchema.migrations()).map { "\($0.component) \($0.version)_\($0.name)" }
                }
                return pending.isEmpty ? [] : ["migrations pending: " + pending.joined(separator: ", ")]
            } catch {
                return ["database unreachable: \(error)"]
            }
        }
    }

    /// Starts the HTTP listener with the shared routes; exits 69 when the port cannot be bound.
    public func startHTTP(readiness: HTTPServer.ReadinessCheck?) -> HTTPServer {
        do {
            let host = try config.string(ConfigVariable.httpHost.name)
            let port = try config.int(ConfigVariable.httpPort.name, in: 0...65535)
            let server = HTTPServer(configuration: HTTPServerConfiguration(host: host, port: port), logger: logger,
                                    metrics: metrics, readiness: readiness)
            let bound = try server.start()
            logger.info("listening on \(host):\(bound)")
            return server
        } catch {
            logger.critical("cannot start the HTTP listener: \(error)")
            ExitCode.unavailable.exit()
        }
    }

    /// A worker configuration for `queue` with this service's database and LISTEN settings
    /// (`TIERGUARD_LISTEN_DATABASE_URL`, `TIERGUARD_LISTEN`). Exits 78 on a bad value.
    public func workerConfiguration(queue: String) -> JobWorkerConfiguration {
        var configuration = JobWorkerConfiguration(database: database, queue: queue, service: service)
        do {
            configuration.listen = try config.bool(Self.listen.name)
            if let url = try config.optionalString(Self.listenDatabaseURL.name), !url.isEmpty {
                configuration.listenDatabase = PostgresConfiguration(url, applicationName: service + "-listen")
            }
        } catch {
            logger.critical("configuration: \(error)")
            ExitCode.configuration.exit()
        }
        return configuration
    }

    /// Registers the queue gauges (`tierguard_queue_depth`, `tierguard_queue_oldest_available_seconds`,
    /// `tierguard_workers_live`) of `queue` on this service's `/metrics`, read through `connection`.
    public func registerQueueGauges(queue: String, connection: PostgresConnection, maintenanceInterval: Double = 1) {
        JobQueueStats.registerGauges(on: metrics, connection: connection, queues: [queue],
                                     maintenanceInterval: maintenanceInterval)
    }

    /// Seconds running jobs may take to finish after SIGTERM.
    public var drainSeconds: Double {
        Double((try? config.int("TIERGUARD_DRAIN_SECONDS", in: 0...3600)) ?? 20)
    }

    /// Suspends until SIGTERM or SIGINT.
    public func waitForShutdownSignal() async {
        for await signal in signals.signals() {
            logger.notice("received signal \(signal), shutting down")
            return
        }
    }
}
