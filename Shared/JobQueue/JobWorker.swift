import Foundation
import Postgres
import ServiceKit
import Synchronization

/// A job claimed by this worker, waiting for or running in a handler.
struct ClaimedJob: Sendable {
    var id: Int64
    var kind: String
    var argsJSON: String
    var attempt: Int
    var maxAttempts: Int
    var leaseToken: Int64
    var traceparent: String?
    var priority: Int
    var runAt: Double
}

/// How a job ended in this worker, before the database knows.
enum JobOutcome: Sendable {
    case complete
    case fail(message: String, delay: Double)
    case snooze(seconds: Double)
    case cancel(reason: String)
    case release

    var action: String {
        switch self {
        case .complete: "complete"
        case .fail: "fail"
        case .snooze: "snooze"
        case .cancel: "cancel"
        case .release: "release"
        }
    }
}

struct FinishedJob: Sendable {
    var job: ClaimedJob
    var outcome: JobOutcome
}

/// The worker of one queue in one process.
///
/// Threads (each owns its `PostgresSession`; none of them is a cooperative-pool thread):
/// - the claim loop: one statement per batch that completes the finished jobs and claims the next
///   ones (`JobSQL.completeAndClaim`), plus `JobSQL.settle` for failures, snoozes, cancels and
///   releases in the same transaction; it sleeps on a `DispatchSemaphore` that handlers, the
///   listener and shutdown signal, or until the poll interval passes;
/// - the listener: `LISTEN tg_jobs_<queue>`, wakes the claim loop on each notification, and after
///   a lost connection reconnects and wakes it anyway (notifications sent meanwhile are lost);
/// - maintenance, every `maintenanceInterval`: heartbeat row, lease extension, rescue of expired
///   leases of any worker, staging of due scheduled/retryable jobs, pruning, periodic ticks, the
///   pause flag, per-kind statistics.
///
/// Handlers run as Swift tasks, at most `concurrency` at once; they report to a `Mutex`-protected
/// buffer and wake the claim loop. Shared state lives behind that one `Mutex`.
public final class JobWorker: Sendable {
    public let configuration: JobWorkerConfiguration
    let registry: JobRegistry
    let logger: Logger
    let metrics: JobWorkerMetrics?
    private let state = Mutex(State())
    private let claimWake = DispatchSemaphore(value: 0)
    private let maintenanceWake = DispatchSemaphore(value: 0)
    private let pool = Mutex<JobDatabasePool?>(nil)

    struct KindFigures {
        var completed: Int64 = 0
        var failed: Int64 = 0
        var totalSeconds: Double = 0
        var maxSeconds: Double = 0
    }

    struct State: ~Copyable {
        var queued: [ClaimedJob] = []
        var queuedHead = 0
        var executing: [Int64: ClaimedJob] = [:]
        var runners = 0
        /// The runner tasks alive, so that handlers still running at the drain deadline can be cancelled.
        var runnerTasks: [Int: Task<Void, Never>] = [:]
        var nextRunnerID = 0
        /// Every job whose lease this worker holds in the database (claimed, not yet settled there).
        var held: [Int64: Int64] = [:]
        var finished: [FinishedJob] = []
        var oldestFinishedAt: Double?
        var wakeRequested = false
        var notified = false
        var paused = false
        var stopping = false
        var drainDeadline = Double.infinity
        var claimLoopDone = false
        var threadsStop = false
        var threadsRunning = 0
        var kindFigures: [String: KindFigures] = [:]

        var queuedCount: Int { queued.count - queuedHead }
        var nextQueued: ClaimedJob? { queuedHead < queued.count ? queued[queuedHead] : nil }
        mutating func popQueued() -> ClaimedJob? {
            guard queuedHead < queued.count else { return nil }
            let job = queued[queuedHead]
            queuedHead += 1
            if queuedHead > 256 && queuedHead * 2 > queued.count {
                queued.removeFirst(queuedHead)
                queuedHead = 0
            }
            return job
        }
        mutating func takeAllQueued() -> [ClaimedJob] {
            let rest = Array(queued[queuedHead...])
            queued = []; queuedHead = 0
            return rest
        }
    }

    public init(configuration: JobWorkerConfiguration, registry: JobRegistry, logger: Logger,
                metrics: MetricsRegistry? = nil) {
        self.configuration = configuration
        self.registry = registry
        self.logger = logger.with(Logger.Key.jobQueue, configuration.queue).with("worker", configuration.workerID)
        self.metrics = metrics.map(JobWorkerMetrics.init)
    }

