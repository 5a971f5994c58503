import Foundation
import Postgres
import ServiceKit
import TierGuardModel

/// Re-scores every customer of the book on one business date, in bounded chunks.
///
/// Chunks of `chunkSize` (1,000) customers in customer_id order (keyset, so memory stays bounded
/// whatever the book's size): each chunk is one `CustomerScorer` transaction — a handful of
/// set-based loads, the model in Swift, COPY into staging and one INSERT…SELECT per table. The
/// per-customer path is the same code with a chunk of one, which is why both agree.
public final class BookScorer {
    public let scorer: CustomerScorer
    public var chunkSize: Int

    public init(settings: ScoringSettings, logger: Logger, chunkSize: Int = 1_000) {
        self.scorer = CustomerScorer(settings: settings, logger: logger, suitabilityLogLevel: .debug)
        self.chunkSize = chunkSize
    }

    public struct Summary: Sendable {
        public var businessDate: CalendarDate?
        public var customers = 0
        public var chunks = 0
        public var newAlerts = 0
        public var resolvedAlerts = 0
        public var seconds = 0.0
        public var customersPerSecond: Double { seconds > 0 ? Double(customers) / seconds : 0 }
    }

    /// Scores the whole book; `progress` is called after each chunk with the running summary.
    public func run(_ session: PostgresSession, progress: ((Summary) -> Void)? = nil) throws -> Summary {
        let started = monotonicSeconds()
        var summary = Summary()
        guard let bd = try scorer.settings.businessDate(session) else { return summary }
        summary.businessDate = bd
        var after = ""
        while true {
            let ids = try session.query(ScoringSQL.customerIdsAfter.binding(after, chunkSize)).map { try $0.decode(String.self, at: 0) }
            guard let last = ids.last else { break }
            let result = try scorer.score(session, customerIds: ids, businessDate: bd)
            summary.customers += result.scores.count
            summary.chunks += 1
            summary.newAlerts += result.outcome.newAlerts.count
            summary.resolvedAlerts += result.outcome.resolved
            after = last
            summary.seconds = monotonicSeconds() - started
            progress?(summary)
        }
        summary.seconds = monotonicSeconds() - started
        scorer.logger.info("whole-book rescore done", metadata: [
            "business_date": bd.description, "customers": String(summary.customers), "chunks": String(summary.chunks),
            "new_alerts": String(summary.newAlerts), "seconds": String(format: "%.3f", summary.seconds),
        ])
        return summary
    }
}
