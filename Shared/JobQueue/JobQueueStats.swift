import Foundation
import Postgres
import ServiceKit

/// What operators and `/metrics` read about the queue. Ages use the database clock.
public enum JobQueueStats {
    public struct StateCount: Sendable, Hashable {
        public var queue: String
        public var kind: String
        public var state: String
        public var jobs: Int
    }

    public struct QueueFigures: Sendable, Hashable {
        public var queue: String
        /// Available jobs (the claim index alone).
        public var depth: Int
        /// Seconds since the oldest available job's run_at; 0 when none.
        public var oldestAvailableSeconds: Double
        public var paused: Bool
    }

    public struct KindFigures: Sendable, Hashable {
        public var queue: String
        public var kind: String
        public var completed: Int64
        public var failed: Int64
        public var meanSeconds: Double
        public var maxSeconds: Double
    }

    public struct Worker: Sendable, Hashable {
        public var workerID: String
        public var queue: String
        public var startedAt: Date
        public var heartbeatAt: Date
        /// Seconds since the last heartbeat (database clock).
        public var heartbeatAgeSeconds: Double
        /// Jobs the worker held at its last heartbeat.
        public var held: Int
        /// Jobs in `running` attempted by this worker right now.
        public var running: Int
    }

    static let countsSQL = PostgresQuery("""
        SELECT queue, kind, state::text, count(*)::bigint FROM tg_jobs GROUP BY queue, kind, state ORDER BY 1, 2, 3
        """, name: "JobQueueStats.counts")

    static let queuesSQL = PostgresQuery("""
        WITH q AS (SELECT DISTINCT queue FROM tg_jobs WHERE state = 'available'
                   UNION SELECT queue FROM tg_queues UNION SELECT queue FROM tg_workers)
        SELECT q.queue,
               (SELECT count(*) FROM tg_jobs j WHERE j.queue = q.queue AND j.state = 'available')::bigint,
               coalesce(extract(epoch FROM now() - (SELECT min(run_at) FROM tg_jobs j
                                                    WHERE j.queue = q.queue AND j.state = 'available')), 0)::float8,
               coalesce((SELECT paused FROM tg_queues p WHERE p.queue = q.queue), false)
        FROM q ORDER BY 1
        """, name: "JobQueueStats.queues")

    static let kindsSQL = PostgresQuery("""
        SELECT queue, kind, completed, failed,
               CASE WHEN completed + failed > 0 THEN total_seconds / (completed + failed) ELSE 0 END, max_seconds
        FROM tg_job_kind_stats ORDER BY 1, 2
        """, name: "JobQueueStats.kinds")

    static let workersSQL = PostgresQuery("""
        SELECT w.worker_id, w.queue, w.started_at, w.heartbeat_at, extract(epoch FROM now() - w.heartbeat_at)::float8,
               w.running, (SELECT count(*) FROM tg_jobs j WHERE j.state = 'running' AND j.attempted_by = w.worker_id)::bigint
        FROM tg_workers w ORDER BY w.queue, w.worker_id
        """, name: "JobQueueStats.workers")

    /// Jobs by queue, kind and state.
    public static func counts(_ session: PostgresSession) throws -> [StateCount] {
        try session.query(countsSQL).map {
            StateCount(queue: try $0.decode(at: 0), kind: try $0.decode(at: 1), state: try $0.decode(at: 2), jobs: try $0.decode(at: 3))
        }
    }

    /// Depth and oldest available age of every queue that has available jobs, a pause row or a worker.
    public static func queues(_ session: PostgresSession) throws -> [QueueFigures] {
        try session.query(queuesSQL).map {
            QueueFigures(queue: try $0.decode(at: 0), depth: try $0.decode(at: 1),
                         oldestAvailableSeconds: max(0, try $0.decode(at: 2)), paused: try $0.decode(at: 3))
        }
    }

