import Foundation

/// One statement parameter as it goes to libpq: NULL, text, or binary bytes (bytea only).
public enum PostgresBind: Sendable, Hashable {
    case null
    case text(String)
    case binary([UInt8])
}

extension PostgresBind {
    /// Values as parameters, each converted by `PostgresEncodable` (nil is NULL): for a statement whose
    /// parameters are put together from parts (`PostgresQuery.binding(_:)` takes the whole list).
    public static func list(_ values: (any PostgresEncodable)?...) -> [PostgresBind] { list(values) }

    public static func list(_ values: [(any PostgresEncodable)?]) -> [PostgresBind] { values.map { $0?.postgresBind ?? .null } }
}

/// A Swift value that can be bound as a statement parameter.
public protocol PostgresEncodable {
    var postgresBind: PostgresBind { get }
}

extension Int: PostgresEncodable { public var postgresBind: PostgresBind { .text(String(self)) } }
extension Int64: PostgresEncodable { public var postgresBind: PostgresBind { .text(String(self)) } }
extension Int32: PostgresEncodable { public var postgresBind: PostgresBind { .text(String(self)) } }
extension Bool: PostgresEncodable { public var postgresBind: PostgresBind { .text(self ? "t" : "f") } }
extension String: PostgresEncodable { public var postgresBind: PostgresBind { .text(self) } }
extension Substring: PostgresEncodable { public var postgresBind: PostgresBind { .text(String(self)) } }
extension Double: PostgresEncodable {
    /// Doubles are for measurements (probabilities, seconds), never money; text keeps full precision.
    public var postgresBind: PostgresBind { .text("\(self)") }
}
extension Data: PostgresEncodable { public var postgresBind: PostgresBind { .binary([UInt8](self)) } }

extension Date: PostgresEncodable {
    /// Bound as a timestamptz literal in UTC with microseconds.
    public var postgresBind: PostgresBind { .text(PostgresTimestamp.format(self)) }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresBind: PostgresBind { self?.postgresBind ?? .null }
}

extension Array: PostgresEncodable where Element: PostgresArrayElement {
    /// A PostgreSQL array literal (`{1,2}`, `{"a b",NULL}`); bind with a cast (`$1::bigint[]`).
    public var postgresBind: PostgresBind {
        var text = "{"
        for (i, element) in enumerated() {
            if i > 0 { text += "," }
            element.appendArrayLiteral(to: &text)
        }
        return .text(text + "}")
    }
}

/// Values that can stand inside an array literal.
public protocol PostgresArrayElement {
    func appendArrayLiteral(to text: inout String)
}

extension Int64: PostgresArrayElement {
    public func appendArrayLiteral(to text: inout String) { text += String(self) }
}
extension Int: PostgresArrayElement {
    public func appendArrayLiteral(to text: inout String) { text += String(self) }
}
extension Int32: PostgresArrayElement {
    public func appendArrayLiteral(to text: inout String) { text += String(self) }
}
extension Bool: PostgresArrayElement {
    public func appendArrayLiteral(to text: inout String) { text += self ? "t" : "f" }
}
extension String: PostgresArrayElement {
    public func appendArrayLiteral(to text: inout String) {
        text.append("\"")
        if utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            for scalar in unicodeScalars {
                if scalar == "\"" || scalar == "\\" { text.append("\\") }
                text.unicodeScalars.append(scalar)
            }
        } else {
            text += self  // the common case (ids): nothing to escape, one append
        }
        text.append("\"")
    }
}
extension Optional: PostgresArrayElement where Wrapped: PostgresArrayElement {
    public func appendArrayLiteral(to text: inout String) {
        if let value = self { value.appendArrayLiteral(to: &text) } else { text += "NULL" }
    }
}

/// A Codable value stored as `jsonb`: `PostgresJSON(args)` binds it, `PostgresJSON<T>` decodes it.
public struct PostgresJSON<Value: Codable>: PostgresEncodable {
    public var value: Value
    public init(_ value: Value) { self.value = value }

    public var postgresBind: PostgresBind {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding a Codable value to JSON only fails for non-finite floats; bind NULL then,
        // which a NOT NULL column will refuse loudly.
        guard let data = try? encoder.encode(value) else { return .null }
        return .text(String(decoding: data, as: UTF8.self))
    }
}

extension PostgresJSON: Sendable where Value: Sendable {}

/// A `date` column's value: a calendar day, no time zone (so no midnight drift).
public struct PostgresDate: Hashable, Sendable, PostgresEncodable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int
    public init(year: Int, month: Int, day: Int) { self.year = year; self.month = month; self.day = day }

    public var description: String {
        func pad(_ v: Int, _ n: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }
    public var postgresBind: PostgresBind { .text(description) }
}

/// Formats and parses timestamptz text in ISO style.
enum PostgresTimestamp {
    static func format(_ date: Date) -> String {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        var seconds = Int64((micros / 1_000_000).rounded(.down))
        var fraction = Int64(micros) - seconds * 1_000_000
        if fraction < 0 { fraction += 1_000_000; seconds -= 1 }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 { secondOfDay += 86_400; days -= 1 }
        let (y, m, d) = civil(fromDays: days)
        func pad(_ v: Int64, _ n: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2)) \(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(fraction, 6))+00"
    }

    /// Parses `2026-12-02 14:46:53.71001+08` (ISO DateStyle, any offset, optional fraction).
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        var i = 0
        func number(_ count: Int) -> Int64? {
            guard i + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for _ in 0..<count {
                let b = bytes[i]
                guard b >= 48, b <= 57 else { return nil }
                value = value * 10 + Int64(b - 48)
                i += 1
            }
            return value
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < bytes.count, bytes[i] == c else { return false }
            i += 1
            return true
        }
        guard let y = number(4), expect(45), let mo = number(2), expect(45), let d = number(2),
              expect(32) || expect(84), let h = number(2), expect(58), let mi = number(2), expect(58),
              let s = number(2) else { return nil }
        var nanos: Int64 = 0
        if i < bytes.count, bytes[i] == 46 {
            i += 1
            var digits = 0
            while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
                if digits < 9 { nanos = nanos * 10 + Int64(bytes[i] - 48); digits += 1 }
                i += 1
            }
            while digits < 9 { nanos *= 10; digits += 1 }
        }
        var offset: Int64 = 0
        if i < bytes.count {
            let sign: Int64
            if expect(43) { sign = 1 } else if expect(45) { sign = -1 } else { return nil }
            guard let oh = number(2) else { return nil }
            var om: Int64 = 0, os: Int64 = 0
            if expect(58) { guard let v = number(2) else { return nil }; om = v }
            if expect(58) { guard let v = number(2) else { return nil }; os = v }
            offset = sign * (oh * 3600 + om * 60 + os)
        }
        guard i == bytes.count else { return nil }
        let days = daysFromCivil(y, mo, d)
        let seconds = days * 86_400 + h * 3600 + mi * 60 + s - offset
        return Date(timeIntervalSince1970: Double(seconds) + Double(nanos) / 1_000_000_000)
    }

    static func daysFromCivil(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
