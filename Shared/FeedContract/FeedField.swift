/// Every field name the contract knows, across all record types, with a byte-level lookup.
///
/// The scanner maps a key to one of these by its bytes, so no `String` is built for a key; a key that
/// is not here is an unknown field (ignored, but still checked for duplicates and C3 names).
enum FeedField: Int, CaseIterable, Sendable {
    case type
    case customerId, name, idType, idNumber, phone, birthDate, gender, riskLevel, riskAssessedOn, annualIncome
    case rmId, branchId, openedOn, status, marketingOptOut
    case accountId, product, productCode, currency, maturityOn, closedOn
    case asOf, balance
    case txnId, bookedAt, amount, category, channel, counterpartyBank, description
    case managerRmId, wecomUserid, email, mobile, active

    static let count = FeedField.allCases.count

    var name: String {
        switch self {
        case .type: "type"
        case .customerId: "customer_id"
        case .name: "name"
        case .idType: "id_type"
        case .idNumber: "id_number"
        case .phone: "phone"
        case .birthDate: "birth_date"
        case .gender: "gender"
        case .riskLevel: "risk_level"
        case .riskAssessedOn: "risk_assessed_on"
        case .annualIncome: "annual_income"
        case .rmId: "rm_id"
        case .branchId: "branch_id"
        case .openedOn: "opened_on"
        case .status: "status"
        case .marketingOptOut: "marketing_opt_out"
        case .accountId: "account_id"
        case .product: "product"
        case .productCode: "product_code"
        case .currency: "currency"
        case .maturityOn: "maturity_on"
        case .closedOn: "closed_on"
        case .asOf: "as_of"
        case .balance: "balance"
        case .txnId: "txn_id"
        case .bookedAt: "booked_at"
        case .amount: "amount"
        case .category: "category"
        case .channel: "channel"
        case .counterpartyBank: "counterparty_bank"
        case .description: "description"
        case .managerRmId: "manager_rm_id"
        case .wecomUserid: "wecom_userid"
        case .email: "email"
        case .mobile: "mobile"
        case .active: "active"
        }
    }

    /// Personal fields whose values are masked (or left out) in reject reasons.
    var isPersonal: Bool {
        switch self {
        case .name, .idNumber, .phone, .mobile, .email, .wecomUserid, .description: true
        default: false
        }
    }
}

/// Key bytes → `FeedField`, bucketed by key length; built once per parser.
struct FeedFieldTable: Sendable {
    /// `buckets[length]` lists (name bytes, field raw value) of that length.
    private let buckets: [[([UInt8], Int)]]
    let maxLength: Int

    init() {
        var longest = 0
        for field in FeedField.allCases { longest = max(longest, field.name.utf8.count) }
        var buckets = [[([UInt8], Int)]](repeating: [], count: longest + 1)
        for field in FeedField.allCases {
            let bytes = Array(field.name.utf8)
            buckets[bytes.count].append((bytes, field.rawValue))
        }
        self.buckets = buckets
        self.maxLength = longest
    }

    /// The field named by `base[start..<end]`, or nil for an unknown key.
    @inline(__always)
    func field(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> FeedField? {
        let length = end - start
        guard length > 0, length <= maxLength else { return nil }
        for (name, raw) in buckets[length] {
            var equal = true
            name.withUnsafeBufferPointer { n in
                for i in 0..<length where n[i] != base[start + i] { equal = false; break }
            }
            if equal { return FeedField(rawValue: raw) }
        }
        return nil
    }
}
