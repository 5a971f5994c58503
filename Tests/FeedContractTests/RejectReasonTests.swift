import FeedContract
import Testing

/// One field changed (raw JSON token, nil to drop it) and the exact reason expected on line 1.
struct RejectCase: Sendable, CustomTestStringConvertible {
    var record: String
    var key: String
    var token: String?
    var reason: String
    var testDescription: String { "\(record).\(key) = \(token ?? "(missing)")" }

    var line: Line {
        let base: Line = switch record {
        case "customer": Sample.customer
        case "account": Sample.account
        case "balance": Sample.balance
        case "transaction": Sample.transaction
        default: Sample.relationshipManager
        }
        return base.with(key, token)
    }
}

private let moneyNumber = "money must be a JSON string such as \"12345.67\"; a JSON number cannot be trusted to the fen"
private let moneySyntax = "not an amount: an optional -, digits, and at most two decimals after a point (\"-12345.67\")"
private let moneyTooLarge = "too large: an amount must fit in Int64 fen (-92233720368547758.08 to 92233720368547758.07 yuan)"
private let idRule = "must be 1–32 characters of A–Z, a–z, 0–9, _ or -"
private let mobileRule = "must be a mainland mobile number, 1[3-9] and 9 more digits (no +86, spaces or hyphens)"

