import Foundation

/// A JSON value decoded strictly: `true` is never the number 1, `4.0` is a number but not an integer.
///
/// Why not `JSONSerialization`: on Linux it hands numbers and booleans back as `NSNumber`, so a
/// score of `true` would pass as 1. `JSONDecoder` refuses a number where a Bool is asked and the
/// reverse, which is what a strict API needs.
public enum FeedbackJSON: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([FeedbackJSON])
    case object([String: FeedbackJSON])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        if let value = try? container.decode(Bool.self) { self = .bool(value); return }
        if let value = try? container.decode(Int64.self) { self = .integer(value); return }
        if let value = try? container.decode(Double.self) { self = .number(value); return }
        if let value = try? container.decode(String.self) { self = .string(value); return }
        if let value = try? container.decode([FeedbackJSON].self) { self = .array(value); return }
        self = .object(try container.decode([String: FeedbackJSON].self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let v): try container.encode(v)
        case .integer(let v): try container.encode(v)
        case .number(let v): try container.encode(v)
        case .string(let v): try container.encode(v)
        case .array(let v): try container.encode(v)
        case .object(let v): try container.encode(v)
        }
    }

    /// Parses one JSON object; anything else (an array, a scalar, bad JSON) is a problem.
    public static func object(_ bytes: some Collection<UInt8>) throws(FeedbackProblem) -> [String: FeedbackJSON] {
        let value: FeedbackJSON
        do { value = try JSONDecoder().decode(FeedbackJSON.self, from: Data(bytes)) } catch {
            throw FeedbackProblem(400, "malformed-json", "Malformed JSON", "the body is not valid JSON",
                                  errors: [.init(field: "(body)", reason: "not valid JSON")])
        }
        guard case .object(let object) = value else {
            throw FeedbackProblem(400, "malformed-json", "Malformed JSON", "the body must be a JSON object",
                                  errors: [.init(field: "(body)", reason: "not a JSON object")])
        }
        return object
    }

    /// Canonical text: keys sorted, so the same item always hashes the same (idempotency check).
    public static func canonical(_ object: [String: FeedbackJSON]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(FeedbackJSON.object(object))) ?? Data(), as: UTF8.self)
    }
}

/// Reads fields from a decoded object, collecting every fault (field + reason) instead of stopping
/// at the first, and refuses fields it was not told about, naming each.
struct FieldReader {
    let object: [String: FeedbackJSON]
    private(set) var errors: [FeedbackProblem.FieldError] = []
    private var known: Set<String> = []

    init(_ object: [String: FeedbackJSON]) { self.object = object }

    mutating func fail(_ field: String, _ reason: String) { errors.append(.init(field: field, reason: reason)) }

    private mutating func raw(_ field: String, required: Bool) -> FeedbackJSON? {
        known.insert(field)
        guard let value = object[field], value != .null else {
            if required { fail(field, "required") }
            return nil
        }
        return value
    }

    mutating func string(_ field: String, required: Bool = true, maxLength: Int = 200) -> String? {
        guard let value = raw(field, required: required) else { return nil }
        guard case .string(let text) = value else { fail(field, "must be a string"); return nil }
        if text.isEmpty { fail(field, "must not be empty"); return nil }
        if text.count > maxLength { fail(field, "longer than \(maxLength) characters"); return nil }
        return text
    }

    /// An identifier: 1–64 characters of letters, digits, `-`, `_`, `.`, `:`.
    mutating func identifier(_ field: String, required: Bool = true) -> String? {
        guard let text = string(field, required: required, maxLength: 64) else { return nil }
        guard text.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.:".unicodeScalars.contains($0)) }) else {
            fail(field, "must use only letters, digits, '-', '_', '.', ':'"); return nil
        }
        return text
    }

    mutating func choice(_ field: String, _ allowed: [String], required: Bool = true) -> String? {
        guard let text = string(field, required: required, maxLength: 64) else { return nil }
        guard allowed.contains(text) else { fail(field, "must be one of " + allowed.joined(separator: ", ")); return nil }
        return text
    }

    mutating func integer(_ field: String, in range: ClosedRange<Int64>? = nil, required: Bool = true) -> Int64? {
        guard let value = raw(field, required: required) else { return nil }
        guard case .integer(let number) = value else { fail(field, "must be an integer"); return nil }
        if let range, !range.contains(number) { fail(field, "must be between \(range.lowerBound) and \(range.upperBound)"); return nil }
        return number
    }

    mutating func bool(_ field: String, required: Bool = true) -> Bool? {
        guard let value = raw(field, required: required) else { return nil }
        guard case .bool(let flag) = value else { fail(field, "must be true or false"); return nil }
        return flag
    }

    /// RFC 3339 with an uppercase `T` and an offset (`Z` or ±hh:mm), 1–9 fraction digits; a real date.
    mutating func timestamp(_ field: String, required: Bool = true) -> String? {
        guard let text = string(field, required: required, maxLength: 40) else { return nil }
        guard FieldReader.isRFC3339(text) else { fail(field, "must be an RFC 3339 timestamp with an offset"); return nil }
        return text
    }

    /// Money as a JSON string of yuan with at most two decimals, positive, to fen.
    mutating func money(_ field: String, required: Bool = true) -> Int64? {
        guard let value = raw(field, required: required) else { return nil }
        guard case .string(let text) = value else { fail(field, "must be a string of yuan such as \"100.50\""); return nil }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].allSatisfy(\.isASCII), parts[0].allSatisfy(\.isNumber),
              parts.count == 1 || ((1...2).contains(parts[1].count) && parts[1].allSatisfy { $0.isASCII && $0.isNumber }),
              parts[0].count <= 15, let yuan = Int64(parts[0]) else {
            fail(field, "must be a positive amount of yuan with at most two decimals"); return nil
        }
        var fen = yuan * 100
        if parts.count == 2 { fen += Int64(parts[1].count == 1 ? String(parts[1]) + "0" : String(parts[1]))! }
        if fen <= 0 { fail(field, "must be positive"); return nil }
        return fen
    }

    /// Fields present that no reader asked for, each named.
    mutating func rejectUnknown(allowing extra: Set<String> = []) {
        for key in object.keys.sorted() where !known.contains(key) && !extra.contains(key) {
            fail(key, "unknown field")
        }
    }

    static func isRFC3339(_ text: String) -> Bool {
        let b = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= b.count else { return nil }
            var value = 0
            for i in range { guard b[i] >= 48, b[i] <= 57 else { return nil }; value = value * 10 + Int(b[i] - 48) }
            return value
        }
        guard b.count >= 20, let year = digits(0..<4), b[4] == 45, let month = digits(5..<7), b[7] == 45,
              let day = digits(8..<10), b[10] == 84, let hour = digits(11..<13), b[13] == 58,
              let minute = digits(14..<16), b[16] == 58, let second = digits(17..<19) else { return false }
        guard (1...12).contains(month), hour < 24, minute < 60, second < 60, year >= 1900 else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard (1...monthDays).contains(day) else { return false }
        var i = 19
        if i < b.count, b[i] == 46 {
            i += 1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
            guard (1...9).contains(i - start) else { return false }
        }
        guard i < b.count else { return false }
        if b[i] == 90 { return i + 1 == b.count }
        guard b[i] == 43 || b[i] == 45, b.count == i + 6, let oh = digits(i + 1..<i + 3), b[i + 3] == 58,
              let om = digits(i + 4..<i + 6), oh < 24, om < 60 else { return false }
        return true
    }
}
