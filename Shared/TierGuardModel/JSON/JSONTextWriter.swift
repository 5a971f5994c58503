/// A small JSON text writer that produces exactly the bytes `JSONEncoder` produces with
/// `outputFormatting = [.sortedKeys, .withoutEscapingSlashes]` (swift-foundation, Swift 6.3 on
/// Linux) for the score documents, without building `JSONEncoder`'s intermediate value tree.
///
/// Why: the whole-book rescore writes several JSON documents per customer per day
/// (`customer_scores.warning`, `signals`, `value`, `recommendations`, `suitability` and the alert
/// payloads); a profile showed `JSONEncoder` at about 45% of the scorer's CPU. This writer appends
/// straight into one reusable byte buffer. Measured (release, `JSONTextDocumentsTests` on a
/// generated book: 30,089 documents, 16.4 MB): `JSONEncoder` 0.49–1.19 s, this writer
/// 0.07–0.15 s, about 7× (hand measurement on a shared 2-core machine). A `[UInt8]` buffer turned
/// into a `String` once per document was about 3× faster than appending to a `String` directly.
///
/// The byte-equality guarantee, and what it rests on (checked by `JSONTextWriterTests` in
/// TierGuardModelTests for the primitives, and by `JSONTextDocumentsTests` in TierGuardStoreTests
/// for every document of thousands of generated customers):
/// - Keys: `.sortedKeys` in swift-foundation outside Apple's frameworks sorts an object's keys by
///   their UTF-8 bytes (`a.key.utf8.lexicographicallyPrecedes(b.key.utf8)`), not by
///   `String.<` and not with the locale-aware `.numeric`/`.caseInsensitive` comparison of Darwin's
///   compatibility mode. `gap` sorts before `gap_month`, `Z` before `a`. The writer does not sort:
///   a conformance writes its keys in that order (`writeSortedObject` does it for a dictionary).
/// - Strings: `"` → `\"`, `\` → `\\`, U+0008 → `\b`, U+000C → `\f`, U+000A → `\n`, U+000D → `\r`,
///   U+0009 → `\t`, every other U+0000…U+001F → `\u00XX` with lowercase hex; nothing else is
///   escaped: not `/` (`.withoutEscapingSlashes`), not DEL (U+007F), not U+2028/U+2029, and non-ASCII
///   text is written as its UTF-8.
/// - Integers: their decimal `description`. Bool: `true`/`false`. Nil optionals: the synthesized
///   `Encodable` uses `encodeIfPresent`, so the key is left out (never `null`).
/// - Double: Swift's shortest round-trip `description` with a trailing `.0` removed: `1.0` → `1`,
///   `-0.0` → `-0`, `1e20` → `1e+20`, `1e-07` stays, `0.30000000000000004`, `5e-324`,
///   `1.7976931348623157e+308`. NaN and ±infinity make `JSONEncoder` throw
///   `EncodingError.invalidValue` (its default `nonConformingFloatEncodingStrategy`); `double(_:)`
///   throws the same error, so a caller sees the same failure either way.
///
/// Usage: `beginObject()`, then `key(_:)` and a value per member, `endObject()`; arrays the same
/// with `beginArray()`/`endArray()`. Commas are placed by the writer. Reuse one writer across
/// documents with `text(of:)` or `reset()`; read the text with `text` or `bytes`.
///
/// Not thread-safe by itself; it is a value type, one per task.
public struct JSONTextWriter: Sendable {
    /// The UTF-8 JSON text written since the last `reset()`.
    public private(set) var bytes: [UInt8]
    /// Whether the next member or element needs a comma before it.
    private var needsComma = false