private let customerCases: [RejectCase] = [
    .init(record: "customer", key: "customer_id", token: nil, reason: "line 1: customer_id is required"),
    .init(record: "customer", key: "customer_id", token: json(""), reason: "line 1: customer_id is required"),
    .init(record: "customer", key: "customer_id", token: "null", reason: "line 1: customer_id is required"),
    .init(record: "customer", key: "customer_id", token: json("C 1"), reason: "line 1: customer_id C 1: \(idRule)"),
    .init(record: "customer", key: "customer_id", token: json(String(repeating: "C", count: 33)),
          reason: "line 1: customer_id \(String(repeating: "C", count: 33)): \(idRule)"),
    .init(record: "customer", key: "customer_id", token: "7", reason: "line 1: customer_id must be a JSON string, got the number 7"),
    .init(record: "customer", key: "customer_id", token: "true", reason: "line 1: customer_id must be a JSON string, got true"),
    .init(record: "customer", key: "name", token: json(""), reason: "line 1: name is required"),
    .init(record: "customer", key: "id_type", token: json("ID"), reason: "line 1: id_type ID: must be one of resident_id, passport, other"),
    .init(record: "customer", key: "id_number", token: nil, reason: "line 1: id_number is required"),
    .init(record: "customer", key: "id_number", token: json("110105194912310021"),
          reason: "line 1: id_number 110105********0021: check digit should be X"),
    .init(record: "customer", key: "id_number", token: json("11010519491231002x"),
          reason: "line 1: id_number 110105********002x: check character is a lowercase x; only an uppercase X is accepted"),
    .init(record: "customer", key: "id_number", token: json("110105491231002"),
          reason: "line 1: id_number 110105*****1002: 15-digit first-generation numbers are refused; give the 18-character number"),
    .init(record: "customer", key: "id_number", token: json("1101051949123100"),
          reason: "line 1: id_number 110105******3100: must be 18 characters (17 digits and a check digit or X), got 16"),
    .init(record: "customer", key: "id_number", token: json("1101A519491231002X"),
          reason: "line 1: id_number 1101A5********002X: characters 1–17 must be digits"),
    .init(record: "customer", key: "id_number", token: json("11010519491231002Y"),
          reason: "line 1: id_number 110105********002Y: the 18th character must be a digit or X"),
    .init(record: "customer", key: "id_number", token: json("110105194902300028"),
          reason: "line 1: id_number 110105********0028: characters 7–14 are not a real date (YYYYMMDD)"),
    .init(record: "customer", key: "phone", token: json("+8613812345678"), reason: "line 1: phone +86*******5678: \(mobileRule)"),
    .init(record: "customer", key: "phone", token: json("12812345678"), reason: "line 1: phone 128****5678: \(mobileRule)"),
    .init(record: "customer", key: "phone", token: json("138-1234-5678"), reason: "line 1: phone 138******5678: \(mobileRule)"),
    .init(record: "customer", key: "birth_date", token: json("1950-01-01"),
          reason: "line 1: birth_date 1950-01-01: differs from the birth date 1949-12-31 in id_number"),
    .init(record: "customer", key: "birth_date", token: json("1949-02-30"), reason: "line 1: birth_date 1949-02-30: not a real date"),
    .init(record: "customer", key: "birth_date", token: json("1949/12/31"),
          reason: "line 1: birth_date 1949/12/31: not a date in the form YYYY-MM-DD"),
    .init(record: "customer", key: "gender", token: json("male"), reason: "line 1: gender male: must be one of M, F, O"),
    .init(record: "customer", key: "risk_level", token: nil, reason: "line 1: risk_level is required"),
    .init(record: "customer", key: "risk_level", token: json("c3"), reason: "line 1: risk_level c3: must be one of C1, C2, C3, C4, C5"),
    .init(record: "customer", key: "risk_assessed_on", token: nil, reason: "line 1: risk_assessed_on is required with risk_level"),
    .init(record: "customer", key: "annual_income", token: json("-1.00"), reason: "line 1: annual_income -1.00: must not be negative"),
    .init(record: "customer", key: "annual_income", token: "360000", reason: "line 1: annual_income 360000: \(moneyNumber)"),
    .init(record: "customer", key: "annual_income", token: json("1.234"),
          reason: "line 1: annual_income 1.234: at most two decimals (fen) are allowed"),
    .init(record: "customer", key: "annual_income", token: json("1e5"), reason: "line 1: annual_income 1e5: \(moneySyntax)"),
    .init(record: "customer", key: "annual_income", token: json("92233720368547758.08"),
          reason: "line 1: annual_income 92233720368547758.08: \(moneyTooLarge)"),
    .init(record: "customer", key: "rm_id", token: nil, reason: "line 1: rm_id is required"),
    .init(record: "customer", key: "branch_id", token: json("北京"), reason: "line 1: branch_id 北京: \(idRule)"),
    .init(record: "customer", key: "opened_on", token: nil, reason: "line 1: opened_on is required"),
    .init(record: "customer", key: "status", token: json("open"), reason: "line 1: status open: must be one of active, closed"),
    .init(record: "customer", key: "status", token: nil, reason: "line 1: status is required"),
    .init(record: "customer", key: "marketing_opt_out", token: json("yes"),
          reason: "line 1: marketing_opt_out yes: must be the JSON boolean true or false, not a string"),
    .init(record: "customer", key: "marketing_opt_out", token: "1",
          reason: "line 1: marketing_opt_out 1: must be the JSON boolean true or false, not a number"),
]

private let accountCases: [RejectCase] = [
    .init(record: "account", key: "account_id", token: json("A/1"), reason: "line 1: account_id A/1: \(idRule)"),
    .init(record: "account", key: "customer_id", token: nil, reason: "line 1: customer_id is required"),
    .init(record: "account", key: "product", token: json("savings"),
          reason: "line 1: product savings: must be one of demand_deposit, time_deposit, wealth, fund, insurance, loan, credit_card"),
    .init(record: "account", key: "currency", token: nil, reason: "line 1: currency is required"),
    .init(record: "account", key: "currency", token: json("USD"), reason: "line 1: currency USD not supported in contract v1 (only CNY)"),
    .init(record: "account", key: "currency", token: json("cny"), reason: "line 1: currency cny not supported in contract v1 (only CNY)"),
    .init(record: "account", key: "opened_on", token: json("2024-1-15"), reason: "line 1: opened_on 2024-1-15: not a date in the form YYYY-MM-DD"),
    .init(record: "account", key: "maturity_on", token: json("2023-12-31"), reason: "line 1: maturity_on 2023-12-31: is before opened_on 2024-01-15"),
    .init(record: "account", key: "closed_on", token: json("2024-01-14"), reason: "line 1: closed_on 2024-01-14: is before opened_on 2024-01-15"),
]