    public var workerID: String { configuration.workerID }

    // MARK: Start and stop

    /// Connects (handler pool, then one session per thread) and starts the three threads.
    /// Throws if any connection fails; nothing keeps running then.
    public func start() async throws {
        let pool = try await JobDatabasePool(configuration: configuration.database, size: configuration.handlerConnections)
        self.pool.withLock { $0 = pool }
        let onReconnect: @Sendable () -> Void = { [metrics] in metrics?.reconnects.increment() }
        do {
            try await startThread("jobs-claim") { [self] session in
                session.onReconnect = onReconnect
                self.claimLoop(session)
            }
            if configuration.listen {
                try await startThread("jobs-listen", database: configuration.listenDatabase ?? configuration.database) {
                    [self] session in
                    session.onReconnect = onReconnect
                    self.listenLoop(session)
                }
            }
            try await startThread("jobs-maint") { [self] session in
                session.onReconnect = onReconnect
                self.maintenanceLoop(session)
            }
        } catch {
            await shutdown(deadline: .zero)
            throw error
        }
        logger.info("worker started", metadata: [
            "concurrency": String(configuration.concurrency), "batch": String(configuration.claimBatchSize),
            "lease_seconds": String(configuration.leaseSeconds), "poll_seconds": String(configuration.pollInterval),
            "listen": !configuration.listen ? "off" : configuration.listenDatabase == nil ? "on" : "separate connection",
        ])
    }

