import TierGuardModel

/// The JSON (or CSV) kind of a field's value.
enum ValueKind: UInt8 {
    case absent, string, number, trueValue, falseValue, null
    /// A JSON object or array: ignored in an unknown field, refused in a known one.
    case nested
    /// A CSV field: text that may spell a boolean or money.
    case text
}

/// Where one field's value lies in the bytes being validated.
struct FieldSlot {
    var start: Int
    var end: Int
    var kind: ValueKind

    static let absent = FieldSlot(start: 0, end: 0, kind: .absent)
}

/// A field's fault: the field and the text after `line N: `.
struct FieldFault: Error {
    var field: FeedField
    var message: String
}

/// Typed access to the fields of one record, over the bytes the slots point into.
///
/// Every accessor applies one contract rule and, on failure, throws a `FieldFault` whose message
/// names the field (and the value, masked when personal).
struct FieldReader {
    let base: UnsafePointer<UInt8>
    let slots: UnsafePointer<FieldSlot>
    /// Strings decoded from JSON escapes may hold U+0000; raw lines cannot (the reader refuses NUL).
    let mayHoldNUL: Bool

    @inline(__always) func slot(_ f: FeedField) -> FieldSlot { slots[f.rawValue] }

    @inline(__always) func bytes(_ s: FieldSlot) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base + s.start, count: s.end - s.start)
    }

    @inline(__always) func string(_ b: UnsafeBufferPointer<UInt8>) -> String { String(decoding: b, as: UTF8.self) }

    /// The value as shown in a reason (masked when personal).
    func shown(_ f: FeedField, _ b: UnsafeBufferPointer<UInt8>) -> String {
        ReasonText.value(string(b), field: f)
    }

    func fault(_ f: FeedField, _ b: UnsafeBufferPointer<UInt8>, _ problem: String) -> FieldFault {
        FieldFault(field: f, message: "\(f.name) \(shown(f, b)): \(problem)")
    }

    func kindName(_ kind: ValueKind, _ b: UnsafeBufferPointer<UInt8>) -> String {
        switch kind {
        case .number: "the number \(ReasonText.clip(string(b)))"
        case .trueValue: "true"
        case .falseValue: "false"
        case .nested: "a JSON object or array (records are flat)"
        default: "a string"
        }
    }

    /// A text value, nil when absent, null or empty; a number or boolean is a fault.
    @inline(__always)
    func text(_ f: FeedField) throws(FieldFault) -> UnsafeBufferPointer<UInt8>? {
        let s = slot(f)
        switch s.kind {
        case .absent, .null:
            return nil
        case .string, .text:
            if s.end == s.start { return nil }
            let b = bytes(s)
            if mayHoldNUL && b.contains(0) {
                throw FieldFault(field: f, message: "\(f.name) contains U+0000 (NUL), which cannot be stored")
            }
            return b
        case .number, .trueValue, .falseValue, .nested:
            throw FieldFault(field: f, message: "\(f.name) must be a JSON string, got \(kindName(s.kind, bytes(s)))")
        }
    }

    @inline(__always)
    func requiredText(_ f: FeedField) throws(FieldFault) -> UnsafeBufferPointer<UInt8> {
        guard let b = try text(f) else { throw FieldFault(field: f, message: "\(f.name) is required") }
        return b
    }

    /// Free text (name, product code, description…): any non-empty string.
    func requiredString(_ f: FeedField) throws(FieldFault) -> String { string(try requiredText(f)) }

    func optionalString(_ f: FeedField) throws(FieldFault) -> String? {
        guard let b = try text(f) else { return nil }
        return string(b)
    }

    /// An identifier: 1–32 of `[A-Za-z0-9_-]`.
    @inline(__always)
    func requiredID(_ f: FeedField) throws(FieldFault) -> String {
        let b = try requiredText(f)
        try checkID(f, b)
        return string(b)
    }

    func optionalID(_ f: FeedField) throws(FieldFault) -> String? {
        guard let b = try text(f) else { return nil }
        try checkID(f, b)
        return string(b)
    }

    @inline(__always)
    func checkID(_ f: FeedField, _ b: UnsafeBufferPointer<UInt8>) throws(FieldFault) {
        guard FieldRules.isIdentifier(b) else { throw fault(f, b, FieldRules.identifierRule) }
    }

    func requiredDate(_ f: FeedField) throws(FieldFault) -> CalendarDate {
        guard let d = try optionalDate(f) else { throw FieldFault(field: f, message: "\(f.name) is required") }
        return d
    }

    @inline(__always)
    func optionalDate(_ f: FeedField) throws(FieldFault) -> CalendarDate? {
        guard let b = try text(f) else { return nil }
        switch FieldRules.date(b) {
        case .success(let d): return d
        case .failure(let problem): throw fault(f, b, problem.message)
        }
    }

    /// Money: a string (never a JSON number), parsed by `Fen(yuanText:)`.
    @inline(__always)
    func money(_ f: FeedField, required: Bool, nonNegative: Bool = false) throws(FieldFault) -> Fen? {
        let s = slot(f)
        if s.kind == .number {
            throw fault(f, bytes(s), "money must be a JSON string such as \"12345.67\"; a JSON number cannot be trusted to the fen")
        }
        guard let b = try text(f) else {
            if required { throw FieldFault(field: f, message: "\(f.name) is required") }
            return nil
        }
        guard let fen = Fen(yuanText: string(b)) else { throw fault(f, b, FieldRules.moneyProblem(b)) }
        if nonNegative && fen.value < 0 { throw fault(f, b, "must not be negative") }
        return fen
    }

    /// One of an enumeration's spellings, exactly (case-sensitive).
    @inline(__always)
    func enumValue<E>(_ f: FeedField, _ table: EnumTable<E>, required: Bool) throws(FieldFault) -> E? {
        guard let b = try text(f) else {
            if required { throw FieldFault(field: f, message: "\(f.name) is required") }
            return nil
        }
        guard let value = table.match(b) else { throw fault(f, b, "must be one of \(table.spellings)") }
        return value
    }

    /// A boolean: JSON `true`/`false`, or in CSV the text `true`/`false`.
    func bool(_ f: FeedField) throws(FieldFault) -> Bool? {
        let s = slot(f)
        switch s.kind {
        case .absent, .null: return nil
        case .trueValue: return true
        case .falseValue: return false
        case .text:
            let b = bytes(s)
            if b.count == 0 { return nil }
            if FieldRules.equals(b, "true") { return true }
            if FieldRules.equals(b, "false") { return false }
            throw fault(f, b, "must be true or false")
        case .string:
            // `""` means absent, as for every field ("Value rules" in FeedContract.md).
            let b = bytes(s)
            if b.count == 0 { return nil }
            throw fault(f, b, "must be the JSON boolean true or false, not a string")
        case .number:
            throw fault(f, bytes(s), "must be the JSON boolean true or false, not a number")
        case .nested:
            throw FieldFault(field: f, message: "\(f.name) must be the JSON boolean true or false, not a JSON object or array")
        }
    }

    /// A mainland mobile number: `1[3-9]` and 9 more digits.
    func mobile(_ f: FeedField) throws(FieldFault) -> String? {
        guard let b = try text(f) else { return nil }
        guard FieldRules.isMobile(b) else { throw fault(f, b, FieldRules.mobileRule) }
        return string(b)
    }

    func timestamp(_ f: FeedField) throws(FieldFault) -> RFC3339Timestamp {
        let b = try requiredText(f)
        switch RFC3339Timestamp.parse(b) {
        case .success(let t): return t
        case .failure(let problem): throw fault(f, b, problem.message)
        }
    }
}

/// Byte spellings of an enumeration's cases, matched without building a String.
struct EnumTable<E>: Sendable where E: Sendable {
    let entries: [([UInt8], E)]
    /// `a, b, c` for reasons.
    let spellings: String

    init(_ pairs: [(String, E)]) {
        entries = pairs.map { (Array($0.0.utf8), $0.1) }
        spellings = pairs.map(\.0).joined(separator: ", ")
    }

    @inline(__always)
    func match(_ b: UnsafeBufferPointer<UInt8>) -> E? {
        for (bytes, value) in entries where bytes.count == b.count {
            var equal = true
            for i in 0..<b.count where bytes[i] != b[i] { equal = false; break }
            if equal { return value }
        }
        return nil
    }
}

extension EnumTable where E: RawRepresentable & CaseIterable, E.RawValue == String {
    init(_ type: E.Type) { self.init(E.allCases.map { ($0.rawValue, $0) }) }
}
