import FeedContract
import Foundation
import Testing
import TierGuardModel

@Suite struct RecordAcceptanceTests {
    @Test func acceptsACustomerWithEveryField() throws {
        let items = try decode(Sample.customer.text + "\n")
        let expected = Customer(
            customerId: "C001", name: "张三", idType: .residentId, idNumber: "11010519491231002X", phone: "13812345678",
            birthDate: CalendarDate(year: 1949, month: 12, day: 31), gender: "M", riskLevel: .c3,
            riskAssessedOn: CalendarDate(year: 2025, month: 6, day: 1)!, annualIncome: Fen(36_000_000), rmId: "RM01",
            branchId: "BJ001", openedOn: CalendarDate(year: 2010, month: 5, day: 20)!, status: .active, marketingOptOut: false)
        #expect(items == [.record(.customer(expected), lineNumber: 1)])
        #expect(items[0].record?.naturalKey == .customer(customerId: "C001"))
    }

    @Test func appliesTheCustomerDefaults() throws {
        let line = Sample.customer.with("id_type", nil).with("marketing_opt_out", nil).with("phone", "null")
            .with("birth_date", nil).with("gender", json("")).with("annual_income", nil)
        guard case .customer(let c) = try decode(line.text)[0].record else { Issue.record("not accepted"); return }
        #expect(c.idType == .residentId)
        #expect(c.marketingOptOut == false)
        #expect(c.phone == nil && c.birthDate == nil && c.gender == nil && c.annualIncome == nil)
    }

    @Test func acceptsAPassportOfAnyShapeAndAnOptOut() throws {
        let line = Sample.customer.with(string: "id_type", "passport").with(string: "id_number", "E1234567 (old)")
            .with("marketing_opt_out", "true").with(string: "birth_date", "1980-02-29").with(string: "status", "closed")
        guard case .customer(let c) = try decode(line.text)[0].record else { Issue.record("not accepted"); return }
        #expect(c.idType == .passport && c.idNumber == "E1234567 (old)")
        #expect(c.marketingOptOut && c.status == .closed)
        #expect(c.birthDate == CalendarDate(year: 1980, month: 2, day: 29))
    }

    @Test func acceptsAnAccount() throws {
        let items = try decode(Sample.account.text)
        let expected = Account(accountId: "A001", customerId: "C001", product: .timeDeposit, productCode: "TD3Y", currency: "CNY",
                               openedOn: CalendarDate(year: 2024, month: 1, day: 15)!,
                               maturityOn: CalendarDate(year: 2027, month: 1, day: 15))
        #expect(items == [.record(.account(expected), lineNumber: 1)])
        #expect(items[0].record?.naturalKey == .account(accountId: "A001"))
    }

    @Test func acceptsABalanceIncludingNegativeOnes() throws {
        let items = try decode(Sample.balance.text + "\n" + Sample.balance.with(string: "balance", "-0.5").text + "\n")
        let day = CalendarDate(year: 2026, month: 3, day: 31)!
        #expect(items == [
            .record(.balance(Balance(accountId: "A001", asOf: day, balance: Fen(123_456_789))), lineNumber: 1),
            .record(.balance(Balance(accountId: "A001", asOf: day, balance: Fen(-50))), lineNumber: 2),
        ])
        #expect(items[0].record?.naturalKey == .balance(accountId: "A001", asOf: day))
    }

    @Test func acceptsATransactionWithItsInstantInUTC() throws {
        let items = try decode(Sample.transaction.text)
        let expected = Transaction(txnId: "T0001", accountId: "A001",
                                   bookedAtEpochSeconds: epochSeconds(2026, 3, 31, 9, 30, 0, offsetHours: 8),
                                   bookedAtNanos: 500_000_000, amount: Fen(-5_000_000), category: .transferOut,
                                   channel: .mobile, counterpartyBank: "ICBC", description: "转出")
        #expect(items == [.record(.transaction(expected), lineNumber: 1)])
        #expect(items[0].record?.naturalKey == .transaction(txnId: "T0001"))
    }

    @Test func acceptsTheLargestAndSmallestMoney() throws {
        let max = Sample.balance.with(string: "balance", "92233720368547758.07")
        let min = Sample.balance.with(string: "balance", "-92233720368547758.07")
        guard case .balance(let b1) = try decode(max.text)[0].record,
              case .balance(let b2) = try decode(min.text)[0].record else { Issue.record("not accepted"); return }
        #expect(b1.balance == Fen(Int64.max))
        #expect(b2.balance == Fen(-Int64.max))
    }

    @Test func ignoresUnknownFieldsOfAnyKind() throws {
        let line = Sample.balance.with("source", json("core")).with("seq", "1e999999").with("big", String(repeating: "9", count: 400))
            .with("flag", "false").with("nothing", "null").with("customer_id", json("not an id at all"))
        #expect(try reason(line) == nil)
    }

    @Test func mixesRecordTypesAndSkipsBlankLinesKeepingNumbers() throws {
        let text = [Sample.customer.text, "", "   \t", Sample.account.text, Sample.balance.text, "",
                    Sample.transaction.text, Sample.relationshipManager.text].joined(separator: "\n")
        let items = try decode(text)
        #expect(items.map(\.lineNumber) == [1, 4, 5, 7, 8])
        #expect(items.compactMap { $0.record?.recordType } == [.customer, .account, .balance, .transaction, .relationshipManager])
    }

    @Test func theNaturalKeyDescriptionsCarryNoPersonalData() {
        #expect(FeedNaturalKey.balance(accountId: "A1", asOf: CalendarDate(year: 2026, month: 1, day: 2)!).description == "balance A1 2026-01-02")
        #expect(FeedNaturalKey.relationshipManager(rmId: "RM7").description == "relationship_manager RM7")
    }

    @Test func infersTheFormatFromTheFileName() {
        #expect(FeedFormat.inferred(fromFileName: "/drop/customers-2026-03-31.csv") == .csv(.customer))
        #expect(FeedFormat.inferred(fromFileName: "accounts.CSV") == .csv(.account))
        #expect(FeedFormat.inferred(fromFileName: "balances_01.csv") == .csv(.balance))
        #expect(FeedFormat.inferred(fromFileName: "transactions.csv") == .csv(.transaction))
        #expect(FeedFormat.inferred(fromFileName: "relationship_managers.csv") == .csv(.relationshipManager))
        #expect(FeedFormat.inferred(fromFileName: "feed.ndjson") == .ndjson)
        #expect(FeedFormat.inferred(fromFileName: "feed.jsonl") == .ndjson)
        #expect(FeedFormat.inferred(fromFileName: "loans.csv") == nil)
        #expect(FeedFormat.inferred(fromFileName: "feed.txt") == nil)
    }

    @Test func theContractIsVersionOnePointOne() {
        #expect(FeedContract.version == "1.1")
        #expect(FeedRecordType.relationshipManager.sinceVersion == "1.1")
        #expect(FeedRecordType.customer.sinceVersion == "1.0")
        #expect(FeedRecordType.balance.requiredFields == ["account_id", "as_of", "balance"])
        #expect(FeedRecordType.relationshipManager.requiredFields == ["rm_id", "name", "branch_id", "active"])
    }
}
