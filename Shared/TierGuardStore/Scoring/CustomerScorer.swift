import Foundation
import Postgres
import ServiceKit
import Synchronization
import TierGuardModel

/// Scores customers on the business date and persists the result: the per-customer path
/// (`score_customer` jobs) and the engine under `BookScorer`.
///
/// One transaction per call: the chunk's customers are locked (advisory, sorted), their archive
/// data loaded set-based (`ArchiveLoader`), the pure model run (`CustomerScore.compute`), and the
/// scores, history, alerts and notification jobs written (`ScoreWriter`). A crash anywhere leaves
/// nothing half-written; a rerun on the same data writes the same figures.
///
/// A call that owns its transaction (the whole-book chunks, `tierguardctl rescore`) locks the
/// customers by the session first and then runs at REPEATABLE READ, so all its loads read one
/// snapshot taken after any other scoring of those customers committed. A call inside its caller's
/// transaction runs at the caller's level and takes transaction-scoped locks; the `score_customer`
/// job (`ScoreCustomerJob`) gives it the same guarantee: the customer locked by the session, then
/// the completion transaction at REPEATABLE READ.
///
/// Thread safety: Sendable (its only mutable state, the "policy recorded" flag and the loader's
/// probe of the feedback tables, sits behind a `Mutex`); each call uses the session it is given,
/// which the calling thread owns (or which `PostgresConnection.withSession` lends it).
public final class CustomerScorer: Sendable {
    public let settings: ScoringSettings
    public let logger: Logger
    /// Log every suitability decision (customer id and the levels compared, never a name) at
    /// `info`; the whole-book path logs them at `debug` (10,000 customers × 8 products a run), and
    /// `customer_scores.suitability` keeps every decision either way.
    public let suitabilityLogLevel: LogLevel
    private let loader = ArchiveLoader()
    private let writer = ScoreWriter()
    private let policyRecorded = Mutex(false)

    public init(settings: ScoringSettings, logger: Logger, suitabilityLogLevel: LogLevel = .info) {
        self.settings = settings
        self.logger = logger
        self.suitabilityLogLevel = suitabilityLogLevel
    }

    /// Scores one customer; nil when the customer is not in the archive or there is no business date yet.
    @discardableResult
    public func score(_ session: PostgresSession, customerId: String) throws -> CustomerScore? {
        try score(session, customerIds: [customerId]).scores.first
    }

    public struct Result: Sendable {
        public var businessDate: CalendarDate?
        public var scores: [CustomerScore]
        public var outcome: ScoreWriter.Outcome
        /// Customers of the chunk left unscored: a money value beyond `maxModelMoneyFen` (an error
        /// line names each; the whole-book summary and `tierguardctl rescore` count them).
        public var notScored: [String] = []
        /// Seconds spent loading, in the model, and writing (for the benchmark's breakdown).
        public var loadSeconds = 0.0
        public var computeSeconds = 0.0
        public var writeSeconds = 0.0
    }

    /// Scores a chunk of customers in one transaction. `skipUnchanged` (the whole-book path): no
    /// new score row for a customer whose newest one has the same content (`ScoreWriter`).
    /// `traceparents`: per customer, the traceparent of the notification jobs its scoring enqueues
    /// (the `score_customer` jobs pass a child of their own trace).
    public func score(_ session: PostgresSession, customerIds: [String], businessDate: CalendarDate? = nil,
                      skipUnchanged: Bool = false, traceparents: [String: String] = [:]) throws -> Result {
        if !policyRecorded.withLock({ $0 }) {
            try settings.recordPolicy(session)
            policyRecorded.withLock { $0 = true }
        }
        guard let bd = try businessDate ?? settings.businessDate(session) else {
            logger.notice("no business date yet (no balance in the archive): nothing scored")
            return Result(businessDate: nil, scores: [], outcome: .init())
        }
        guard !session.isInTransaction else {
            // Inside the caller's transaction: its level (`ScoreCustomerJob`: repeatable read, the customer
            // already locked by the session), transaction-scoped locks (a no-op when already held).
            return try session.withTransaction { s in
                _ = try s.query(ScoringSQL.lockCustomers.binding(customerIds))
                return try scoreLocked(s, customerIds: customerIds, businessDate: bd, skipUnchanged: skipUnchanged,
                                       traceparents: traceparents)
            }
        }
        // Its own transaction: one snapshot for every load (REPEATABLE READ), so an ingest committing
        // between two of the loads cannot give the model half of its change (a new account's balances
        // without the account). The customers are locked first, by the session, so the snapshot
        // follows any other scoring of them; nothing else writes the rows a scoring updates (its
        // customers' history and own alert kinds), so a serialization failure is not expected, but
        // one is retried, twice, as the transient error it is.
        // The release is registered first: a lock statement that fails part-way (lock_timeout) keeps
        // the session locks it took, and the session may be a pooled connection that lives on. Releasing
        // a lock not held only returns false.
        defer { _ = try? session.query(ScoringSQL.unlockCustomersForSession.binding(customerIds)) }
        _ = try session.query(ScoringSQL.lockCustomersForSession.binding(customerIds))
        return try session.withTransaction(isolation: .repeatableRead, serializationRetries: 2) { s in
            try scoreLocked(s, customerIds: customerIds, businessDate: bd, skipUnchanged: skipUnchanged, traceparents: traceparents)
        }
    }

