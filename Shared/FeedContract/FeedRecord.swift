public import TierGuardModel

/// One valid record of a feed, as the archive stores it.
public enum FeedRecord: Hashable, Sendable {
    case customer(Customer)
    case account(Account)
    case balance(Balance)
    case transaction(Transaction)
    case relationshipManager(RelationshipManager)

    public var recordType: FeedRecordType {
        switch self {
        case .customer: .customer
        case .account: .account
        case .balance: .balance
        case .transaction: .transaction
        case .relationshipManager: .relationshipManager
        }
    }

    /// The key that makes a delivery idempotent: the same key twice is the same record (identical
    /// content is `unchanged`, different content replaces the earlier one).
    public var naturalKey: FeedNaturalKey {
        switch self {
        case .customer(let c): .customer(customerId: c.customerId)
        case .account(let a): .account(accountId: a.accountId)
        case .balance(let b): .balance(accountId: b.accountId, asOf: b.asOf)
        case .transaction(let t): .transaction(txnId: t.txnId)
        case .relationshipManager(let r): .relationshipManager(rmId: r.rmId)
        }
    }
}

/// The natural key of each record type: customer_id, account_id, (account_id, as_of), txn_id, rm_id.
public enum FeedNaturalKey: Hashable, Sendable, CustomStringConvertible {
    case customer(customerId: String)
    case account(accountId: String)
    case balance(accountId: String, asOf: CalendarDate)
    case transaction(txnId: String)
    case relationshipManager(rmId: String)

    /// `customer C001`, `balance A001 2026-03-31`: safe to log (ids only, no personal data).
    public var description: String {
        switch self {
        case .customer(let id): "customer \(id)"
        case .account(let id): "account \(id)"
        case .balance(let id, let day): "balance \(id) \(day)"
        case .transaction(let id): "transaction \(id)"
        case .relationshipManager(let id): "relationship_manager \(id)"
        }
    }
}
