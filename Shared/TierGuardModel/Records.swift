/// The archive's records as the feed contract v1 defines them, after validation.
///
/// These are the values ingest stores and the scorer reads; they carry no database or wire
/// concerns. Personal fields (`name`, `idNumber`, `phone`) are plain here and must be masked
/// (see `Masking`) before they reach a log line or a screen.

public enum IdType: String, Codable, Sendable, CaseIterable { case residentId = "resident_id", passport, other }
public enum CustomerStatus: String, Codable, Sendable, CaseIterable { case active, closed }
public enum Gender: String, Codable, Sendable, CaseIterable { case male = "M", female = "F", other = "O" }

/// 客户风险承受能力等级 C1 (most conservative) … C5.
public enum RiskLevel: Int, Codable, Sendable, CaseIterable, Comparable {
    case c1 = 1, c2, c3, c4, c5
    public var code: String { "C\(rawValue)" }
    public init?(code: String) {
        guard code.count == 2, code.first == "C", let n = Int(code.dropFirst()), let level = RiskLevel(rawValue: n) else { return nil }
        self = level
    }
    public static func < (a: RiskLevel, b: RiskLevel) -> Bool { a.rawValue < b.rawValue }
}

/// 产品风险等级 R1 (lowest) … R5.
public enum ProductRisk: Int, Codable, Sendable, CaseIterable, Comparable {
    case r1 = 1, r2, r3, r4, r5
    public var code: String { "R\(rawValue)" }
    public init?(code: String) {
        guard code.count == 2, code.first == "R", let n = Int(code.dropFirst()), let level = ProductRisk(rawValue: n) else { return nil }
        self = level
    }
    public static func < (a: ProductRisk, b: ProductRisk) -> Bool { a.rawValue < b.rawValue }
}

public enum Product: String, Codable, Sendable, CaseIterable {
    case demandDeposit = "demand_deposit", timeDeposit = "time_deposit", wealth, fund, insurance, loan, creditCard = "credit_card"
    /// Asset products count toward AUM; loans and cards never do.
    public var isAsset: Bool { self != .loan && self != .creditCard }
}

public enum TransactionCategory: String, Codable, Sendable, CaseIterable {
    case deposit, withdrawal, transferIn = "transfer_in", transferOut = "transfer_out", purchase, redemption
    case cardSpend = "card_spend", repayment, fee, interest
    /// Interest and fees are the bank's doing, not the customer's: they do not count as activity.
    public var isCustomerInitiated: Bool { self != .fee && self != .interest }
}

public enum Channel: String, Codable, Sendable, CaseIterable { case branch, mobile, online, atm, pos, callCenter = "call_center" }

public struct Customer: Hashable, Codable, Sendable {
    public var customerId: String
    public var name: String
    public var idType: IdType
    public var idNumber: String
    public var phone: String?
    public var birthDate: CalendarDate?
    public var gender: String?
    public var riskLevel: RiskLevel
    public var riskAssessedOn: CalendarDate
    public var annualIncome: Fen?
    public var rmId: String
    public var branchId: String
    public var openedOn: CalendarDate
    public var status: CustomerStatus
    public var marketingOptOut: Bool

    public init(customerId: String, name: String, idType: IdType = .residentId, idNumber: String, phone: String? = nil,
                birthDate: CalendarDate? = nil, gender: String? = nil, riskLevel: RiskLevel, riskAssessedOn: CalendarDate,
                annualIncome: Fen? = nil, rmId: String, branchId: String, openedOn: CalendarDate,
                status: CustomerStatus = .active, marketingOptOut: Bool = false) {
        self.customerId = customerId; self.name = name; self.idType = idType; self.idNumber = idNumber
        self.phone = phone; self.birthDate = birthDate; self.gender = gender; self.riskLevel = riskLevel
        self.riskAssessedOn = riskAssessedOn; self.annualIncome = annualIncome; self.rmId = rmId
        self.branchId = branchId; self.openedOn = openedOn; self.status = status; self.marketingOptOut = marketingOptOut
    }
}

public struct Account: Hashable, Codable, Sendable {
    public var accountId: String
    public var customerId: String
    public var product: Product
    public var productCode: String?
    public var currency: String
    public var openedOn: CalendarDate
    public var maturityOn: CalendarDate?
    public var closedOn: CalendarDate?

    public init(accountId: String, customerId: String, product: Product, productCode: String? = nil, currency: String = "CNY",
                openedOn: CalendarDate, maturityOn: CalendarDate? = nil, closedOn: CalendarDate? = nil) {
        self.accountId = accountId; self.customerId = customerId; self.product = product; self.productCode = productCode
        self.currency = currency; self.openedOn = openedOn; self.maturityOn = maturityOn; self.closedOn = closedOn
    }
}

/// The core system's end-of-day balance of one account on one day.
public struct Balance: Hashable, Codable, Sendable {
    public var accountId: String
    public var asOf: CalendarDate
    public var balance: Fen

    public init(accountId: String, asOf: CalendarDate, balance: Fen) {
        self.accountId = accountId; self.asOf = asOf; self.balance = balance
    }
}

public struct Transaction: Hashable, Codable, Sendable {
    public var txnId: String
    public var accountId: String
    /// Seconds since 1970-01-01T00:00:00Z (the offset in the feed is applied).
    public var bookedAtEpochSeconds: Int64
    /// Nanoseconds within the second (the feed allows 1–9 fraction digits).
    public var bookedAtNanos: Int32
    /// Signed: negative is money leaving the account.
    public var amount: Fen
    public var category: TransactionCategory
    public var channel: Channel
    public var counterpartyBank: String?
    public var description: String?

    public init(txnId: String, accountId: String, bookedAtEpochSeconds: Int64, bookedAtNanos: Int32 = 0, amount: Fen,
                category: TransactionCategory, channel: Channel, counterpartyBank: String? = nil, description: String? = nil) {
        self.txnId = txnId; self.accountId = accountId; self.bookedAtEpochSeconds = bookedAtEpochSeconds
        self.bookedAtNanos = bookedAtNanos; self.amount = amount; self.category = category; self.channel = channel
        self.counterpartyBank = counterpartyBank; self.description = description
    }

    /// The day the transaction was booked in Asia/Shanghai (UTC+8, no daylight saving since 1991).
    public var bookedOnShanghai: CalendarDate {
        let shifted = bookedAtEpochSeconds + 8 * 3600
        let days = shifted >= 0 ? shifted / 86_400 : (shifted - 86_399) / 86_400
        return CalendarDate(dayNumber: Int(days))
    }
}

/// A relationship manager (客户经理), feed contract v1.1.
public struct RelationshipManager: Hashable, Codable, Sendable {
    public var rmId: String
    public var name: String
    public var branchId: String
    public var managerRmId: String?
    public var wecomUserid: String?
    public var email: String?
    public var mobile: String?
    public var active: Bool

    public init(rmId: String, name: String, branchId: String, managerRmId: String? = nil, wecomUserid: String? = nil,
                email: String? = nil, mobile: String? = nil, active: Bool = true) {
        self.rmId = rmId; self.name = name; self.branchId = branchId; self.managerRmId = managerRmId
        self.wecomUserid = wecomUserid; self.email = email; self.mobile = mobile; self.active = active
    }
}
