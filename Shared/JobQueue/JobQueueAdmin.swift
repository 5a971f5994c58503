import Foundation
import Postgres

/// Operator actions on the queue (`tierguardctl jobs …`). Each runs in one transaction with its
/// audit row in `tg_job_operator_actions` (who, what, target, why), so an action without its record
/// cannot happen.
public enum JobQueueAdmin {
    public struct Refused: Error, CustomStringConvertible, Sendable {
        public var message: String
        public var description: String { message }
    }

    static let audit = PostgresQuery("""
        INSERT INTO tg_job_operator_actions (operator, action, target, reason) VALUES ($1, $2, $3, $4)
        """, name: "JobQueueAdmin.audit")

    /// Back to `available` now, attempts reset to 0 (a fresh budget), for discarded, cancelled,
    /// retryable or scheduled jobs. Refused for a running job (it has a live lease) and for one
    /// whose unique key already has a pending job (that one will do the work).
    static let retrySQL = PostgresQuery("""
        UPDATE tg_jobs AS j SET state = 'available', attempt = 0, run_at = now(), finished_at = NULL,
            lease_expires_at = NULL
        WHERE j.id = ANY($1::bigint[]) AND j.state IN ('discarded', 'cancelled', 'retryable', 'scheduled', 'completed')
          AND NOT (j.unique_key IS NOT NULL AND EXISTS (
              SELECT 1 FROM tg_jobs p WHERE p.queue = j.queue AND p.unique_key = j.unique_key
                AND p.state IN ('available', 'scheduled', 'retryable') AND p.id <> j.id))
        RETURNING j.id, j.queue
        """, name: "JobQueueAdmin.retry")

    static let discardedIDs = PostgresQuery("""
        SELECT id FROM tg_jobs WHERE state = 'discarded' AND ($1::text IS NULL OR queue = $1) ORDER BY id LIMIT 10000
        """, name: "JobQueueAdmin.discardedIDs")

    /// cancel: pending or running → cancelled. discard: pending or running → discarded.
    /// A running job's worker is fenced out: its completion will match 0 rows.
    static let finishSQL = PostgresQuery("""
        UPDATE tg_jobs SET state = $2::tg_job_state, finished_at = now(), lease_expires_at = NULL,
            errors = errors || jsonb_build_array(jsonb_build_object('attempt', attempt, 'at', now(),
                                                                    'error', $3::text))
        WHERE id = $1 AND state IN ('available', 'scheduled', 'retryable', 'running')
        """, name: "JobQueueAdmin.finish")

    static let pauseSQL = PostgresQuery("""
        INSERT INTO tg_queues (queue, paused, updated_at) VALUES ($1, $2, now())
        ON CONFLICT (queue) DO UPDATE SET paused = EXCLUDED.paused, updated_at = now()
        """, name: "JobQueueAdmin.pause")

    /// Retries the given jobs; returns the ids actually made available.
    @discardableResult
    public static func retry(_ session: PostgresSession, ids: [Int64], operator name: String, reason: String) throws -> [Int64] {
        try session.withTransaction { session in
            var retried: [Int64] = [], queues = Set<String>()
            for row in try session.query(retrySQL.binding(ids)) {
                retried.append(try row.decode(Int64.self, at: 0)); queues.insert(try row.decode(String.self, at: 1))
            }
            for queue in queues { try session.execute(JobSQL.notifyQueue.binding(queue)) }
            let target = ids.count == 1 ? "job \(ids[0])" : "\(retried.count) jobs"
            try session.execute(audit.binding(name, "retry", target, reason))
            return retried.sorted()
        }
    }

    /// Retries every discarded job (of one queue, or all), at most 10,000 per call.
    @discardableResult
    public static func retryDiscarded(_ session: PostgresSession, queue: String?, operator name: String, reason: String) throws -> [Int64] {
        let ids = try session.query(discardedIDs.binding(queue)).map { try $0.decode(Int64.self, at: 0) }
        guard !ids.isEmpty else { return [] }
        return try retry(session, ids: ids, operator: name, reason: reason)
    }

    /// Cancels one job; false when it was already finished (nothing changed, nothing recorded).
    public static func cancel(_ session: PostgresSession, id: Int64, operator name: String, reason: String) throws -> Bool {
        try finish(session, id: id, state: "cancelled", action: "cancel", operator: name, reason: reason)
    }

    /// Discards one job (dead letter); false when it was already finished.
    public static func discard(_ session: PostgresSession, id: Int64, operator name: String, reason: String) throws -> Bool {
        try finish(session, id: id, state: "discarded", action: "discard", operator: name, reason: reason)
    }

    private static func finish(_ session: PostgresSession, id: Int64, state: String, action: String,
                               operator name: String, reason: String) throws -> Bool {
        try session.withTransaction { session in
            let message = "\(action) by operator \(name): \(reason)"
            guard try session.execute(finishSQL.binding(id, state, message)) == 1 else { return false }
            try session.execute(audit.binding(name, action, "job \(id)", reason))
            return true
        }
    }

    /// Pauses or resumes a queue: workers stop claiming within one maintenance tick (about 1 s);
    /// running jobs finish. Resuming notifies the queue's channel.
    public static func setPaused(_ session: PostgresSession, queue: String, paused: Bool, operator name: String, reason: String) throws {
        try session.withTransaction { session in
            try session.execute(pauseSQL.binding(queue, paused))
            try session.execute(audit.binding(name, paused ? "pause" : "resume", "queue \(queue)", reason))
            if !paused { try session.execute(JobSQL.notifyQueue.binding(queue)) }
        }
    }
}