private let balanceCases: [RejectCase] = [
    .init(record: "balance", key: "as_of", token: json("2026-02-29"), reason: "line 1: as_of 2026-02-29: not a real date"),
    .init(record: "balance", key: "balance", token: nil, reason: "line 1: balance is required"),
    .init(record: "balance", key: "balance", token: "100.5", reason: "line 1: balance 100.5: \(moneyNumber)"),
    .init(record: "balance", key: "balance", token: "1" + String(repeating: "0", count: 30),
          reason: "line 1: balance 1\(String(repeating: "0", count: 30)): \(moneyNumber)"),
    .init(record: "balance", key: "balance", token: json("99999999999999999999"), reason: "line 1: balance 99999999999999999999: \(moneyTooLarge)"),
    .init(record: "balance", key: "balance", token: json("+1.00"), reason: "line 1: balance +1.00: \(moneySyntax)"),
    .init(record: "balance", key: "balance", token: json("1,000.00"), reason: "line 1: balance 1,000.00: \(moneySyntax)"),
    .init(record: "balance", key: "balance", token: json(".5"), reason: "line 1: balance .5: \(moneySyntax)"),
    .init(record: "balance", key: "balance", token: json("5."), reason: "line 1: balance 5.: \(moneySyntax)"),
]

private let ts = "line 1: booked_at"
private let transactionCases: [RejectCase] = [
    .init(record: "transaction", key: "txn_id", token: nil, reason: "line 1: txn_id is required"),
    .init(record: "transaction", key: "booked_at", token: json("2026-03-31T09:30:00"),
          reason: "\(ts) 2026-03-31T09:30:00: no UTC offset; a time without an offset is refused (add Z or +08:00)"),
    .init(record: "transaction", key: "booked_at", token: json("2026-03-31t09:30:00Z"),
          reason: "\(ts) 2026-03-31t09:30:00Z: the date and time must be separated by an uppercase T"),
    .init(record: "transaction", key: "booked_at", token: json("2026-03-31 09:30:00Z"),
          reason: "\(ts) 2026-03-31 09:30:00Z: the date and time must be separated by an uppercase T, not a space"),
    .init(record: "transaction", key: "booked_at", token: json("2026-03-31T09:30:00z"),
          reason: "\(ts) 2026-03-31T09:30:00z: the UTC offset must be an uppercase Z"),
    .init(record: "transaction", key: "booked_at", token: json("2026-03-31T09:30:00-00:00"),
          reason: "\(ts) 2026-03-31T09:30:00-00:00: offset -00:00 means the local offset is unknown; give the real offset (Z or +08:00)"),
    .init(record: "transaction", key: "booked_at", token: json("2026-03-31T09:30:00+24:00"),
          reason: "\(ts) 2026-03-31T09:30:00+24:00: the offset must be Z or ±hh:mm with hh 00–23 and mm 00–59"),
    .init(record: "transaction", key: "booked_at", token: json("2026-03-31T09:30:00+0800"),
          reason: "\(ts) 2026-03-31T09:30:00+0800: the offset must be Z or ±hh:mm with hh 00–23 and mm 00–59"),
    .init(record: "transaction", key: "booked_at", token: json("2026-03-31T09:30:00.1234567890Z"),
          reason: "\(ts) 2026-03-31T09:30:00.1234567890Z: at most 9 fraction digits (nanoseconds)"),
    .init(record: "transaction", key: "booked_at", token: json("2026-03-31T09:30:00.Z"),
          reason: "\(ts) 2026-03-31T09:30:00.Z: not an RFC 3339 timestamp (YYYY-MM-DDTHH:MM:SS[.fraction] then Z or ±hh:mm)"),
    .init(record: "transaction", key: "booked_at", token: json("2026-03-31T24:00:00Z"),
          reason: "\(ts) 2026-03-31T24:00:00Z: not a real time of day (hour 00–23, minute and second 00–59)"),
    .init(record: "transaction", key: "booked_at", token: json("2026-12-31T23:59:60Z"),
          reason: "\(ts) 2026-12-31T23:59:60Z: second 60 (a leap second) is not accepted"),
    .init(record: "transaction", key: "booked_at", token: json("2026-02-29T10:00:00Z"), reason: "\(ts) 2026-02-29T10:00:00Z: not a real date"),
    .init(record: "transaction", key: "booked_at", token: json("2026-03-31"),
          reason: "\(ts) 2026-03-31: not an RFC 3339 timestamp (YYYY-MM-DDTHH:MM:SS[.fraction] then Z or ±hh:mm)"),
    .init(record: "transaction", key: "amount", token: "-50000", reason: "line 1: amount -50000: \(moneyNumber)"),
    .init(record: "transaction", key: "category", token: json("refund"),
          reason: "line 1: category refund: must be one of deposit, withdrawal, transfer_in, transfer_out, purchase, redemption, card_spend, repayment, fee, interest"),
    .init(record: "transaction", key: "channel", token: json("wechat"),
          reason: "line 1: channel wechat: must be one of branch, mobile, online, atm, pos, call_center"),
    .init(record: "transaction", key: "description", token: json("a\\u0000b"),
          reason: "line 1: description contains U+0000 (NUL), which cannot be stored"),
    .init(record: "transaction", key: "description", token: "42", reason: "line 1: description must be a JSON string, got the number 42"),
]