    /// Starts a thread that connects its own session, and returns once it connected (or throws).
    private func startThread(_ name: String, database: PostgresConfiguration? = nil,
                             _ run: @escaping @Sendable (PostgresSession) -> Void) async throws {
        let configuration = database ?? configuration.database
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            state.withLock { $0.threadsRunning += 1 }
            let thread = Thread { [self] in
                defer { self.state.withLock { $0.threadsRunning -= 1 } }
                let session: PostgresSession
                do {
                    session = try PostgresSession(configuration: configuration)
                } catch {
                    continuation.resume(throwing: error)
                    return
                }
                continuation.resume()
                run(session)
                session.close()
            }
            thread.name = name
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Graceful shutdown: stop claiming, release jobs not yet started, let running handlers finish
    /// until `deadline` from now, release the rest back to `available` (fenced, attempt not
    /// counted) and cancel their tasks, flush completions, delete this worker's `tg_workers` row,
    /// close connections. Returns when all of that is done.
    public func shutdown(deadline: Duration) async {
        let seconds = Double(deadline.components.seconds) + Double(deadline.components.attoseconds) / 1e18
        beginShutdown(deadlineSeconds: seconds)
        while state.withLock({ $0.threadsRunning > 0 }) {
            try? await Task.sleep(for: .milliseconds(5))
        }
        if let pool = self.pool.withLock({ $0 }) { await pool.close() }
        logger.info("worker stopped")
    }

    /// Asks the threads to stop, without waiting (for a signal handler thread).
    public func beginShutdown(deadlineSeconds: Double) {
        state.withLock { state in
            if !state.stopping {
                state.stopping = true
                state.drainDeadline = monotonicSeconds() + deadlineSeconds
            }
        }
        claimWake.signal()
    }

    /// Runs the worker until `signals` asks for shutdown, then drains for `deadline`.
    public func run(until signals: SignalWatcher, deadline: Duration) async {
        for await _ in signals.signals() { break }
        logger.info("shutdown requested; draining", metadata: ["deadline_seconds": "\(deadline.components.seconds)"])
        await shutdown(deadline: deadline)
    }

    /// Jobs claimed and not yet settled in the database (for tests and `/metrics`).
    public var heldJobs: Int { state.withLock { $0.held.count } }

    // MARK: Handlers

    private func startRunners(_ count: Int) {
        for _ in 0..<count {
            // Created under the lock, so the task's own removal (under the same lock) always finds it.
            state.withLock { state in
                let id = state.nextRunnerID
                state.nextRunnerID += 1
                state.runnerTasks[id] = Task { [self] in
                    while case let jobs = self.takeNext(), let first = jobs.first {
                        if jobs.count > 1, let batch = registry.batchHandlers[first.kind] {
                            await self.executeBatch(jobs, batch.body)
                        } else {
                            await self.execute(first)
                        }
                    }
                    self.state.withLock { _ = $0.runnerTasks.removeValue(forKey: id) }
                }
            }
        }
    }

    /// At the drain deadline, after their jobs were released (fenced) in the database: cancels the
    /// handlers still running, so a well-behaved handler (one that awaits cancellable work such as
    /// `Task.sleep` or checks `Task.isCancelled`) stops instead of running on past the deadline. Its
    /// late writes are refused anyway by the lease token; cancelling saves the work and the resources.
    private func cancelRunnersPastDeadline(released: Int) {
        let tasks = state.withLock { Array($0.runnerTasks.values) }
        guard released > 0, !tasks.isEmpty else { return }
        for task in tasks { task.cancel() }
        logger.warning("drain deadline passed; running handlers released and cancelled",
                       metadata: ["released": String(released)])
    }

    /// The next queued job, with the jobs of the same kind queued right after it when the kind has a
    /// batch handler (up to its `maxJobs`); empty when there is nothing to run.
    private func takeNext() -> [ClaimedJob] {
        state.withLock { state in
            guard !state.stopping, let job = state.popQueued() else {
                state.runners -= 1
                return []
            }
            var jobs = [job]
            let limit = registry.batchHandlers[job.kind]?.maxJobs ?? 1
            while jobs.count < limit, let next = state.nextQueued, next.kind == job.kind, let popped = state.popQueued() {
                jobs.append(popped)
            }
            for job in jobs { state.executing[job.id] = job }
            return jobs
        }
    }

    private func makeContext(_ job: ClaimedJob, pool: JobDatabasePool) -> JobContext {
        JobContext(
            id: job.id, queue: configuration.queue, kind: job.kind, attempt: job.attempt, maxAttempts: job.maxAttempts,
            leaseToken: job.leaseToken, traceparent: job.traceparent, logger: jobLogger(job), database: pool)
    }

    /// Runs `jobs` (one kind) with the kind's batch handler; each job it did not complete then runs on
    /// its own (`execute`), see `JobBatch`. A completed job is counted with an equal share of the
    /// batch's time.
    private func executeBatch(_ jobs: [ClaimedJob], _ body: JobRegistry.BatchBody) async {
        let started = monotonicSeconds()
        let pool = self.pool.withLock { $0 }!
        let batch = JobBatch(jobs: jobs.map { makeContext($0, pool: pool) }, database: pool)
        do {
            try await body(jobs.map(\.argsJSON), batch)
        } catch {
            logger.warning("batch failed; its jobs run one by one", metadata: [
                Logger.Key.jobKind: jobs[0].kind, "jobs": String(jobs.count),
                Logger.Key.error: PersonalDataScrubber.scrub(String(describing: error))])
        }
        let completed = batch.completedIDs
        if let metrics {
            let labels = ["queue": configuration.queue, "kind": jobs[0].kind]
            metrics.batches.increment(labels: labels)
            let alone = jobs.count { !completed.contains($0.id) }
            if alone > 0 { metrics.batchFallbacks.increment(by: Double(alone), labels: labels) }
        }
        let share = (monotonicSeconds() - started) / Double(max(1, completed.count))
        for job in jobs where completed.contains(job.id) {
            finish(job, outcome: nil, seconds: share, failed: false, counted: true)
        }
        for job in jobs where !completed.contains(job.id) {
            await execute(job)
        }
    }

    private func execute(_ job: ClaimedJob) async {
        let started = monotonicSeconds()
        let pool = self.pool.withLock { $0 }!
        let context = makeContext(job, pool: pool)
        var outcome: JobOutcome?
        do {
            guard let handler = registry.handlers[job.kind] else {
                throw NoHandler(kind: job.kind)
            }
            switch try await handler(job.argsJSON, context) {
            case .completed: outcome = .complete
            case .completedInTransaction: outcome = nil
            case .snooze(let seconds): outcome = .snooze(seconds: max(0, seconds))
            case .cancel(let reason): outcome = .cancel(reason: String(reason.prefix(2_000)))
            }
        } catch let lost as JobLeaseLost {
            context.logger.warning("lease lost; the job belongs to another attempt", metadata: [Logger.Key.error: lost.description])
            finish(job, outcome: nil, seconds: monotonicSeconds() - started, failed: false, counted: false)
            return
        } catch {
            let message = PersonalDataScrubber.scrub(String(describing: error))
            context.logger.warning("job failed", metadata: [Logger.Key.error: message])
            outcome = .fail(message: String(message.prefix(2_000)), delay: configuration.backoff.delay(job.attempt))
        }
        let failed: Bool = if case .fail = outcome { true } else { false }
        finish(job, outcome: outcome, seconds: monotonicSeconds() - started, failed: failed, counted: true)
    }

    /// The per-job logger: job id, kind, attempt, and `trace_id` when the job row carries a valid
    /// W3C traceparent, so one feed's path through ingest → scorer → notifier can be followed.
    private func jobLogger(_ job: ClaimedJob) -> Logger {
        let base = logger.with(jobID: job.id, kind: job.kind, attempt: job.attempt)
        guard let trace = job.traceparent.flatMap(TraceContext.init(traceparent:)) else { return base }
        return base.with("trace_id", trace.traceID)
    }

    private func finish(_ job: ClaimedJob, outcome: JobOutcome?, seconds: Double, failed: Bool, counted: Bool) {
        let batch = configuration.claimBatchSize
        let wake = state.withLock { state -> Bool in
            state.executing[job.id] = nil
            if let outcome {
                state.finished.append(FinishedJob(job: job, outcome: outcome))
                if state.oldestFinishedAt == nil { state.oldestFinishedAt = monotonicSeconds() }
            } else {
                state.held[job.id] = nil
            }
            if counted {
                var figures = state.kindFigures[job.kind, default: KindFigures()]
                if failed { figures.failed += 1 } else { figures.completed += 1 }
                figures.totalSeconds += seconds
                figures.maxSeconds = max(figures.maxSeconds, seconds)
                state.kindFigures[job.kind] = figures
            }
            let held = state.queuedCount + state.executing.count
            let shouldWake = held <= batch || state.finished.count >= batch || state.stopping
            if shouldWake && !state.wakeRequested {
                state.wakeRequested = true
                return true
            }
            return false
        }
        if counted, let metrics {
            let labels = ["queue": configuration.queue, "kind": job.kind]
            if failed { metrics.failed.increment(labels: labels) } else { metrics.completed.increment(labels: labels) }
            metrics.duration.observe(seconds, labels: labels)
        }
        if wake { claimWake.signal() }
    }

    // MARK: Claim loop

    private struct Plan {
        var finished: [FinishedJob] = []
        var releases: [ClaimedJob] = []
        var claimLimit = 0
        var final = false
        /// Jobs whose handlers were still running when the final release was planned (the deadline passed).
        var releasedRunning = 0
        var waitSeconds: Double?
    }

    private func claimLoop(_ session: PostgresSession) {
        let batch = max(1, configuration.claimBatchSize)
        let config = configuration
        var queueLikelyEmpty = false
        var lastClaimAt = -Double.infinity
        var pendingReleases: [ClaimedJob] = []
        while true {
            let now = monotonicSeconds()
            var plan = state.withLock { state -> Plan in
                state.wakeRequested = false
                var plan = Plan()
                if state.notified { state.notified = false; queueLikelyEmpty = false }
                let held = state.queuedCount + state.executing.count
                if state.stopping {
                    pendingReleases += state.takeAllQueued()
                    if state.executing.isEmpty || now >= state.drainDeadline {
                        plan.final = true
                        plan.releasedRunning = state.executing.count
                        pendingReleases += state.executing.values
                    }
                    plan.finished = state.finished
                    plan.releases = pendingReleases
                    if !plan.final && plan.finished.isEmpty && plan.releases.isEmpty {
                        plan.waitSeconds = min(0.05, max(0, state.drainDeadline - now))
                    }
                    return plan
                }
                let pollDue = now - lastClaimAt >= config.pollInterval
                let wantClaim = !state.paused && held <= batch && (!queueLikelyEmpty || pollDue)
                let finishedCount = state.finished.count
                let flushDue = finishedCount > 0 && (held == 0 || finishedCount >= batch
                    || now - (state.oldestFinishedAt ?? now) >= config.completionFlushInterval)
                if wantClaim || flushDue {
                    plan.finished = state.finished
                    plan.claimLimit = (!state.paused && held <= batch) ? batch : 0
                    return plan
                }
                var wait = queueLikelyEmpty ? max(0.001, config.pollInterval - (now - lastClaimAt)) : 1.0
                if let oldest = state.oldestFinishedAt, finishedCount > 0 {
                    wait = min(wait, max(0.001, config.completionFlushInterval - (now - oldest)))
                }
                if state.paused { wait = min(wait, config.pollInterval) }
                plan.waitSeconds = wait
                return plan
            }
            if let wait = plan.waitSeconds {
                _ = claimWake.wait(timeout: .now() + wait)
                continue
            }
            do {
                let claimed = try runBatch(session, finished: plan.finished, releases: plan.releases, limit: plan.claimLimit)
                if plan.claimLimit > 0 {
                    lastClaimAt = monotonicSeconds()
                    queueLikelyEmpty = claimed.count < plan.claimLimit
                }
                pendingReleases = []
                let releasedIDs = Set(plan.releases.map(\.id))
                let runnersToStart = state.withLock { state -> Int in
                    state.finished.removeFirst(plan.finished.count)
                    state.oldestFinishedAt = state.finished.isEmpty ? nil : monotonicSeconds()
                    for done in plan.finished { state.held[done.job.id] = nil }
                    for id in releasedIDs { state.held[id] = nil; state.executing[id] = nil }
                    for job in claimed { state.held[job.id] = job.leaseToken }
                    // Claimed just as shutdown began: queued, so the next round releases them.
                    state.queued.append(contentsOf: claimed)
                    if state.stopping { return 0 }
                    let start = min(config.concurrency - state.runners, state.queuedCount)
                    state.runners += max(0, start)
                    return max(0, start)
                }
                if runnersToStart > 0 { startRunners(runnersToStart) }
                if plan.final {
                    cancelRunnersPastDeadline(released: plan.releasedRunning)
                    break
                }
            } catch {
                logger.error("claim batch failed; retrying", metadata: [Logger.Key.error: "\(error)"])
                plan.final = false
                if state.withLock({ $0.stopping && monotonicSeconds() > $0.drainDeadline + 10 }) { break }
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        state.withLock { $0.claimLoopDone = true; $0.threadsStop = true }
        maintenanceWake.signal()
    }

    /// One transaction: settle (fail/snooze/cancel/release), then complete and claim.
    private func runBatch(_ session: PostgresSession, finished: [FinishedJob], releases: [ClaimedJob],
                          limit: Int) throws -> [ClaimedJob] {
        var completeIDs: [Int64] = [], completeTokens: [Int64] = []
        var settleIDs: [Int64] = [], settleTokens: [Int64] = [], actions: [String] = [], messages: [String?] = []
        var delays: [String] = []
        for item in finished {
            switch item.outcome {
            case .complete:
                completeIDs.append(item.job.id); completeTokens.append(item.job.leaseToken)
            case .fail(let message, let delay):
                settleIDs.append(item.job.id); settleTokens.append(item.job.leaseToken); actions.append("fail")
                messages.append(message); delays.append(String(delay))
            case .snooze(let seconds):
                settleIDs.append(item.job.id); settleTokens.append(item.job.leaseToken); actions.append("snooze")
                messages.append(nil); delays.append(String(seconds))
            case .cancel(let reason):
                settleIDs.append(item.job.id); settleTokens.append(item.job.leaseToken); actions.append("cancel")
                messages.append(reason); delays.append("0")
            case .release:
                settleIDs.append(item.job.id); settleTokens.append(item.job.leaseToken); actions.append("release")
                messages.append(nil); delays.append("0")
            }
        }
        for job in releases {
            settleIDs.append(job.id); settleTokens.append(job.leaseToken); actions.append("release")
            messages.append(nil); delays.append("0")
        }
        if completeIDs.isEmpty && settleIDs.isEmpty && limit == 0 { return [] }
        let config = configuration
        return try session.withTransaction { session -> [ClaimedJob] in
            if !settleIDs.isEmpty {
                let settled = try JobStore.settle(session, ids: settleIDs, tokens: settleTokens, actions: actions,
                                                  messages: messages, delays: delays)
                if let metrics {
                    let kinds = Dictionary(finished.map { ($0.job.id, $0.job.kind) }, uniquingKeysWith: { a, _ in a })
                    for row in settled where row.state == "discarded" {
                        // Counted when the statement runs; a rollback after it over-counts by that batch, which
                        // an alert on "any discard in 15 min" tolerates.
                        metrics.discarded.increment(labels: ["queue": config.queue, "kind": kinds[row.id] ?? "unknown"])
                    }
                }
            }
            if completeIDs.isEmpty && limit == 0 { return [] }
            let rows = try session.query(JobSQL.completeAndClaim.binding(
                completeIDs, completeTokens, config.queue, limit, config.workerID, config.leaseSeconds))
            var claimed: [ClaimedJob] = []
            claimed.reserveCapacity(rows.count)
            for row in rows where !(try row.decode(Bool.self, at: 0)) {
                claimed.append(ClaimedJob(
                    id: try row.decode(Int64.self, at: 1), kind: try row.decode(String.self, at: 2),
                    argsJSON: try row.decode(String.self, at: 3), attempt: try row.decode(Int.self, at: 4),
                    maxAttempts: try row.decode(Int.self, at: 5), leaseToken: try row.decode(Int64.self, at: 6),
                    traceparent: try row.decode(String?.self, at: 7), priority: try row.decode(Int.self, at: 8),
                    runAt: try row.decode(Double.self, at: 9)))
            }
            claimed.sort { ($0.priority, $0.runAt, $0.id) < ($1.priority, $1.runAt, $1.id) }
            return claimed
        }
    }

    // MARK: Listener

    private func listenLoop(_ session: PostgresSession) {
        let channel = JobWorkerConfiguration.channel(queue: configuration.queue)
        var listening = false
        while !state.withLock({ $0.threadsStop }) {
            do {
                if !listening { try session.listen(channel); listening = true }
                if try session.waitForNotification(timeout: 0.25) != nil {
                    // Drain what else is buffered: one wake-up is enough.
                    while try session.waitForNotification(timeout: 0) != nil {}
                    wakeClaimLoop()
                }
            } catch {
                logger.warning("LISTEN connection lost; reconnecting", metadata: [Logger.Key.error: "\(error)"])
                Thread.sleep(forTimeInterval: 0.2)
                do { try session.reconnect(); listening = true } catch { listening = false }
                // Notifications sent while we were away are lost: look now.
                wakeClaimLoop()
            }
        }
    }

    /// Makes the claim loop claim at once (a NOTIFY arrived, or an operator resumed the queue).
    func wakeClaimLoop() {
        state.withLock { $0.notified = true }
        claimWake.signal()
    }

    // MARK: Maintenance

    private func maintenanceLoop(_ session: PostgresSession) {
        let config = configuration
        let maintenance = JobMaintenance(configuration: config, logger: logger)
        maintenance.refreshPaused(session, worker: self)
        while true {
            let stop = state.withLock { $0.threadsStop }
            if stop { break }
            maintenance.tick(session, worker: self)
            _ = maintenanceWake.wait(timeout: .now() + config.maintenanceInterval)
        }
        maintenance.flushKindStats(session, worker: self)
        do {
            try session.execute(JobSQL.deleteWorker.binding(config.workerID))
        } catch {
            logger.warning("could not delete the worker row", metadata: [Logger.Key.error: "\(error)"])
        }
    }

    // MARK: State access for maintenance

    func heldSnapshot() -> (ids: [Int64], tokens: [Int64]) {
        state.withLock { state in
            (Array(state.held.keys), state.held.keys.map { state.held[$0]! })
        }
    }

    func setPaused(_ paused: Bool) {
        let resumed = state.withLock { state -> Bool in
            let was = state.paused
            state.paused = paused
            return was && !paused
        }
        if resumed { wakeClaimLoop() }
    }

    func takeKindFigures() -> [String: KindFigures] {
        state.withLock { state in
            defer { state.kindFigures = [:] }
            return state.kindFigures
        }
    }

    func restoreKindFigures(_ figures: [String: KindFigures]) {
        state.withLock { state in
            for (kind, f) in figures {
                var current = state.kindFigures[kind, default: KindFigures()]
                current.completed += f.completed; current.failed += f.failed
                current.totalSeconds += f.totalSeconds; current.maxSeconds = max(current.maxSeconds, f.maxSeconds)
                state.kindFigures[kind] = current
            }
        }
    }
}

extension JobContext {
    /// The claimed job's W3C trace context (nil when its row carries none or an invalid one).
    public var traceContext: TraceContext? { traceparent.flatMap(TraceContext.init(traceparent:)) }

    /// The traceparent for jobs this handler enqueues: a child span of this job's trace, so the jobs it
    /// causes share its trace id; nil when this job carries no trace.
    public var childTraceparent: String? { traceContext?.child().traceparent }
}

/// A job whose kind this worker has no handler for: a failure, retried with backoff.
struct NoHandler: Error, CustomStringConvertible {
    var kind: String
    var description: String { "no handler registered for kind \(kind) in this worker" }
}
