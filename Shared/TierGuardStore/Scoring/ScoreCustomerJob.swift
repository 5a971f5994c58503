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
public enum ScoreCustomerJob {
    public static let kind = "score_customer"

    public struct Args: Codable, Sendable {
        public var customerId: String
        enum CodingKeys: String, CodingKey { case customerId = "customer_id" }
        public init(customerId: String) { self.customerId = customerId }
    }

    public static func register(_ registry: inout JobRegistry, scorer: CustomerScorer) {
        registry.register(kind, Args.self) { args, context in
            let id = args.customerId
            try await context.withCompletionTransaction(
                isolation: .repeatableRead,
                prepare: { session in _ = try session.query(ScoringSQL.lockCustomersForSession.binding([id])) },
                finish: { session in _ = try? session.query(ScoringSQL.unlockCustomersForSession.binding([id])) }
            ) { session in
                // The notify_alert jobs this scoring causes carry a child of this job's trace.
                _ = try scorer.score(session, customerIds: [id], traceparent: context.childTraceparent)
            }
            return .completedInTransaction
        }
    }
}