    public static func kinds(_ session: PostgresSession) throws -> [KindFigures] {
        try session.query(kindsSQL).map {
            KindFigures(queue: try $0.decode(at: 0), kind: try $0.decode(at: 1), completed: try $0.decode(at: 2),
                        failed: try $0.decode(at: 3), meanSeconds: try $0.decode(at: 4), maxSeconds: try $0.decode(at: 5))
        }
    }

    public static func workers(_ session: PostgresSession) throws -> [Worker] {
        try session.query(workersSQL).map {
            Worker(workerID: try $0.decode(at: 0), queue: try $0.decode(at: 1), startedAt: try $0.decode(at: 2),
                   heartbeatAt: try $0.decode(at: 3), heartbeatAgeSeconds: try $0.decode(at: 4),
                   held: try $0.decode(at: 5), running: try $0.decode(at: 6))
        }
    }

    static let liveWorkersSQL = PostgresQuery("""
        SELECT q.queue, count(w.worker_id)::bigint
        FROM unnest($1::text[]) AS q(queue)
        LEFT JOIN tg_workers w ON w.queue = q.queue
                              AND w.heartbeat_at > now() - make_interval(secs => $2::double precision)
        GROUP BY q.queue ORDER BY 1
        """, name: "JobQueueStats.liveWorkers")

    /// Workers of each of `queues` whose heartbeat is younger than `withinSeconds` (database clock);
    /// a queue without one reports 0 (the "no live worker" alert needs the zero, not a missing series).
    public static func liveWorkers(_ session: PostgresSession, queues: [String], withinSeconds: Double) throws -> [String: Int] {
        var result: [String: Int] = [:]
        for row in try session.query(liveWorkersSQL.binding(queues, withinSeconds)) {
            result[try row.decode(String.self, at: 0)] = try row.decode(Int.self, at: 1)
        }
        return result
    }

    /// Registers the scrape-time gauges `tierguard_queue_depth{queue}`,
    /// `tierguard_queue_oldest_available_seconds{queue}` and `tierguard_workers_live{queue}`, read
    /// through `connection` (a connection of its own, so a scrape never waits behind a handler's
    /// transaction). `queues`: the queues this service reports (the one it works or feeds; nil = every
    /// queue with jobs, a pause row or a worker); the
    /// figures come from the database, so every replica reports the same values and alert rules take
    /// `max by (queue)`. A worker is live when its heartbeat is younger than 3 × `maintenanceInterval`
    /// (it beats once per interval, so two missed beats are tolerated).
    public static func registerGauges(on registry: MetricsRegistry, connection: PostgresConnection,
                                      queues wanted: [String]? = nil, maintenanceInterval: Double = 1) {
        let read: @Sendable () async -> [QueueFigures] = {
            let all = (try? await connection.withSession { session in try queues(session) }) ?? []
            guard let wanted else { return all }
            // A queue with no row at all still reports depth 0 and age 0.
            return wanted.map { queue in
                all.first { $0.queue == queue } ?? QueueFigures(queue: queue, depth: 0, oldestAvailableSeconds: 0, paused: false)
            }
        }
        registry.gaugeCallback("tierguard_workers_live",
                               help: "Workers with a heartbeat within 3 maintenance intervals (database clock)",
                               labelNames: ["queue"]) {
            let names = if let wanted { wanted } else { await read().map(\.queue) }
            guard let live = try? await connection.withSession({ session in
                try liveWorkers(session, queues: names, withinSeconds: 3 * maintenanceInterval)
            }) else { return [] }
            return names.map { MetricSample(labels: ["queue": $0], value: Double(live[$0] ?? 0)) }
        }
        registry.gaugeCallback("tierguard_queue_depth", help: "Available jobs per queue", labelNames: ["queue"]) {
            await read().map { MetricSample(labels: ["queue": $0.queue], value: Double($0.depth)) }
        }
        registry.gaugeCallback("tierguard_queue_oldest_available_seconds",
                               help: "Age of the oldest available job per queue (database clock)", labelNames: ["queue"]) {
            await read().map { MetricSample(labels: ["queue": $0.queue], value: $0.oldestAvailableSeconds) }
        }
    }
}
