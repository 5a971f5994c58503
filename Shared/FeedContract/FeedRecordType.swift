/// The record types of feed contract v1.1, named as the NDJSON `"type"` value says them.
///
/// `relationship_manager` arrived in v1.1; the four others are v1. The order of `fields` is the
/// contract field order, which is also the order in which a record's faults are looked for (the
/// first fault found is the one reported).
public enum FeedRecordType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case customer
    case account
    case balance
    case transaction
    case relationshipManager = "relationship_manager"

    public var description: String { rawValue }

    /// The contract version that introduced the record type.
    public var sinceVersion: String { self == .relationshipManager ? "1.1" : "1.0" }

    /// Every field of the record type, in contract order (without `type`).
    public var fields: [String] { feedFields.map(\.name) }

    /// The fields a record must carry (non-empty); the others are optional.
    public var requiredFields: [String] { feedFields.filter { isRequired($0) }.map(\.name) }

    var feedFields: [FeedField] {
        switch self {
        case .customer:
            [.customerId, .name, .idType, .idNumber, .phone, .birthDate, .gender, .riskLevel, .riskAssessedOn,
             .annualIncome, .rmId, .branchId, .openedOn, .status, .marketingOptOut]
        case .account:
            [.accountId, .customerId, .product, .productCode, .currency, .openedOn, .maturityOn, .closedOn]
        case .balance:
            [.accountId, .asOf, .balance]
        case .transaction:
            [.txnId, .accountId, .bookedAt, .amount, .category, .channel, .counterpartyBank, .description]
        case .relationshipManager:
            [.rmId, .name, .branchId, .managerRmId, .wecomUserid, .email, .mobile, .active]
        }
    }

    func isRequired(_ field: FeedField) -> Bool {
        switch (self, field) {
        case (.customer, .idType), (.customer, .phone), (.customer, .birthDate), (.customer, .gender),
             (.customer, .annualIncome), (.customer, .marketingOptOut),
             (.account, .productCode), (.account, .maturityOn), (.account, .closedOn),
             (.transaction, .counterpartyBank), (.transaction, .description),
             (.relationshipManager, .managerRmId), (.relationshipManager, .wecomUserid),
             (.relationshipManager, .email), (.relationshipManager, .mobile):
            false
        default:
            true
        }
    }

    /// The record type of a CSV file from its name: `customers*.csv`, `accounts*.csv`,
    /// `balances*.csv`, `transactions*.csv`, `relationship_managers*.csv` (the last path component;
    /// prefix lowercase as written, `.csv` in any case). Nil for any other name.
    public static func inferred(fromCSVFileName path: String) -> FeedRecordType? {
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
        guard name.count > 4, name.suffix(4).lowercased() == ".csv" else { return nil }
        // Longest prefix first is not needed: no prefix is a prefix of another.
        let prefixes: [(String, FeedRecordType)] = [
            ("customers", .customer), ("accounts", .account), ("balances", .balance),
            ("transactions", .transaction), ("relationship_managers", .relationshipManager),
        ]
        for (prefix, type) in prefixes where name.hasPrefix(prefix) { return type }
        return nil
    }
}

/// How a feed's bytes are laid out.
public enum FeedFormat: Sendable, Hashable, CustomStringConvertible {
    /// One JSON object per line, `"type"` naming the record type; types may be mixed.
    case ndjson
    /// RFC 4180 CSV with a header row, one record type per file.
    case csv(FeedRecordType)

    /// The format a file name implies: `*.ndjson`, `*.jsonl`, `*.json` are NDJSON; CSV names as in
    /// `FeedRecordType.inferred(fromCSVFileName:)`. Nil when the name says nothing.
    public static func inferred(fromFileName path: String) -> FeedFormat? {
        if let type = FeedRecordType.inferred(fromCSVFileName: path) { return .csv(type) }
        let lower = path.lowercased()
        if lower.hasSuffix(".ndjson") || lower.hasSuffix(".jsonl") || lower.hasSuffix(".json") { return .ndjson }
        return nil
    }

    public var description: String {
        switch self {
        case .ndjson: "ndjson"
        case .csv(let type): "csv(\(type.rawValue))"
        }
    }
}