private let rmCases: [RejectCase] = [
    .init(record: "rm", key: "rm_id", token: nil, reason: "line 1: rm_id is required"),
    .init(record: "rm", key: "name", token: nil, reason: "line 1: name is required"),
    .init(record: "rm", key: "branch_id", token: json("BJ 001"), reason: "line 1: branch_id BJ 001: \(idRule)"),
    .init(record: "rm", key: "manager_rm_id", token: json("RM01"), reason: "line 1: manager_rm_id RM01: an RM cannot be their own manager"),
    .init(record: "rm", key: "manager_rm_id", token: json("RM#0"), reason: "line 1: manager_rm_id RM#0: \(idRule)"),
    .init(record: "rm", key: "wecom_userid", token: json("li si"),
          reason: "line 1: wecom_userid (5 characters, not shown): must be 1–64 characters of A–Z, a–z, 0–9, _, -, @ or ."),
    .init(record: "rm", key: "email", token: json("lisi"),
          reason: "line 1: email (4 characters, not shown): must be an e-mail address local@domain.tld without spaces"),
    .init(record: "rm", key: "mobile", token: json("1391234567"), reason: "line 1: mobile **********: \(mobileRule)"),
    .init(record: "rm", key: "active", token: nil, reason: "line 1: active is required"),
    .init(record: "rm", key: "active", token: json("true"), reason: "line 1: active true: must be the JSON boolean true or false, not a string"),
]

@Suite struct RejectReasonTests {
    @Test(arguments: customerCases + accountCases + balanceCases + transactionCases + rmCases)
    func rejectsWithTheExactReason(_ c: RejectCase) throws {
        let items = try decode(c.line.text + "\n")
        try #require(items.count == 1)
        let reject = try #require(items[0].reject)
        #expect(reject.reason == c.reason)
        #expect(reject.lineNumber == 1)
        #expect(reject.rawText == c.line.text)
        #expect(reject.field == c.key)
    }

    @Test func namesTheRealLineNumber() throws {
        let text = "\n\n" + Sample.balance.text + "\n\n" + Sample.balance.with(string: "as_of", "2026-13-01").text + "\n"
        let items = try decode(text)
        #expect(items.map(\.lineNumber) == [3, 5])
        #expect(items[1].reject?.reason == "line 5: as_of 2026-13-01: not a real date")
    }