    public init(capacity: Int = 1_024) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Empties the buffer, keeping its capacity, to write the next document.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
    }

    /// The text written since the last `reset()`.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// One document: resets the writer (keeping its buffer), writes `value`, returns the text.
    /// The call ScoreWriter makes per document, one writer per batch.
    public mutating func text(of value: some JSONTextEncodable) throws -> String {
        reset()
        try value.writeJSON(to: &self)
        return text
    }

    /// `value` as JSON text, using a fresh writer.
    public static func text(of value: some JSONTextEncodable) throws -> String {
        var writer = JSONTextWriter()
        return try writer.text(of: value)
    }

    // MARK: Containers

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// A member key whose text needs no escaping (the ASCII coding keys of our types); the next
    /// call writes its value. Keys must come in UTF-8 byte order (see the type's notes).
    public mutating func key(_ key: StaticString) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { buffer in
            assert(!buffer.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") },
                   "key(StaticString) is for keys without escapes")
            bytes.append(contentsOf: buffer)
        }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// A member key from data (a dictionary key), escaped like any string.
    public mutating func key(_ key: String) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        appendQuoted(key)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    // MARK: Values

    public mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
        needsComma = true
    }

    public mutating func int(_ value: Int) {
        int64(Int64(value))
    }

    public mutating func int64(_ value: Int64) {
        separate()
        if value >= 0 && value < 10 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value))
        } else {
            appendDecimal(value)
        }
        needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        separate()
        if value {
            bytes.append(contentsOf: [UInt8(ascii: "t"), UInt8(ascii: "r"), UInt8(ascii: "u"), UInt8(ascii: "e")])
        } else {
            bytes.append(contentsOf: [UInt8(ascii: "f"), UInt8(ascii: "a"), UInt8(ascii: "l"), UInt8(ascii: "s"),
                                      UInt8(ascii: "e")])
        }
        needsComma = true
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: [UInt8(ascii: "n"), UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l")])
        needsComma = true
    }

    /// A finite double as `JSONEncoder` writes it; NaN or ±infinity throws
    /// `EncodingError.invalidValue`, as `JSONEncoder` does by default.
    public mutating func double(_ value: Double) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, EncodingError.Context(
                codingPath: [],
                debugDescription: "JSONTextWriter: unable to encode Double.\(value) directly in JSON "
                    + "(JSON has no NaN or infinity; JSONEncoder refuses it the same way)"))
        }
        separate()
        var text = value.description
        text.withUTF8 { utf8 in
            // `description` ends in ".0" for an integral value it writes without an exponent
            // (`100.0`, not `1e+16`); JSONEncoder drops the ".0".
            let n = utf8.count
            if n >= 2 && utf8[n - 2] == UInt8(ascii: ".") && utf8[n - 1] == UInt8(ascii: "0") {
                bytes.append(contentsOf: utf8[..<(n - 2)])
            } else {
                bytes.append(contentsOf: utf8)
            }
        }
        needsComma = true
    }

    /// A calendar date as `CalendarDate`'s `Encodable` writes it: its `description`, `YYYY-MM-DD`.
    public mutating func date(_ date: CalendarDate) {
        guard (0...9_999).contains(date.year) else {
            string(date.description)
            return
        }
        separate()
        bytes.append(UInt8(ascii: "\""))
        appendDigits(date.year, count: 4)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(date.month, count: 2)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(date.day, count: 2)
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// Any `JSONTextEncodable` value.
    public mutating func value(_ value: some JSONTextEncodable) throws {
        try value.writeJSON(to: &self)
    }

    /// A `[String: Value]` as `JSONEncoder` with `.sortedKeys` writes it: members in UTF-8 byte
    /// order of their keys.
    public mutating func writeSortedObject<Value>(_ dictionary: [String: Value],
                                                  _ write: (Value, inout JSONTextWriter) throws -> Void) rethrows {
        beginObject()
        if dictionary.count == 1, let only = dictionary.first {
            key(only.key)
            try write(only.value, &self)
        } else if !dictionary.isEmpty {
            for (k, v) in dictionary.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
                key(k)
                try write(v, &self)
            }
        }
        endObject()
    }

    // MARK: Bytes

    @inline(__always)
    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func appendDigits(_ value: Int, count: Int) {
        var divisor = 1
        for _ in 1..<count { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    private mutating func appendDecimal(_ value: Int64) {
        // Digits of |value| from the right into a 20-byte scratch, as UInt64 so Int64.min works.
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { scratch in
            var i = 20
            repeat {
                i -= 1
                scratch[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 { bytes.append(UInt8(ascii: "-")) }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[i..<20]))
        }
    }

    private mutating func appendQuoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var mark = 0
            for i in utf8.indices {
                let byte = utf8[i]
                // Only ASCII `"`, `\` and C0 controls are escaped; UTF-8 continuation and lead
                // bytes (≥ 0x80) and DEL pass through.
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                if i > mark { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[mark..<i])) }
                mark = i + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                default:
                    // Lowercase hex, as JSONEncoder writes it: U+001F → \u001f.
                    let low = byte & 0x0F
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                              UInt8(ascii: "0") &+ (byte >> 4),
                                              low < 10 ? UInt8(ascii: "0") &+ low : UInt8(ascii: "a") &+ (low &- 10)])
                }
            }
            if mark < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[mark...])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// A value `JSONTextWriter` can write, with the same bytes as its `Encodable` implementation
/// under `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]`.
public protocol JSONTextEncodable {
    /// Writes `self` as one JSON value; throws only what `JSONEncoder` would throw (a non-finite Double).
    func writeJSON(to writer: inout JSONTextWriter) throws
}

extension JSONTextEncodable where Self: RawRepresentable, RawValue == String {
    /// A string-backed enum encodes as its raw value.
    public func writeJSON(to writer: inout JSONTextWriter) { writer.string(rawValue) }
}

extension String: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) { writer.string(self) }
}

extension Int: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) { writer.int(self) }
}

extension Int64: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) { writer.int64(self) }
}

extension Bool: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) { writer.bool(self) }
}

extension Double: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) throws { try writer.double(self) }
}

extension Array: JSONTextEncodable where Element: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) throws {
        writer.beginArray()
        for element in self { try element.writeJSON(to: &writer) }
        writer.endArray()
    }
}

extension Dictionary: JSONTextEncodable where Key == String, Value: JSONTextEncodable {
    /// Members in UTF-8 byte order of the keys, as `.sortedKeys` writes them.
    public func writeJSON(to writer: inout JSONTextWriter) throws {
        try writer.writeSortedObject(self) { value, w in try value.writeJSON(to: &w) }
    }
}
