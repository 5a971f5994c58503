import Foundation
import Postgres
import ServiceKit

/// Synchronous queue operations on a caller's session: the building blocks of the worker's threads,
/// callable from tests and tools.
public enum JobStore {
    /// `JobSQL.settle` in a savepoint. A unique-key conflict (a duplicate enqueued between the
    /// statement's check and its update) is retried once: the new statement sees the duplicate and
    /// coalesces. Returns (id, state) of the rows changed.
    @discardableResult
    public static func settle(_ session: PostgresSession, ids: [Int64], tokens: [Int64], actions: [String],
                              messages: [String?], delays: [String]) throws -> [(id: Int64, state: String)] {
        let query = JobSQL.settle.binding(ids, tokens, actions, messages, delays)
        var attempt = 0
        while true {
            do {
                let rows = try session.withTransaction { session in try session.query(query) }
                var result: [(id: Int64, state: String)] = []
                var notify = Set<String>()
                for row in rows {
                    let state = try row.decode(String.self, at: 1)
                    result.append((try row.decode(Int64.self, at: 0), state))
                    if state == "available" { notify.insert(try row.decode(String.self, at: 2)) }
                }
                for queue in notify { try session.execute(JobSQL.notifyQueue.binding(queue)) }
                return result
            } catch let error as PostgresError where error.isUniqueViolation && attempt == 0 {
                attempt += 1
            }
        }
    }

    /// Rescues expired leases (any worker) and returns how many jobs it moved.
    @discardableResult
    public static func rescueExpired(_ session: PostgresSession) throws -> Int {
        try session.withTransaction { session in try session.query(JobSQL.rescueExpired).count }
    }

    /// Makes due scheduled/retryable jobs available and notifies their queues (same transaction).
    @discardableResult
    public static func stageDue(_ session: PostgresSession) throws -> Int {
        try session.withTransaction { session in
            var moved = 0
            for row in try session.query(JobSQL.stageDue) {
                moved += try row.decode(Int.self, at: 1)
                try session.execute(JobSQL.notifyQueue.binding(try row.decode(String.self, at: 0)))
            }
            return moved
        }
    }

    /// Deletes terminal jobs older than `retentionSeconds`, 1,000 per statement, at most
    /// `maxBatches` statements (each its own short transaction, so vacuum keeps up).
    @discardableResult
    public static func prune(_ session: PostgresSession, retentionSeconds: Double, maxBatches: Int = 10) throws -> Int {
        var total = 0
        for _ in 0..<maxBatches {
            let deleted = try session.execute(JobSQL.pruneFinished.binding(retentionSeconds))
            total += deleted
            if deleted < 1_000 { break }
        }
        try session.execute(JobSQL.pruneTicksAndWorkers.binding(retentionSeconds))
        return total
    }

    /// The database clock.
    public static func databaseNow(_ session: PostgresSession) throws -> Date {
        let rows = try session.query(JobSQL.databaseNow)
        return Date(timeIntervalSince1970: try rows[0].decode(Double.self, at: 0))
    }
}

/// One maintenance tick's work, run on the worker's maintenance thread.
struct JobMaintenance {
    let configuration: JobWorkerConfiguration
    let logger: Logger

    static let queueAndKindSQL = PostgresQuery("SELECT queue, kind FROM tg_jobs WHERE id = ANY($1::bigint[])",
                                               name: "JobMaintenance.queueAndKind")

