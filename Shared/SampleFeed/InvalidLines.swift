import FeedContract
import TierGuardModel

/// The kinds of deliberately invalid (or pending, or duplicate) lines a sample feed carries; the raw
/// value is `kind` in `scenarios.json`.
///
/// Four kinds only exist in NDJSON (a CSV field has no JSON type, keys cannot repeat, a C3 column
/// would reject the whole CSV file, and CSV has no JSON syntax): in a CSV feed they are left out and
/// not listed, every other kind goes to the CSV file of its record type.
public enum InvalidLineKind: String, CaseIterable, Sendable {
    case badCheckDigit = "bad_check_digit"
    case lowercaseX = "lowercase_x"
    case firstGenerationID = "first_generation_id"
    case birthDateMismatch = "birth_date_mismatch"
    case badMobile = "bad_mobile"
    case moneyAsJSONNumber = "money_as_json_number"
    case threeDecimals = "three_decimals"
    case unknownEnum = "unknown_enum"
    case missingRequired = "missing_required"
    case timeWithoutOffset = "time_without_offset"
    case nonCNYCurrency = "non_cny_currency"
    case badDate = "bad_date"
    case c3Field = "c3_field"
    case duplicateKey = "duplicate_key"
    case invalidJSON = "invalid_json"
    case invalidUTF8 = "invalid_utf8"
    /// A valid balance for an account that never arrives: ingest keeps it pending.
    case pendingBalance = "pending_balance"
    /// The previous balance line again, byte for byte: ingest counts it unchanged.
    case exactDuplicate = "exact_duplicate"

    public var isNDJSONOnly: Bool {
        switch self {
        case .moneyAsJSONNumber, .c3Field, .duplicateKey, .invalidJSON: true
        default: false
        }
    }
}

/// Plans and writes the invalid lines of a feed.
///
/// How many: by default each kind once; `invalidPerMille` 0 writes none; K > 0 writes
/// max(kinds, customers × (3 × days + 40) × K / 1000) (3 × days + 40 is about the lines per
/// customer), cycling through the kinds. Each goes after a random customer's block. The plan is the
/// same for NDJSON and CSV (only the NDJSON-only kinds are dropped from CSV), so both formats carry
/// exactly the same accepted records.
struct InvalidLineWriter {
    struct Item {
        var afterCustomer: Int
        var kind: InvalidLineKind
        var instance: Int
    }

    /// Real values from the feed that some invalid lines refer to.
    struct Context {
        var lastAccountId: String
        var lastDay: String
        var lastFen: Int64
        var businessDate: CalendarDate
        var branchId: String
    }

    struct Written {
        var line: ScenarioManifest.InvalidLine
        /// Set when the decoder accepts the line (pending, duplicate).
        var acceptedType: FeedRecordType?
    }

    var seed: UInt64 = 0

    mutating func schedule(options: SampleFeedOptions, customers: Int) -> [Item] {
        seed = SampleRandom.derive(options.seed, 0xBAD_11E5)
        let kinds = InvalidLineKind.allCases
        let total: Int
        switch options.invalidPerMille {
        case nil: total = kinds.count
        case 0?: total = 0
        case let k?: total = max(kinds.count, customers * (3 * options.days + 40) * k / 1000)
        }
        var r = SampleRandom(seed: seed)
        var items = (0..<total).map { i in
            Item(afterCustomer: Int(r.below(UInt64(customers))), kind: kinds[i % kinds.count], instance: i)
        }
        items.sort { ($0.afterCustomer, $0.instance) < ($1.afterCustomer, $1.instance) }
        return items
    }

