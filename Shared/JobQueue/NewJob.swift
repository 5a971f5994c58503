import Foundation
import Postgres

/// A job to enqueue.
///
/// Coalescing rule (`uniqueKey`): at most one *pending* job (available, scheduled or retryable)
/// exists per (queue, uniqueKey); enqueueing another while one is pending does nothing, because the
/// pending job will read the latest data when it runs. A job that is already *running* does not
/// count: a duplicate that arrives while the first runs is inserted as a new pending job, so the
/// data committed after the first job read its input is processed too. A burst of 10,000
/// transactions for one customer therefore leaves at most one pending scoring job for that customer,
/// and never loses the latest data.
public struct NewJob: Sendable, Hashable {
    public var queue: String
    public var kind: String
    /// JSON object text; use `NewJob(queue:kind:args:)` to encode a Codable value.
    public var argsJSON: String
    /// 0 runs first, 9 last; default 5.
    public var priority: Int
    public var maxAttempts: Int
    /// Nil: run now. A future time (compared with the database clock) schedules it.
    public var runAt: Date?
    /// Delay from the database's now(), for schedules that must not trust the local clock.
    public var runAfterSeconds: Double?
    public var uniqueKey: String?
    public var traceparent: String?

    public init(queue: String, kind: String, argsJSON: String = "{}", priority: Int = 5, maxAttempts: Int = 20,
                runAt: Date? = nil, runAfterSeconds: Double? = nil, uniqueKey: String? = nil, traceparent: String? = nil) {
        self.queue = queue; self.kind = kind; self.argsJSON = argsJSON; self.priority = priority
        self.maxAttempts = maxAttempts; self.runAt = runAt; self.runAfterSeconds = runAfterSeconds
        self.uniqueKey = uniqueKey; self.traceparent = traceparent
    }

    public init<Args: Encodable>(queue: String, kind: String, args: Args, priority: Int = 5, maxAttempts: Int = 20,
                                 runAt: Date? = nil, runAfterSeconds: Double? = nil, uniqueKey: String? = nil,
                                 traceparent: String? = nil) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(args), as: UTF8.self)
        self.init(queue: queue, kind: kind, argsJSON: json, priority: priority, maxAttempts: maxAttempts,
                  runAt: runAt, runAfterSeconds: runAfterSeconds, uniqueKey: uniqueKey, traceparent: traceparent)
    }
}

/// Inserting jobs, always inside the caller's session (and so inside its transaction, when it has
/// one): a job exists if and only if the data it refers to committed (the transactional outbox).
public enum JobEnqueuer {
    /// Inserts `jobs` in one round trip (arrays unnested server-side), skipping any whose unique key
    /// already has a pending job. Returns how many rows were inserted.
    @discardableResult
    public static func enqueue(_ session: PostgresSession, _ jobs: [NewJob]) throws -> Int {
        guard !jobs.isEmpty else { return 0 }
        return try session.execute(JobSQL.enqueueBatch.binding(binds(jobs)))
    }

    /// The batch enqueue's parameters for `jobs`, in order ($1 … $9 of `JobSQL.enqueueBatch`, or the
    /// nine parameters from `firstParameter` of `embeddedInsert`): parallel arrays, one element per job.
    public static func binds(_ jobs: [NewJob]) -> [PostgresBind] {
        var queues: [String] = [], kinds: [String] = [], args: [String] = [], priorities: [Int] = []
        var maxAttempts: [Int] = [], runAts: [String?] = [], delays: [String?] = [], keys: [String?] = []
        var traces: [String?] = []
        for job in jobs {
            queues.append(job.queue); kinds.append(job.kind); args.append(job.argsJSON)
            priorities.append(job.priority); maxAttempts.append(job.maxAttempts)
            runAts.append(job.runAt.map { String(format: "%.6f", $0.timeIntervalSince1970) })
            delays.append(job.runAfterSeconds.map { String(format: "%.6f", $0) })
            keys.append(job.uniqueKey); traces.append(job.traceparent)
        }
        return PostgresBind.list(queues, kinds, args, priorities, maxAttempts, runAts, delays, keys, traces)
    }

    /// How many parameters `embeddedInsert` takes (those of `binds`).
    public static let embeddedParameterCount = 9

    /// The batch enqueue as the body of a data-modifying CTE, for a caller that must enqueue in the
    /// same statement as its own writes (one autocommitted statement instead of a transaction's
    /// round trips: `FeedbackSurveyFastPath`). It inserts the jobs of `binds(_:)`, bound from
    /// `$firstParameter` on, only when `condition` (SQL over the caller's CTEs, no values in it)
    /// holds. It is `enqueue_batch.sql` itself with its parameters renumbered and the condition
    /// added, so the columns, the state rule and the coalescing are the queue's, defined once, and the
    /// caller never names a column of `tg_jobs`.
    public static func embeddedInsert(firstParameter: Int, when condition: String) -> String {
        precondition(firstParameter >= 1, "parameters are numbered from $1")
        let text = JobSQL.enqueueBatch.sql
        var out = ""
        var rest = Substring(text)
        // $1 … $9 → $(firstParameter) … $(firstParameter + 8); the file has no other `$`.
        while let dollar = rest.firstIndex(of: "$") {
            out += rest[..<dollar]
            let digits = rest[rest.index(after: dollar)...].prefix(while: \.isNumber)
            guard let n = Int(digits), (1...embeddedParameterCount).contains(n) else {
                preconditionFailure("enqueue_batch.sql: unexpected parameter after $")
            }
            out += "$\(n - 1 + firstParameter)"
            rest = rest[digits.endIndex...]
        }
        out += rest
        guard let conflict = out.range(of: "\nON CONFLICT") else {
            preconditionFailure("enqueue_batch.sql: no ON CONFLICT clause to put the condition before")
        }
        out.insert(contentsOf: "\nWHERE (\(condition))", at: conflict.lowerBound)
        return out
    }

    public static func enqueue(_ session: PostgresSession, _ job: NewJob) throws -> Bool {
        try enqueue(session, [job]) == 1
    }
}