    func tick(_ session: PostgresSession, worker: JobWorker) {
        let config = configuration
        step("heartbeat") {
            let held = worker.heldSnapshot()
            try session.execute(JobSQL.heartbeat.binding(
                config.workerID, config.queue, config.service, JobWorkerConfiguration.hostName, Int(getpid()), held.ids.count))
            if !held.ids.isEmpty {
                try session.execute(JobSQL.extendLeases.binding(held.ids, held.tokens, config.leaseSeconds))
            }
        }
        step("rescue") {
            let rows = try session.withTransaction { session in try session.query(JobSQL.rescueExpired) }
            if rows.count > 0 { logger.warning("rescued jobs whose lease expired", metadata: ["jobs": String(rows.count)]) }
            var discardedIDs: [Int64] = []
            for row in rows where try row.decode(String.self, at: 1) == "discarded" {
                discardedIDs.append(try row.decode(Int64.self, at: 0))
            }
            if !discardedIDs.isEmpty, let metrics = worker.metrics {
                // A rescued job may belong to any queue: its own queue and kind label the count.
                for row in try session.query(Self.queueAndKindSQL.binding(discardedIDs)) {
                    metrics.discarded.increment(labels: ["queue": try row.decode(String.self, at: 0),
                                                         "kind": try row.decode(String.self, at: 1)])
                }
            }
        }
        step("stage") { try JobStore.stageDue(session) }
        step("prune") { try JobStore.prune(session, retentionSeconds: config.retentionSeconds) }
        if !config.periodicJobs.isEmpty {
            step("periodic") {
                let now = try JobStore.databaseNow(session)
                for periodic in config.periodicJobs {
                    if let tick = try periodic.enqueueLatestTick(session, now: now) {
                        logger.info("periodic job enqueued", metadata: [
                            "periodic": periodic.name, "tick": Logger.rfc3339Milliseconds(tick)])
                    }
                }
            }
        }
        refreshPaused(session, worker: worker)
        flushKindStats(session, worker: worker)
    }

    func refreshPaused(_ session: PostgresSession, worker: JobWorker) {
        step("pause flag") {
            let rows = try session.query(JobSQL.isPaused.binding(configuration.queue))
            worker.setPaused(try rows[0].decode(Bool.self, at: 0))
        }
    }

    func flushKindStats(_ session: PostgresSession, worker: JobWorker) {
        let figures = worker.takeKindFigures()
        guard !figures.isEmpty else { return }
        let kinds = figures.keys.sorted()
        do {
            try session.execute(JobSQL.addKindStats.binding(
                configuration.queue, kinds, kinds.map { figures[$0]!.completed }, kinds.map { figures[$0]!.failed },
                kinds.map { String(figures[$0]!.totalSeconds) }, kinds.map { String(figures[$0]!.maxSeconds) }))
        } catch {
            worker.restoreKindFigures(figures)
            logger.warning("maintenance step failed", metadata: ["step": "kind stats", Logger.Key.error: "\(error)"])
        }
    }

    private func step(_ name: String, _ body: () throws -> Void) {
        do { try body() } catch {
            logger.warning("maintenance step failed", metadata: ["step": name, Logger.Key.error: "\(error)"])
        }
    }
}

/// The worker's own metrics on a ServiceKit `MetricsRegistry`. Labels: queue and kind only, never a
/// customer.
struct JobWorkerMetrics: Sendable {
    let completed: Counter
    let failed: Counter
    let duration: Histogram
    let reconnects: Counter
    let discarded: Counter
    /// Batch handler calls (`JobRegistry.registerBatch`), and the jobs a batch left to run alone (it
    /// failed, or their lease was lost): a steady stream of the latter means batches keep failing.
    let batches: Counter
    let batchFallbacks: Counter

    init(_ registry: MetricsRegistry) {
        completed = registry.counter("tierguard_jobs_completed_total", help: "Jobs whose handler finished successfully",
                                     labelNames: ["queue", "kind"])
        failed = registry.counter("tierguard_jobs_failed_total", help: "Job attempts that failed (threw)",
                                  labelNames: ["queue", "kind"])
        duration = registry.histogram("tierguard_job_duration_seconds", help: "Handler run time per attempt",
                                      labelNames: ["queue", "kind"])
        reconnects = registry.counter("tierguard_db_reconnects_total", help: "Database sessions re-established")
        discarded = registry.counter("tierguard_jobs_discarded_total",
                                     help: "Jobs discarded after their last attempt (failed, or lease expired)",
                                     labelNames: ["queue", "kind"])
        batches = registry.counter("tierguard_job_batches_total", help: "Batch handler calls (jobs of one kind run together)",
                                   labelNames: ["queue", "kind"])
        batchFallbacks = registry.counter("tierguard_job_batch_fallbacks_total",
                                          help: "Jobs a batch did not complete, run alone afterwards (the batch failed, or the lease was lost)",
                                          labelNames: ["queue", "kind"])
    }
}