    func write(_ item: Item, context c: Context, output: FeedOutput) throws -> Written? {
        if output.isCSV && item.kind.isNDJSONOnly { return nil }
        var r = SampleRandom(seed: SampleRandom.derive(seed, UInt64(item.instance) + 1))
        let n = item.instance
        let bd = c.businessDate
        let birth = CalendarDate(dayNumber: CalendarDate(year: bd.year - r.int(25...70), month: 1, day: 1)!.dayNumber + r.int(0...364))
        let region = r.pick(ChineseIdentity.regions).code
        let female = r.chance(perMille: 500)
        var customer: [(String, FeedOutput.Value)] = [
            ("customer_id", .text("CX" + ChineseIdentity.pad(n, 7))), ("name", .text(ChineseIdentity.name(&r))),
            ("id_type", .text("resident_id")),
            ("id_number", .text(ChineseIdentity.residentID(region: region, birth: birth, female: female, &r))),
            ("phone", .text(ChineseIdentity.mobile(&r))), ("birth_date", .text(birth.description)),
            ("gender", .text(female ? "F" : "M")), ("risk_level", .text("C3")),
            ("risk_assessed_on", .text(bd.adding(days: -100).description)), ("annual_income", .money(Fen(yuan: 240_000))),
            ("rm_id", .text("RM0001")), ("branch_id", .text(c.branchId)),
            ("opened_on", .text(bd.adding(days: -900).description)), ("status", .text("active")),
        ]
        var account: [(String, FeedOutput.Value)] = [
            ("account_id", .text("AX" + ChineseIdentity.pad(n, 9))), ("customer_id", .text("C00000001")),
            ("product", .text("demand_deposit")), ("product_code", .text("DD01")), ("currency", .text("CNY")),
            ("opened_on", .text(bd.adding(days: -400).description)),
        ]
        var balance: [(String, FeedOutput.Value)] = [
            ("account_id", .text(c.lastAccountId)), ("as_of", .text(c.lastDay)), ("balance", .money(Fen(c.lastFen))),
        ]
        var txn: [(String, FeedOutput.Value)] = [
            ("txn_id", .text("TX" + ChineseIdentity.pad(n, 9))), ("account_id", .text(c.lastAccountId)),
            ("booked_at", .text(bd.description + "T09:30:00+08:00")), ("amount", .money(Fen(-12_300))),
            ("category", .text("transfer_out")), ("channel", .text("mobile")), ("counterparty_bank", .text("CMB")),
            ("description", .text("转账")),
        ]
        func set(_ fields: inout [(String, FeedOutput.Value)], _ name: String, _ value: FeedOutput.Value) {
            if let i = fields.firstIndex(where: { $0.0 == name }) { fields[i].1 = value } else { fields.append((name, value)) }
        }

        var type: FeedRecordType
        var fields: [(String, FeedOutput.Value)] = []
        var raw: [UInt8]?
        var expected = "reject"
        var field: String?
        var phrase: String?
        switch item.kind {
        case .badCheckDigit:
            guard case .text(let id) = customer[3].1 else { return nil }
            let last = id.last!
            let wrong: Character = last == "X" ? "0" : Character(String((Int(String(last))! + 1) % 10))
            set(&customer, "id_number", .text(String(id.dropLast()) + String(wrong)))
            (type, fields, field, phrase) = (.customer, customer, "id_number", "check digit should be")
        case .lowercaseX:
            var first17 = ""
            for _ in 0..<200 {
                first17 = ChineseIdentity.first17Digits(region: region, birth: birth, female: female, &r)
                if ResidentIDNumber.checkCharacter(forFirst17: first17) == "X" { break }
            }
            set(&customer, "id_number", .text(first17 + "x"))
            (type, fields, field, phrase) = (.customer, customer, "id_number", "lowercase x")
        case .firstGenerationID:
            let yymmdd = String(birth.description.replacingDashes().dropFirst(2))
            set(&customer, "id_number", .text(region + yymmdd + ChineseIdentity.pad(r.int(0...999), 3)))
            (type, fields, field, phrase) = (.customer, customer, "id_number", "15-digit")
        case .birthDateMismatch:
            set(&customer, "birth_date", .text(birth.adding(days: 1).description))
            (type, fields, field, phrase) = (.customer, customer, "birth_date", "differs from")
        case .badMobile:
            let good = ChineseIdentity.mobile(&r)
            let bad = ["+86" + good, String(good.prefix(3)) + "-" + String(good.dropFirst(3).prefix(4)) + "-" + String(good.suffix(4)),
                       String(good.dropLast()), "12" + String(good.dropFirst(2))][n % 4]
            set(&customer, "phone", .text(bad))
            (type, fields, field, phrase) = (.customer, customer, "phone", "mainland mobile number")
        case .moneyAsJSONNumber:
            type = .balance
            raw = Array("{\"type\":\"balance\",\"account_id\":\"\(c.lastAccountId)\",\"as_of\":\"\(c.lastDay)\",\"balance\":100.5}".utf8)
            (field, phrase) = ("balance", "JSON number")
        case .threeDecimals:
            set(&txn, "amount", .text("-88.125"))
            (type, fields, field, phrase) = (.transaction, txn, "amount", "at most two decimals")
        case .unknownEnum:
            switch n % 4 {
            case 0:
                set(&account, "product", .text("savings"))
                (type, fields, field) = (.account, account, "product")
            case 1:
                set(&txn, "category", .text("gift"))
                (type, fields, field) = (.transaction, txn, "category")
            case 2:
                set(&txn, "channel", .text("wechat"))
                (type, fields, field) = (.transaction, txn, "channel")
            default:
                set(&customer, "risk_level", .text("C6"))
                (type, fields, field) = (.customer, customer, "risk_level")
            }
            phrase = "must be one of"
        case .missingRequired:
            switch n % 4 {
            case 0:
                set(&customer, "name", .absent)
                (type, fields, field, phrase) = (.customer, customer, "name", "name is required")
            case 1:
                set(&account, "currency", .absent)
                (type, fields, field, phrase) = (.account, account, "currency", "currency is required")
            case 2:
                set(&balance, "as_of", .absent)
                (type, fields, field, phrase) = (.balance, balance, "as_of", "as_of is required")
            default:
                set(&txn, "amount", .absent)
                (type, fields, field, phrase) = (.transaction, txn, "amount", "amount is required")
            }
        case .timeWithoutOffset:
            set(&txn, "booked_at", .text(bd.description + "T09:30:00"))
            (type, fields, field, phrase) = (.transaction, txn, "booked_at", "no UTC offset")
        case .nonCNYCurrency:
            set(&account, "currency", .text(["USD", "HKD", "EUR"][n % 3]))
            (type, fields, field, phrase) = (.account, account, "currency", "not supported")
        case .badDate:
            set(&balance, "as_of", .text(String(bd.year) + "-02-30"))
            (type, fields, field, phrase) = (.balance, balance, "as_of", "not a real date")
        case .c3Field:
            type = .transaction
            raw = Array(("{\"type\":\"transaction\",\"txn_id\":\"TX\(ChineseIdentity.pad(n, 9))\",\"account_id\":\"\(c.lastAccountId)\","
                + "\"booked_at\":\"\(bd)T10:00:00+08:00\",\"amount\":\"-100.00\",\"category\":\"card_spend\",\"channel\":\"pos\",\"cvv\":\"123\"}").utf8)
            (field, phrase) = ("cvv", "authentication data")
        case .duplicateKey:
            type = .balance
            raw = Array("{\"type\":\"balance\",\"account_id\":\"\(c.lastAccountId)\",\"as_of\":\"\(c.lastDay)\",\"balance\":\"1.00\",\"balance\":\"2.00\"}".utf8)
            (field, phrase) = ("balance", "duplicate key")
        case .invalidJSON:
            type = .balance
            raw = Array("{\"type\":\"balance\",\"account_id\":\"\(c.lastAccountId)\",\"as_of\":\"\(c.lastDay)\",\"balance\":\"1.00\"".utf8)
            phrase = "not valid JSON"
        case .invalidUTF8:
            // The name in GBK (张三 = D5 C5 C8 FD), as a file exported from a legacy system would carry it.
            type = .customer
            set(&customer, "name", .text("@@GBK@@"))
            var bytes: [UInt8] = []
            FeedOutput.encode(csv: output.isCSV, .customer, customer, into: &bytes)
            let marker = Array("@@GBK@@".utf8)
            if let at = (0...(bytes.count - marker.count)).first(where: { Array(bytes[$0..<($0 + marker.count)]) == marker }) {
                bytes.replaceSubrange(at..<(at + marker.count), with: [0xD5, 0xC5, 0xC8, 0xFD])
            }
            raw = bytes
            phrase = "not valid UTF-8"
        case .pendingBalance:
            set(&balance, "account_id", .text("AP" + ChineseIdentity.pad(n, 9)))
            set(&balance, "balance", .money(Fen(r.int64(100_000...50_000_000))))
            (type, fields, expected) = (.balance, balance, "pending")
        case .exactDuplicate:
            (type, fields, expected) = (.balance, balance, "unchanged")
        }
        let at = try raw.map { try output.emitRaw(type, $0) } ?? output.emit(type, fields)
        let line = ScenarioManifest.InvalidLine(
            file: at.file, line: at.line, kind: item.kind.rawValue, expected: expected,
            recordType: type.rawValue, field: field, reasonContains: phrase)
        return Written(line: line, acceptedType: expected == "reject" ? nil : type)
    }
}
