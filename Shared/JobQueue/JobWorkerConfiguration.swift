import Foundation
import Postgres

/// How one worker process consumes one queue. Defaults are stated once, here.
public struct JobWorkerConfiguration: Sendable {
    /// The database; the worker opens 3 sessions of its own (claim loop, LISTEN, maintenance) plus
    /// `handlerConnections` for handlers.
    public var database: PostgresConfiguration
    /// The queue consumed (the consuming service, e.g. `scorer`); LISTEN channel `tg_jobs_<queue>`.
    public var queue: String
    /// The service name in the worker id `host:pid:service`.
    public var service: String
    /// Handlers running at once (Swift tasks). Default 10.
    public var concurrency: Int = 10
    /// Jobs claimed per statement. Default 100. The worker holds up to 2 × this many claimed jobs
    /// (claimed ones wait locally for a free handler) and claims again once it holds no more than
    /// one batch, so each commit carries about one batch of completions and one of claims.
    public var claimBatchSize: Int = 100
    /// The lease a claim takes, in seconds (database clock). Default 30. The maintenance thread
    /// extends the leases of held jobs once they are past half their lease; a job whose worker died
    /// is rescued at most `leaseSeconds + maintenanceInterval` after its last extension.
    public var leaseSeconds: Double = 30
    /// When no NOTIFY came, the claim loop looks anyway after this long, so a lost notification
    /// delays a job by at most this. Default 1 s.
    public var pollInterval: Double = 1
    /// Heartbeat, lease extension, rescue, staging, pruning, periodic ticks, pause flag: every this
    /// many seconds. Default 1 s (so a scheduled job starts at most about 1 s after its run_at).
    public var maintenanceInterval: Double = 1
    /// Finished jobs wait at most this long in memory for the next batch statement. Default 10 ms.
    /// A crash inside this window re-runs those jobs after their lease (at least once).
    public var completionFlushInterval: Double = 0.010
    /// Completed, cancelled and discarded jobs are deleted this long after they finished, in
    /// batches of 1,000 (at most 10 batches per maintenance tick). Default 7 days.
    public var retentionSeconds: Double = 7 * 86_400
    /// Connections lent to handlers (`JobContext.database`). Default 2.
    public var handlerConnections: Int = 2
    public var backoff: JobBackoff = .standard
    public var periodicJobs: [PeriodicJob] = []
    /// Where the LISTEN thread connects; nil = `database`. Behind PgBouncer in transaction mode
    /// (`database` = the pool) LISTEN must use a direct or session-mode connection, because a
    /// transaction-mode pool hands each statement to any server connection and the LISTEN is lost
    /// (`TIERGUARD_LISTEN_DATABASE_URL`). Claims, completions and maintenance stay on `database`.
    public var listenDatabase: PostgresConfiguration?
    /// False = poll-only (`TIERGUARD_LISTEN=off`): no LISTEN thread; the claim loop looks every
    /// `pollInterval`, so a new job waits at most about that long. For deployments where no
    /// LISTEN-capable connection exists. Default true.
    public var listen: Bool = true
    /// `host:pid:service`, recorded in `attempted_by` and `tg_workers`.
    public var workerID: String

    public init(database: PostgresConfiguration, queue: String, service: String) {
        self.database = database
        self.queue = queue
        self.service = service
        self.workerID = "\(Self.hostName):\(getpid()):\(service)"
    }

    static var hostName: String { ProcessInfo.processInfo.hostName }

    /// The LISTEN channel of a queue.
    public static func channel(queue: String) -> String { "tg_jobs_" + queue }
}
