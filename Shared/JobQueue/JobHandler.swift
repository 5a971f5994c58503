import Foundation
import Postgres
import ServiceKit
import Synchronization

/// What a handler reports when it returns. Throwing is the fourth outcome: a failure.
public enum JobResult: Sendable, Equatable {
    /// Done; the worker marks it `completed` in its next batch (one commit per batch).
    case completed
    /// The handler already marked the job completed in its own transaction
    /// (`JobContext.withCompletionTransaction`); the worker writes nothing more for it.
    case completedInTransaction
    /// Not now: `scheduled` again after `seconds` (database clock); the attempt does not count.
    case snooze(seconds: Double)
    /// Give up for good: `cancelled`, the reason appended to the job's errors.
    case cancel(reason: String)
}

/// Thrown by `withCompletionTransaction` (and usable by handlers) when the job's lease is no longer
/// this worker's: it was rescued after the lease expired, or released at shutdown. The transaction
/// rolled back; the worker records nothing for the job, because another attempt owns it now.
public struct JobLeaseLost: Error, CustomStringConvertible, Sendable {
    public var jobID: Int64
    public var leaseToken: Int64
    public var description: String { "job \(jobID): lease \(leaseToken) is no longer held (rescued or released)" }
}

/// Everything a handler knows about the job it runs.
public struct JobContext: Sendable {
    public let id: Int64
    public let queue: String
    public let kind: String
    /// 1 on the first run; a rescued or retried job has a higher attempt.
    public let attempt: Int
    public let maxAttempts: Int
    /// The fencing token of this claim: every write for this job names (id, leaseToken).
    public let leaseToken: Int64
    public let traceparent: String?
    /// The worker's logger with `job.id`, `job.kind`, `job.attempt` and `job.queue` set.
    public let logger: Logger
    /// The worker's small pool of database connections for handlers.
    public let database: JobDatabasePool

    /// Runs `body` and marks this job completed in ONE transaction on a pooled connection, so the
    /// effects `body` writes happen exactly once: if the lease was lost (rescued, released) the
    /// completion matches 0 rows, everything rolls back and `JobLeaseLost` is thrown. The handler
    /// then returns `.completedInTransaction`.
    ///
    /// The fenced completion runs first and locks the job row, so a rescuer that arrives meanwhile
    /// waits for this transaction and then finds the job no longer running.
    ///
    /// `isolation` sets the transaction's level (default: read committed). At repeatable read or
    /// serializable the snapshot is taken by the completion, and a lease heartbeat committing on the
    /// job row while the completion waits for it is a serialization failure (40001): the whole
    /// transaction is then run again, up to `maxSerializationRetries` times, on the same lease — the
    /// attempt does not count against the job. `prepare` runs on the same connection before the
    /// transaction begins (session-level locks that must come before the snapshot) and `finish` once
    /// it has ended, committed or not, and also when `prepare` failed part-way.
    @discardableResult
    public func withCompletionTransaction<T: Sendable>(
        isolation: PostgresSession.IsolationLevel? = nil,
        prepare: (@Sendable (PostgresSession) throws -> Void)? = nil,
        finish: (@Sendable (PostgresSession) -> Void)? = nil,
        _ body: @escaping @Sendable (PostgresSession) throws -> T
    ) async throws -> T {
        let id = self.id, token = self.leaseToken
        return try await database.withCompletionTransaction(isolation: isolation, prepare: prepare, finish: finish) { session in
            guard try JobCompletion.complete(in: session, id: id, leaseToken: token) else {
                throw JobLeaseLost(jobID: id, leaseToken: token)
            }
            return try body(session)
        }
    }

    /// How often `withCompletionTransaction` runs a transaction again after a serialization failure.
    public static let maxSerializationRetries = 3
}

extension JobDatabasePool {
    /// The frame both `JobContext` and `JobBatch` complete their jobs in: on one pooled connection,
    /// `prepare`, then `body` in a transaction at `isolation` (run again after a serialization failure,
    /// up to `JobContext.maxSerializationRetries` times), then `finish` however that ended.
    func withCompletionTransaction<T: Sendable>(
        isolation: PostgresSession.IsolationLevel?,
        prepare: (@Sendable (PostgresSession) throws -> Void)?,
        finish: (@Sendable (PostgresSession) -> Void)?,
        _ body: @escaping @Sendable (PostgresSession) throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            try await connection.withSession { session in
                defer { finish?(session) }
                try prepare?(session)
                return try session.withTransaction(isolation: isolation, serializationRetries: JobContext.maxSerializationRetries, body)
            }
        }
    }
}

/// Completing a job inside the caller's own transaction.
public enum JobCompletion {
    /// Marks job `id` completed if it is still running under `leaseToken`; false when fenced out
    /// (the caller should roll back its effects: throw `JobLeaseLost`).
    public static func complete(in session: PostgresSession, id: Int64, leaseToken: Int64) throws -> Bool {
        try session.execute(JobSQL.completeOne.binding(id, leaseToken)) == 1
    }
}

/// Several claimed jobs of one kind, handed to one call of a batch handler
/// (`JobRegistry.registerBatch`) so that their work shares one transaction.
///
/// The handler completes them with `withCompletionTransaction`, which completes every job still
/// held and runs the work for exactly those, in one transaction. Every job of the batch that call
/// did not complete — the handler threw, did not call it, or the transaction failed — is then run
/// on its own by the kind's single-job handler, which decides its outcome as usual (a failure with
/// backoff, a lost lease, …). So one bad job never fails the others, and a batch is only ever an
/// optimisation of running its jobs one by one.
public final class JobBatch: Sendable {
    /// The jobs, in the order they were claimed.
    public let jobs: [JobContext]
    public let database: JobDatabasePool
    private let completed = Mutex<Set<Int64>>([])

