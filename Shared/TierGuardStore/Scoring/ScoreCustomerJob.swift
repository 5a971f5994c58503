import JobQueue
import Postgres

/// The `score_customer` job (queue `scorer`, enqueued by ingest and feedback, coalesced by the unique
/// key `score:<customer>`): scores one customer and completes the job in the same transaction, so its
/// effects — score row, history, alerts and their notification jobs — happen exactly once.
///
/// One snapshot for the whole scoring, taken after the customer's lock: the handler locks the
/// customer by the session first (`ScoringSQL.lockCustomersForSession`, released when the
/// transaction has ended), then runs the completion transaction at REPEATABLE READ. Its first
/// statement, the fenced completion, takes the snapshot; a lease heartbeat committing on the job row
/// meanwhile is retried by `JobContext.withCompletionTransaction`. So an ingest committing while the
/// scoring is between two of its loads is seen wholly or not at all, and a scoring that waited for a
/// whole-book chunk holding the customer sees what the chunk committed.
///
/// Batches: a feed touches many customers at once and enqueues a job for each, and one transaction
/// per customer (a dozen statements and a commit around ~0.1 ms of model) drains such a burst at a
/// few hundred customers a second. So the worker hands up to `maxBatch` (default 500,
/// `TIERGUARD_SCORER_BATCH`; the scorer claims as many jobs at a time to match) of these jobs claimed
/// together to one call (`JobRegistry.registerBatch`), which scores their
/// customers as one chunk — the whole-book engine, `CustomerScorer` with many ids, at the same
/// snapshot rules: customers locked by the session in sorted order, then one REPEATABLE READ
/// transaction that first completes every job still held (`JobBatch`) and then scores the customers
/// of exactly those jobs. Each job's notification jobs carry a child of its own trace. A batch that
/// fails, or a job it did not complete, runs job by job as above, so one customer that cannot be
/// scored fails only its own job. Every job still writes a row and its history (no `skipUnchanged`),
/// as one job alone does.
public enum ScoreCustomerJob {
    public static let kind = "score_customer"
    /// Jobs scored together by default: with 500 the benchmark's 10,000-job burst drained at
    /// 6,300–8,900 customers/s, with 100 at 4,200–5,300 (`tierguard-bench score --jobs`, README "Speed").
    public static let defaultMaxBatch = 500

    public struct Args: Codable, Sendable {
        public var customerId: String
        enum CodingKeys: String, CodingKey { case customerId = "customer_id" }
        public init(customerId: String) { self.customerId = customerId }
    }

    /// The customers' scoring locks held by the session: taken before the completion transaction's
    /// snapshot (`prepare`), released once it has ended (`finish`). The statements sort the ids.
    static func sessionLocks(_ ids: [String]) -> (take: @Sendable (PostgresSession) throws -> Void,
                                                  release: @Sendable (PostgresSession) -> Void) {
        ({ session in _ = try session.query(ScoringSQL.lockCustomersForSession.binding(ids)) },
         { session in _ = try? session.query(ScoringSQL.unlockCustomersForSession.binding(ids)) })
    }

    public static func register(_ registry: inout JobRegistry, scorer: CustomerScorer, maxBatch: Int = defaultMaxBatch) {
        registry.register(kind, Args.self) { args, context in
            let id = args.customerId
            let locks = sessionLocks([id])
            try await context.withCompletionTransaction(isolation: .repeatableRead, prepare: locks.take, finish: locks.release) { session in
                // The notify_alert jobs this scoring causes carry a child of this job's trace.
                _ = try scorer.score(session, customerIds: [id], traceparents: context.childTraceparent.map { [id: $0] } ?? [:])
            }
            return .completedInTransaction
        }
        registry.registerBatch(kind, Args.self, maxJobs: maxBatch) { args, batch in
            let customerOfJob = Dictionary(zip(batch.jobs.map(\.id), args.map(\.customerId)), uniquingKeysWith: { first, _ in first })
            let locks = sessionLocks(Array(Set(customerOfJob.values)))
            try await batch.withCompletionTransaction(isolation: .repeatableRead, prepare: locks.take, finish: locks.release) { session, held in
                var traceparents: [String: String] = [:]
                for job in held {
                    if let customer = customerOfJob[job.id], let trace = job.childTraceparent { traceparents[customer] = trace }
                }
                let ids = Array(Set(held.compactMap { customerOfJob[$0.id] })).sorted()
                _ = try scorer.score(session, customerIds: ids, traceparents: traceparents)
            }
        }
    }
}
