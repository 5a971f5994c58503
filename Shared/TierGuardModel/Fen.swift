/// An amount of money in fen (分, 1/100 yuan), exact in Int64.
///
/// Money is never a `Double`: a feed's `"12345.67"` becomes `Fen(1_234_567)` and every figure the
/// scorer shows can be recomputed by hand to the fen.
public struct Fen: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var value: Int64

    public init(_ value: Int64) { self.value = value }

    /// Whole yuan, for thresholds written in yuan (`Fen(yuan: 50_000)`).
    public init(yuan: Int64) { self.value = yuan * 100 }

    public static let zero = Fen(0)

    public init(from decoder: any Decoder) throws {
        value = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    public static func < (lhs: Fen, rhs: Fen) -> Bool { lhs.value < rhs.value }
    public static func + (lhs: Fen, rhs: Fen) -> Fen { Fen(lhs.value + rhs.value) }
    public static func - (lhs: Fen, rhs: Fen) -> Fen { Fen(lhs.value - rhs.value) }
    public static func += (lhs: inout Fen, rhs: Fen) { lhs.value += rhs.value }
    public static func -= (lhs: inout Fen, rhs: Fen) { lhs.value -= rhs.value }
    public static prefix func - (amount: Fen) -> Fen { Fen(-amount.value) }

    /// Parses the feed's money syntax: optional `-`, ASCII digits, optional `.` and one or two
    /// decimals; the result must fit Int64 fen. Returns nil for anything else (`1e5`, `+1`,
    /// `1.234`, `.5`, `1.`, empty).
    public init?(yuanText text: some StringProtocol) {
        var bytes = Substring(text).utf8[...]
        var negative = false
        if bytes.first == UInt8(ascii: "-") { negative = true; bytes = bytes.dropFirst() }
        var integer: UInt64 = 0
        var integerDigits = 0
        var fraction: UInt64 = 0
        var fractionDigits = 0
        var seenDot = false
        for b in bytes {
            if b == UInt8(ascii: ".") {
                guard !seenDot else { return nil }
                seenDot = true
                continue
            }
            guard b >= 48, b <= 57 else { return nil }
            let digit = UInt64(b - 48)
            if seenDot {
                fractionDigits += 1
                guard fractionDigits <= 2 else { return nil }
                fraction = fraction * 10 + digit
            } else {
                integerDigits += 1
                let (m, o1) = integer.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(digit)
                guard !o1, !o2 else { return nil }
                integer = s
            }
        }
        guard integerDigits > 0, !seenDot || fractionDigits > 0 else { return nil }
        if fractionDigits == 1 { fraction *= 10 }
        let (scaled, o3) = integer.multipliedReportingOverflow(by: 100)
        let (total, o4) = scaled.addingReportingOverflow(fraction)
        // The magnitude in UInt64, so the whole Int64 range fits: −92233720368547758.08 is Int64.min fen.
        guard !o3, !o4, total <= (negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)) else { return nil }
        value = negative ? Int64(bitPattern: 0 &- total) : Int64(total)
    }

    /// `12345.67` style, no grouping; the inverse of `init(yuanText:)`.
    public var yuanText: String {
        let sign = value < 0 ? "-" : ""
        let magnitude = value.magnitude
        let cents = magnitude % 100
        return "\(sign)\(magnitude / 100).\(cents < 10 ? "0" : "")\(cents)"
    }

    /// `¥123,456.78`, for messages to people.
    public var displayText: String {
        let sign = value < 0 ? "-" : ""
        let magnitude = value.magnitude
        var whole = String(magnitude / 100)
        var grouped = ""
        while whole.count > 3 {
            grouped = "," + whole.suffix(3) + grouped
            whole = String(whole.dropLast(3))
        }
        let cents = magnitude % 100
        return "\(sign)¥\(whole)\(grouped).\(cents < 10 ? "0" : "")\(cents)"
    }

    public var description: String { yuanText }
}