    init(jobs: [JobContext], database: JobDatabasePool) {
        self.jobs = jobs
        self.database = database
    }

    /// The ids of the jobs `withCompletionTransaction` completed.
    public var completedIDs: Set<Int64> { completed.withLock { $0 } }

    /// Completes the jobs still held (fenced: `JobSQL.completeMany`) and runs `body` for exactly those
    /// in ONE transaction on a pooled connection, so their effects happen exactly once. A job whose
    /// lease was lost is left out of `body` and of the completion (another attempt owns it); when
    /// none is held, `body` does not run. `isolation`, `prepare` and `finish` and the serialization
    /// retries are those of `JobContext.withCompletionTransaction`. Call it once per batch.
    public func withCompletionTransaction(
        isolation: PostgresSession.IsolationLevel? = nil,
        prepare: (@Sendable (PostgresSession) throws -> Void)? = nil,
        finish: (@Sendable (PostgresSession) -> Void)? = nil,
        _ body: @escaping @Sendable (PostgresSession, [JobContext]) throws -> Void
    ) async throws {
        let jobs = self.jobs
        let done = try await database.withCompletionTransaction(isolation: isolation, prepare: prepare, finish: finish) { session in
            let rows = try session.query(JobSQL.completeMany.binding(jobs.map(\.id), jobs.map(\.leaseToken)))
            let held = Set(try rows.map { try $0.decode(Int64.self, at: 0) })
            let heldJobs = jobs.filter { held.contains($0.id) }
            if !heldJobs.isEmpty { try body(session, heldJobs) }
            return held
        }
        completed.withLock { $0.formUnion(done) }
    }
}

/// Handlers by kind, each decoding its typed `Codable` args from the job's JSON.
public struct JobRegistry: Sendable {
    public typealias Body = @Sendable (_ argsJSON: String, _ context: JobContext) async throws -> JobResult
    public typealias BatchBody = @Sendable (_ argsJSON: [String], _ batch: JobBatch) async throws -> Void
    public private(set) var handlers: [String: Body] = [:]
    /// Batch handlers by kind, with the most jobs one call takes.
    public private(set) var batchHandlers: [String: (maxJobs: Int, body: BatchBody)] = [:]

    public init() {}

    /// Registers `handler` for `kind`. Args that do not decode are a failure like any other
    /// (retried with backoff, discarded after max_attempts), so a newer producer's job waits for a
    /// worker that understands it instead of vanishing.
    public mutating func register<Args: Decodable & Sendable>(
        _ kind: String, _ type: Args.Type = Args.self,
        _ handler: @escaping @Sendable (Args, JobContext) async throws -> JobResult
    ) {
        handlers[kind] = { json, context in
            let args = try JSONDecoder().decode(Args.self, from: Data(json.utf8))
            return try await handler(args, context)
        }
    }

    /// Registers a batch handler for `kind`, whose single-job handler must be registered first: the
    /// worker gives it up to `maxJobs` jobs of the kind that were claimed one after the other (a
    /// burst, such as one scoring job per customer after a feed), and runs every job the batch did
    /// not complete with the single-job handler (see `JobBatch`). Args that do not decode fail the
    /// batch, so each job then meets the single handler's decoding on its own.
    public mutating func registerBatch<Args: Decodable & Sendable>(
        _ kind: String, _ type: Args.Type = Args.self, maxJobs: Int,
        _ handler: @escaping @Sendable ([Args], JobBatch) async throws -> Void
    ) {
        precondition(handlers[kind] != nil, "register the single-job handler of \(kind) before its batch handler")
        precondition(maxJobs >= 1, "a batch takes at least one job")
        batchHandlers[kind] = (maxJobs, { json, batch in
            let decoder = JSONDecoder()
            let args = try json.map { try decoder.decode(Args.self, from: Data($0.utf8)) }
            try await handler(args, batch)
        })
    }

    /// Registers a handler that ignores its args.
    public mutating func register(_ kind: String, _ handler: @escaping @Sendable (JobContext) async throws -> JobResult) {
        handlers[kind] = { _, context in try await handler(context) }
    }
}

/// Retry delay after a failed attempt.
///
/// Standard formula: `delay = min(attempt⁴ + 15, 86,400) seconds × uniform(1.0, 1.2)`, so attempt 1
/// waits 16–19 s, 2 waits 31–37 s, 3 waits 96–115 s, 5 waits about 11 min, 10 about 2.8 h, 17 about
/// 23 h, and from attempt 18 on the cap of 24 h (up to 28.8 h with jitter). With the default 20
/// attempts a job is retried for about 6–7 days (19 waits) before it is discarded. The jitter spreads a burst of failures (a
/// database restart) so the retries do not arrive together.
public struct JobBackoff: Sendable {
    public let delay: @Sendable (_ attempt: Int) -> Double

    public init(delay: @escaping @Sendable (_ attempt: Int) -> Double) { self.delay = delay }

    /// The upper bound of one step: 24 hours.
    public static let capSeconds: Double = 86_400

    /// `min(attempt⁴ + 15, 86,400) × jitter`, jitter in [1.0, 1.2].
    public static func standardDelay(attempt: Int, jitter: Double) -> Double {
        let a = Double(max(attempt, 1))
        return min(a * a * a * a + 15, capSeconds) * jitter
    }

    public static let standard = JobBackoff { attempt in
        standardDelay(attempt: attempt, jitter: Double.random(in: 1.0...1.2))
    }

    /// The same delay every time (tests, and queues that want a fixed retry interval).
    public static func constant(_ seconds: Double) -> JobBackoff { JobBackoff { _ in seconds } }
}