    /// Loads, scores and writes `customerIds` inside the session's transaction, their locks held.
    private func scoreLocked(_ s: PostgresSession, customerIds: [String], businessDate bd: CalendarDate,
                             skipUnchanged: Bool, traceparents: [String: String]) throws -> Result {
        let t0 = monotonicSeconds()
        let inputs = try loader.load(s, customerIds: customerIds, businessDate: bd, logger: logger,
                                     rollupLookbackDays: ScoringRollups.lookbackDays(settings.policy))
        let t1 = monotonicSeconds()
        var notScored: [String] = []
        let scores = inputs.filter { input in
            let within = Self.isWithinModelRange(input, logger: logger)
            if !within { notScored.append(input.customer.customerId) }
            return within
        }.map { CustomerScore.compute($0, businessDate: bd, policy: settings.policy, catalog: settings.catalog) }
        logSuitability(scores)
        let t2 = monotonicSeconds()
        let outcome = try writer.write(s, scores: scores, businessDate: bd, policy: settings.policy,
                                         skipUnchanged: skipUnchanged, traceparents: traceparents)
        return Result(businessDate: bd, scores: scores, outcome: outcome, notScored: notScored, loadSeconds: t1 - t0,
                      computeSeconds: t2 - t1, writeSeconds: monotonicSeconds() - t2)
    }

    /// The largest money value (balance, transaction amount, annual income; either sign) the model is
    /// given: Int64.max / (366 days × 64 accounts) fen ≈ 3.9 × 10^12 yuan, far above any real account, so
    /// that no sum the model forms (a year of daily AUM over a customer's accounts, `12 × spend`) can leave
    /// Int64. The feed contract accepts any Int64 fen (RULES.md); a customer holding a value beyond this is
    /// not scored — an error line names the customer — instead of the process trapping on overflow.
    public static let maxModelMoneyFen: Int64 = Int64.max / (366 * 64)

    static func isWithinModelRange(_ input: CustomerInput, logger: Logger) -> Bool {
        func fits(_ fen: Fen) -> Bool { fen.value.magnitude <= UInt64(maxModelMoneyFen) }
        let ok = input.balances.allSatisfy { fits($0.balance) } && input.transactions.allSatisfy { fits($0.amount) }
            && (input.customer.annualIncome.map(fits) ?? true)
        if !ok {
            logger.error("customer not scored: a money value is beyond what the model can sum",
                         metadata: ["customer_id": input.customer.customerId, "limit_fen": String(maxModelMoneyFen)])
        }
        return ok
    }

    /// Runs the model for one customer on the business date without writing anything
    /// (`tierguardctl customer explain`); nil when unknown or no business date.
    public func evaluate(_ session: PostgresSession, customerId: String) throws -> (CustomerScore, CustomerInput)? {
        guard let bd = try settings.businessDate(session),
              let input = try loader.load(session, customerIds: [customerId], businessDate: bd, logger: logger).first else { return nil }
        guard Self.isWithinModelRange(input, logger: logger) else {
            throw ScoringError("customer \(customerId) holds a money value beyond \(Self.maxModelMoneyFen) fen, more than the model can sum; it is not scored")
        }
        return (CustomerScore.compute(input, businessDate: bd, policy: settings.policy, catalog: settings.catalog), input)
    }

    func logSuitability(_ scores: [CustomerScore]) {
        guard logger.isEnabled(suitabilityLogLevel) else { return }
        for score in scores {
            for d in score.nextBestAction.suitability {
                logger.log(suitabilityLogLevel, "suitability \(d.summary)", metadata: [
                    "customer_id": score.customerId, "product": d.productCode, "product_level": d.productLevel.code,
                    "customer_level": d.customerLevel.code, "allowed": d.allowed ? "true" : "false",
                    "reason": d.reason.rawValue, "assessment_expired": d.assessmentExpired ? "true" : "false",
                ])
            }
        }
    }
}
