import TierGuardModel

let idTypeTable = EnumTable(IdType.self)
let statusTable = EnumTable(CustomerStatus.self)
let genderTable = EnumTable(Gender.self)
let riskLevelTable = EnumTable(RiskLevel.allCases.map { ($0.code, $0) })
let productTable = EnumTable(Product.self)
let categoryTable = EnumTable(TransactionCategory.self)
let channelTable = EnumTable(Channel.self)
let recordTypeTable = EnumTable(FeedRecordType.self)
let currencyCNY: [UInt8] = Array("CNY".utf8)

/// Turns the fields of one record into a record, checking the rules in contract field order.
enum RecordValidator {
    static func validate(_ type: FeedRecordType, _ r: FieldReader) throws(FieldFault) -> FeedRecord {
        switch type {
        case .customer: .customer(try customer(r))
        case .account: .account(try account(r))
        case .balance: .balance(try balance(r))
        case .transaction: .transaction(try transaction(r))
        case .relationshipManager: .relationshipManager(try relationshipManager(r))
        }
    }

    static func customer(_ r: FieldReader) throws(FieldFault) -> Customer {
        let customerId = try r.requiredID(.customerId)
        let name = try r.requiredString(.name)
        let idType = try r.enumValue(.idType, idTypeTable, required: false) ?? .residentId
        let idBytes = try r.requiredText(.idNumber)
        var birthInID: CalendarDate?
        if idType == .residentId {
            switch ResidentIDNumber.validate(idBytes) {
            case .success(let birth): birthInID = birth
            case .failure(let problem): throw r.fault(.idNumber, idBytes, problem.message)
            }
        }
        let phone = try r.mobile(.phone)
        let birthDate = try r.optionalDate(.birthDate)
        if let birthDate, let birthInID, birthDate != birthInID {
            throw FieldFault(field: .birthDate,
                             message: "birth_date \(birthDate): differs from the birth date \(birthInID) in id_number")
        }
        let gender = try r.enumValue(.gender, genderTable, required: false)
        let riskLevel = try r.enumValue(.riskLevel, riskLevelTable, required: true)!
        guard let riskAssessedOn = try r.optionalDate(.riskAssessedOn) else {
            throw FieldFault(field: .riskAssessedOn, message: "risk_assessed_on is required with risk_level")
        }
        let annualIncome = try r.money(.annualIncome, required: false, nonNegative: true)
        let rmId = try r.requiredID(.rmId)
        let branchId = try r.requiredID(.branchId)
        let openedOn = try r.requiredDate(.openedOn)
        let status = try r.enumValue(.status, statusTable, required: true)!
        let optOut = try r.bool(.marketingOptOut) ?? false
        return Customer(customerId: customerId, name: name, idType: idType, idNumber: r.string(idBytes), phone: phone,
                        birthDate: birthDate, gender: gender?.rawValue, riskLevel: riskLevel, riskAssessedOn: riskAssessedOn,
                        annualIncome: annualIncome, rmId: rmId, branchId: branchId, openedOn: openedOn, status: status,
                        marketingOptOut: optOut)
    }

    static func account(_ r: FieldReader) throws(FieldFault) -> Account {
        let accountId = try r.requiredID(.accountId)
        let customerId = try r.requiredID(.customerId)
        let product = try r.enumValue(.product, productTable, required: true)!
        let productCode = try r.optionalString(.productCode)
        let currency = try r.requiredText(.currency)
        guard currency.elementsEqual(currencyCNY) else {
            throw FieldFault(field: .currency, message: "currency \(ReasonText.clip(r.string(currency))) not supported in contract v1 (only CNY)")
        }
        let openedOn = try r.requiredDate(.openedOn)
        let maturityOn = try r.optionalDate(.maturityOn)
        if let maturityOn, maturityOn < openedOn {
            throw FieldFault(field: .maturityOn, message: "maturity_on \(maturityOn): is before opened_on \(openedOn)")
        }
        let closedOn = try r.optionalDate(.closedOn)
        if let closedOn, closedOn < openedOn {
            throw FieldFault(field: .closedOn, message: "closed_on \(closedOn): is before opened_on \(openedOn)")
        }
        return Account(accountId: accountId, customerId: customerId, product: product, productCode: productCode,
                       currency: "CNY", openedOn: openedOn, maturityOn: maturityOn, closedOn: closedOn)
    }

    static func balance(_ r: FieldReader) throws(FieldFault) -> Balance {
        let accountId = try r.requiredID(.accountId)
        let asOf = try r.requiredDate(.asOf)
        let balance = try r.money(.balance, required: true)!
        return Balance(accountId: accountId, asOf: asOf, balance: balance)
    }

    static func transaction(_ r: FieldReader) throws(FieldFault) -> Transaction {
        let txnId = try r.requiredID(.txnId)
        let accountId = try r.requiredID(.accountId)
        // Kept to the microsecond, as the archive stores it (`truncatedToMicroseconds`): the record
        // the model scores is the record the archive holds.
        let bookedAt = try r.timestamp(.bookedAt).truncatedToMicroseconds
        let amount = try r.money(.amount, required: true)!
        let category = try r.enumValue(.category, categoryTable, required: true)!
        let channel = try r.enumValue(.channel, channelTable, required: true)!
        let counterpartyBank = try r.optionalString(.counterpartyBank)
        let description = try r.optionalString(.description)
        return Transaction(txnId: txnId, accountId: accountId, bookedAtEpochSeconds: bookedAt.epochSeconds,
                           bookedAtNanos: bookedAt.nanoseconds, amount: amount, category: category, channel: channel,
                           counterpartyBank: counterpartyBank, description: description)
    }

    static func relationshipManager(_ r: FieldReader) throws(FieldFault) -> RelationshipManager {
        let rmId = try r.requiredID(.rmId)
        let name = try r.requiredString(.name)
        let branchId = try r.requiredID(.branchId)
        let managerRmId = try r.optionalID(.managerRmId)
        if managerRmId == rmId {
            throw FieldFault(field: .managerRmId, message: "manager_rm_id \(rmId): an RM cannot be their own manager")
        }
        var wecom: String?
        if let b = try r.text(.wecomUserid) {
            guard FieldRules.isWeComUserID(b) else { throw r.fault(.wecomUserid, b, FieldRules.wecomRule) }
            wecom = r.string(b)
        }
        var email: String?
        if let b = try r.text(.email) {
            guard FieldRules.isEmail(b) else { throw r.fault(.email, b, FieldRules.emailRule) }
            email = r.string(b)
        }
        let mobile = try r.mobile(.mobile)
        guard let active = try r.bool(.active) else {
            throw FieldFault(field: .active, message: "active is required")
        }
        return RelationshipManager(rmId: rmId, name: name, branchId: branchId, managerRmId: managerRmId,
                                   wecomUserid: wecom, email: email, mobile: mobile, active: active)
    }
}