    @Test func reportsTheFirstFaultInContractFieldOrder() throws {
        // Both txn_id and amount are wrong, and the keys come in reverse order: txn_id is reported.
        let line = Line([("amount", "1"), ("txn_id", json("bad id")), ("type", json("transaction"))])
        #expect(try reason(line) == "line 1: txn_id bad id: \(idRule)")
    }

    @Test func rejectsAMissingOrUnknownType() throws {
        let kinds = "customer, account, balance, transaction, relationship_manager"
        #expect(try reason(Sample.balance.with("type", nil)) == "line 1: type is required (one of \(kinds))")
        #expect(try reason(Sample.balance.with("type", json("loan"))) == "line 1: type loan: not a record type of contract 1.1 (one of \(kinds))")
        #expect(try reason(Sample.balance.with("type", json("Balance"))) == "line 1: type Balance: not a record type of contract 1.1 (one of \(kinds))")
        #expect(try reason(Sample.balance.with("type", "5")) == "line 1: type must be a JSON string, got the number 5")
        #expect(try reason("{}") == "line 1: type is required (one of \(kinds))")
    }

    @Test func reasonsNeverShowNamesOrFullIdentityNumbers() throws {
        let line = Sample.customer.with(string: "id_number", "110105194912310021").with(string: "name", "欧阳娜娜")
        let r = try #require(try reason(line))
        #expect(!r.contains("110105194912310021"))
        #expect(!r.contains("欧阳"))
        let nul = Sample.customer.with("name", json("欧阳\\u0000娜娜"))
        #expect(try reason(nul) == "line 1: name contains U+0000 (NUL), which cannot be stored")
    }

    @Test func clipsLongValuesAndEscapesControlCharactersInReasons() throws {
        let long = String(repeating: "9", count: 60)
        #expect(try reason(Sample.balance.with(string: "as_of", long)) == "line 1: as_of \(String(repeating: "9", count: 40))…: not a date in the form YYYY-MM-DD")
        #expect(try reason(Sample.balance.with(string: "account_id", "A\\t1")) == "line 1: account_id A\\u{9}1: \(idRule)")
    }

    /// Found by independent oracles: a full-width check character was "not 18 characters, got 18", and
    /// an amount below Int64.min fen was "too large".
    @Test func fullWidthIDCharactersAndTooSmallAmountsSayWhatIsWrong() throws {
        #expect(try reason(Sample.customer.with(string: "id_number", "11010519491231002Ｘ").with("birth_date", nil))
                == "line 1: id_number 110105********002Ｘ: must be ASCII digits and X; a full-width character (Ｘ, ０–９) is not accepted")
        #expect(try reason(Sample.balance.with(string: "balance", "-92233720368547758.09"))
                == "line 1: balance -92233720368547758.09: too small: an amount must fit in Int64 fen (-92233720368547758.08 to 92233720368547758.07 yuan)")
    }

    /// Found by an independent oracle: `currency  CNY not supported` hid the space that made " CNY"
    /// wrong. Leading or trailing whitespace puts the value in quotes; invisible characters are escaped.
    @Test func reasonsShowInvisibleCharactersAndEdgeSpaces() throws {
        #expect(try reason(Sample.account.with(string: "currency", " CNY")) == "line 1: currency \" CNY\" not supported in contract v1 (only CNY)")
        #expect(try reason(Sample.transaction.with(string: "category", "fee "))?.hasPrefix("line 1: category \"fee \": must be one of") == true)
        #expect(try reason(Sample.account.with(string: "currency", "CNY\u{00A0}")) == "line 1: currency \"CNY\\u{a0}\" not supported in contract v1 (only CNY)")
        #expect(try reason(Sample.account.with(string: "currency", "C\u{200B}NY")) == "line 1: currency C\\u{200b}NY not supported in contract v1 (only CNY)")
        // A byte order mark before a later line's `{` is named.
        let items = try decode(Sample.balance.text + "\n\u{FEFF}" + Sample.balance.text + "\n")
        #expect(items.count == 2 && items[1].reject?.reason == "line 2: not valid JSON: expected '{' at byte 1 (found U+FEFF)")
    }
}
