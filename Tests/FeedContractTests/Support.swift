import FeedContract
import Foundation
import TierGuardModel

/// A JSON object line built key by key, so a test can change or drop one field of a valid record.
struct Line {
    var pairs: [(String, String)]  // key, raw JSON token

    init(_ pairs: [(String, String)]) { self.pairs = pairs }

    /// `value` is a raw JSON token (`"\"C001\""`, `7`, `true`), nil to drop the key.
    func with(_ key: String, _ value: String?) -> Line {
        var copy = self
        if let index = copy.pairs.firstIndex(where: { $0.0 == key }) {
            if let value { copy.pairs[index].1 = value } else { copy.pairs.remove(at: index) }
        } else if let value {
            copy.pairs.append((key, value))
        }
        return copy
    }

    func with(string key: String, _ value: String) -> Line { with(key, json(value)) }

    var text: String { "{" + pairs.map { "\(json($0.0)):\($0.1)" }.joined(separator: ",") + "}" }

    /// The CSV header and row of the same fields (without `type`), quoting every value.
    var csv: String {
        let fields = pairs.filter { $0.0 != "type" }
        let header = fields.map(\.0).joined(separator: ",")
        let row = fields.map { pair -> String in
            var v = pair.1
            if v.hasPrefix("\"") { v = String(v.dropFirst().dropLast()) }
            if v == "null" { v = "" }
            return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }.joined(separator: ",")
        return header + "\n" + row + "\n"
    }
}

/// A JSON string token for plain text (the test values need no escapes).
func json(_ text: String) -> String { "\"" + text + "\"" }

enum Sample {
    static let customer = Line([
        ("type", json("customer")), ("customer_id", json("C001")), ("name", json("张三")), ("id_type", json("resident_id")),
        ("id_number", json("11010519491231002X")), ("phone", json("13812345678")), ("birth_date", json("1949-12-31")),
        ("gender", json("M")), ("risk_level", json("C3")), ("risk_assessed_on", json("2025-06-01")),
        ("annual_income", json("360000.00")), ("rm_id", json("RM01")), ("branch_id", json("BJ001")),
        ("opened_on", json("2010-05-20")), ("status", json("active")), ("marketing_opt_out", "false"),
    ])
    static let account = Line([
        ("type", json("account")), ("account_id", json("A001")), ("customer_id", json("C001")),
        ("product", json("time_deposit")), ("product_code", json("TD3Y")), ("currency", json("CNY")),
        ("opened_on", json("2024-01-15")), ("maturity_on", json("2027-01-15")),
    ])
    static let balance = Line([
        ("type", json("balance")), ("account_id", json("A001")), ("as_of", json("2026-03-31")), ("balance", json("1234567.89")),
    ])
    static let transaction = Line([
        ("type", json("transaction")), ("txn_id", json("T0001")), ("account_id", json("A001")),
        ("booked_at", json("2026-03-31T09:30:00.5+08:00")), ("amount", json("-50000.00")),
        ("category", json("transfer_out")), ("channel", json("mobile")), ("counterparty_bank", json("ICBC")),
        ("description", json("转出")),
    ])
    static let relationshipManager = Line([
        ("type", json("relationship_manager")), ("rm_id", json("RM01")), ("name", json("李四")), ("branch_id", json("BJ001")),
        ("manager_rm_id", json("RM00")), ("wecom_userid", json("lisi")), ("email", json("lisi@bank.example.cn")),
        ("mobile", json("13912345678")), ("active", "true"),
    ])
}

func decode(_ text: String, format: FeedFormat = .ndjson, maxLineLength: Int = FeedLineReader.defaultMaxLineLength) throws -> [FeedItem] {
    try FeedDecoder.decode(bytes: Array(text.utf8), format: format, maxLineLength: maxLineLength)
}

func decode(bytes: [UInt8], format: FeedFormat = .ndjson, maxLineLength: Int = FeedLineReader.defaultMaxLineLength,
            chunkSize: Int = 1 << 20) throws -> [FeedItem] {
    var items: [FeedItem] = []
    let reader = try FeedLineReader(bytes: bytes, maxLineLength: maxLineLength, chunkSize: chunkSize)
    try FeedDecoder.decode(reader, format: format) { items.append($0) }
    return items
}

/// The reject reason of a one-line NDJSON feed, or nil when it is accepted.
func reason(_ line: Line) throws -> String? { try reason(line.text) }

func reason(_ text: String) throws -> String? {
    let items = try decode(text + "\n")
    precondition(items.count == 1, "one item expected")
    return items[0].reject?.reason
}

/// The epoch seconds of a wall-clock time at a UTC offset, computed with Foundation's calendar
/// (independent of the parser under test).
func epochSeconds(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int, _ s: Int, offsetHours: Int) -> Int64 {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(secondsFromGMT: offsetHours * 3600)!
    let date = calendar.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: s))!
    return Int64(date.timeIntervalSince1970)
}

/// The GB 11643 check character by ISO 7064 MOD 11-2 in its iterative form (p = (p + d) × 2 mod 11,
/// check = (12 − p) mod 11), a different computation from the weighted sum the module uses.
func iso7064CheckCharacter(_ first17: String) -> Character {
    var p = 0
    for ch in first17 { p = (p + Int(String(ch))!) * 2 % 11 }
    let check = (12 - p) % 11
    return check == 10 ? "X" : Character(String(check))
}

/// A deterministic generator (SplitMix64) for reproducible random tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A valid resident ID with a random region, birth date (1930–2009) and sequence.
func randomResidentID(_ rng: inout SplitMix64) -> String {
    let region = String(Int.random(in: 110_000...659_999, using: &rng))
    let year = Int.random(in: 1930...2009, using: &rng)
    let month = Int.random(in: 1...12, using: &rng)
    let day = Int.random(in: 1...CalendarDate.daysIn(year: year, month: month), using: &rng)
    let sequence = Int.random(in: 0...999, using: &rng)
    func pad(_ v: Int, _ w: Int) -> String { String(repeating: "0", count: w - String(v).count) + String(v) }
    let first17 = region + pad(year, 4) + pad(month, 2) + pad(day, 2) + pad(sequence, 3)
    return first17 + String(iso7064CheckCharacter(first17))
}
