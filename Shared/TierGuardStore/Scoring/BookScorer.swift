import Foundation
import Postgres
import ServiceKit
import Synchronization
import TierGuardModel

/// Re-scores every customer of the book on one business date, in bounded chunks.
///
/// Chunks of `chunkSize` (1,000) customers in customer_id order (keyset, so memory stays bounded
/// whatever the book's size): each chunk is one `CustomerScorer` transaction — a handful of
/// set-based loads, the model in Swift, COPY into staging and one INSERT…SELECT per table — only
/// for customers whose score changed since their newest row (`ScoreWriter`, `skipUnchanged`). The
/// per-customer path is the same code with a chunk of one, which is why both agree.
///
/// `parallelism` (default 2, one per core here) workers take chunks from one shared keyset
/// cursor, each on its own thread and session (the caller's session serves the first), so the
/// database's loads and writes for one chunk overlap with the model for another. Chunks hold
/// disjoint customers, and each locks its customers in sorted order, so they never block each
/// other.
public final class BookScorer {
    public let scorer: CustomerScorer
    public var chunkSize: Int
    public var parallelism: Int

    public init(settings: ScoringSettings, logger: Logger, chunkSize: Int = 1_000, parallelism: Int = 2) {
        self.scorer = CustomerScorer(settings: settings, logger: logger, suitabilityLogLevel: .debug)
        self.chunkSize = chunkSize
        self.parallelism = max(1, parallelism)
    }

    public struct Summary: Sendable {
        public var businessDate: CalendarDate?
        public var customers = 0
        public var chunks = 0
        public var newAlerts = 0
        /// New `customer_scores` rows (customers whose score changed).
        public var scoreRows = 0
        /// New `score_documents` rows (documents that differ from the customer's newest row's).
        public var documents = 0
        public var resolvedAlerts = 0
        /// Customers left unscored (`CustomerScorer.Result.notScored`), not counted in `customers`.
        public var notScored = 0
        public var seconds = 0.0
        /// Thread-seconds summed over the workers: loading, the model, writing (commit included).
        public var loadSeconds = 0.0
        public var computeSeconds = 0.0
        public var writeSeconds = 0.0
        public var customersPerSecond: Double { seconds > 0 ? Double(customers) / seconds : 0 }
    }

    /// Scores the whole book; `progress` is called after each chunk with the running summary.
    public func run(_ session: PostgresSession, progress: (@Sendable (Summary) -> Void)? = nil) throws -> Summary {
        let started = monotonicSeconds()
        guard let bd = try scorer.settings.businessDate(session) else { return Summary() }
        // Record the policy once, before the workers start.
        _ = try scorer.score(session, customerIds: [], businessDate: bd)
        struct Shared: Sendable {
            var after = ""
            var done = false
            var summary = Summary()
            var failure: String?
        }
        final class Box: Sendable { let state = Mutex(Shared()) }
        let box = Box()
        box.state.withLock { $0.summary.businessDate = bd }
        let scorer = self.scorer, chunkSize = self.chunkSize

        @Sendable func work(_ s: PostgresSession) throws {
            while true {
                // Take the next chunk under the lock, so each id goes to exactly one worker.
                let ids: [String] = try box.state.withLock { state in
                    if state.done || state.failure != nil { return [] }
                    let next = try s.query(ScoringSQL.customerIdsAfter.binding(state.after, chunkSize)).map { try $0.decode(String.self, at: 0) }
                    if let last = next.last { state.after = last } else { state.done = true }
                    return next
                }
                guard !ids.isEmpty else { return }
                let result = try scorer.score(s, customerIds: ids, businessDate: bd, skipUnchanged: true)
                let snapshot = box.state.withLock { state in
                    state.summary.customers += result.scores.count
                    state.summary.chunks += 1
                    state.summary.newAlerts += result.outcome.newAlerts.count
                    state.summary.scoreRows += result.outcome.scores
                    state.summary.documents += result.outcome.documents
                    state.summary.resolvedAlerts += result.outcome.resolved
                    state.summary.notScored += result.notScored.count
                    state.summary.loadSeconds += result.loadSeconds
                    state.summary.computeSeconds += result.computeSeconds
                    state.summary.writeSeconds += result.writeSeconds
                    state.summary.seconds = monotonicSeconds() - started
                    return state.summary
                }
                progress?(snapshot)
            }
        }

        let group = DispatchGroup()
        let configuration = session.configuration
        for _ in 1..<parallelism {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                do {
                    let own = try PostgresSession(configuration: configuration)
                    defer { own.close() }
                    try work(own)
                } catch {
                    box.state.withLock { $0.failure = $0.failure ?? "\(error)" }
                }
            }
            thread.stackSize = 1 << 22
            thread.start()
        }
        var mainError: (any Error)?
        do { try work(session) } catch {
            mainError = error
            box.state.withLock { $0.failure = $0.failure ?? "\(error)" }
        }
        group.wait()
        if let mainError { throw mainError }
        if let failure = box.state.withLock({ $0.failure }) { throw ScoringError("whole-book rescore failed: \(failure)") }
        var summary = box.state.withLock { $0.summary }
        summary.seconds = monotonicSeconds() - started
        scorer.logger.info("whole-book rescore done", metadata: [
            "business_date": bd.description, "customers": String(summary.customers), "chunks": String(summary.chunks),
            "new_alerts": String(summary.newAlerts), "not_scored": String(summary.notScored),
            "seconds": String(format: "%.3f", summary.seconds),
        ])
        return summary
    }
}
