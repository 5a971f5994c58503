import TierGuardModel

/// An RFC 3339 timestamp as the feed contract accepts it, reduced to an instant.
///
/// Accepted: `YYYY-MM-DDTHH:MM:SS[.f]OFFSET` with an uppercase `T`, 1–9 fraction digits, and an
/// offset `Z` or `±hh:mm` (hh 00–23, mm 00–59). Refused, each with its own reason: no offset, a
/// lowercase `t` or `z`, a space instead of `T`, a leap second `:60` (the archive keeps epoch seconds),
/// `-00:00` (RFC 3339's "local offset unknown", which is no offset at all), more than 9 fraction
/// digits, a day or time that does not exist, and an instant outside the years 0001–9999 in UTC or
/// on the bank's day in Asia/Shanghai (`0001-01-01T00:00:00+08:00` is in year 0 in UTC,
/// `9999-12-31T20:00:00Z` on 10000-01-01 in Shanghai): the archive stores the UTC instant and its
/// Shanghai day with 4-digit years (PostgreSQL refused the feed's whole transaction for such a line
/// before this check).
public struct RFC3339Timestamp: Hashable, Sendable {
    /// Seconds since 1970-01-01T00:00:00Z, the offset applied.
    public var epochSeconds: Int64
    /// Nanoseconds within the second (fraction digits padded to 9).
    public var nanoseconds: Int32

    public init(epochSeconds: Int64, nanoseconds: Int32) {
        self.epochSeconds = epochSeconds
        self.nanoseconds = nanoseconds
    }

    /// 0001-01-01T00:00:00Z and 9999-12-31T15:59:59Z (23:59:59 in Shanghai, UTC+8), in seconds since
    /// 1970-01-01T00:00:00Z.
    static let firstStorableSecond: Int64 = -62_135_596_800
    static let lastStorableSecond: Int64 = 253_402_300_799 - 8 * 3_600

    /// The same instant cut to whole microseconds, the precision of PostgreSQL's `timestamptz`:
    /// truncated, never rounded, so `23:59:59.9999999` stays in its second — and on its day, which the
    /// scoring rules read (RULES.md: a transaction's day is `booked_at` in Asia/Shanghai).
    public var truncatedToMicroseconds: RFC3339Timestamp {
        RFC3339Timestamp(epochSeconds: epochSeconds, nanoseconds: nanoseconds / 1_000 * 1_000)
    }

    /// Parses `text`; the failure is the problem in words.
    public static func parse(_ text: some StringProtocol) -> Result<RFC3339Timestamp, TimestampFault> {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { parse(UnsafeBufferPointer($0)) }
    }

    static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Result<RFC3339Timestamp, TimestampFault> {
        let n = b.count
        @inline(__always) func digit(_ i: Int) -> Int? {
            guard i < n else { return nil }
            let x = b[i]
            return x >= 48 && x <= 57 ? Int(x - 48) : nil
        }
        @inline(__always) func two(_ i: Int) -> Int? {
            guard let a = digit(i), let c = digit(i + 1) else { return nil }
            return a * 10 + c
        }
        @inline(__always) func isByte(_ i: Int, _ c: Unicode.Scalar) -> Bool { i < n && b[i] == UInt8(ascii: c) }
        guard n >= 19, let y1 = two(0), let y2 = two(2), isByte(4, "-"), let month = two(5), isByte(7, "-"),
              let day = two(8) else { return .failure(.syntax) }
        if isByte(10, "t") { return .failure(.lowercaseT) }
        if isByte(10, " ") { return .failure(.spaceSeparator) }
        guard isByte(10, "T"), let hour = two(11), isByte(13, ":"), let minute = two(14), isByte(16, ":"),
              let second = two(17) else { return .failure(.syntax) }
        guard let date = CalendarDate(year: y1 * 100 + y2, month: month, day: day) else { return .failure(.notARealDate) }
        if second == 60 { return .failure(.leapSecond) }
        guard hour <= 23, minute <= 59, second <= 59 else { return .failure(.notARealTime) }
        var i = 19
        var nanos = 0
        if isByte(i, ".") {
            i += 1
            var digits = 0
            while let d = digit(i) {
                digits += 1
                if digits <= 9 { nanos = nanos * 10 + d }
                i += 1
            }
            guard digits > 0 else { return .failure(.syntax) }
            guard digits <= 9 else { return .failure(.tooManyFractionDigits) }
            for _ in digits..<9 { nanos *= 10 }
        }
        guard i < n else { return .failure(.noOffset) }
        var offset = 0
        switch b[i] {
        case UInt8(ascii: "Z"):
            i += 1
        case UInt8(ascii: "z"):
            return .failure(.lowercaseZ)
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let negative = b[i] == UInt8(ascii: "-")
            guard let oh = two(i + 1), isByte(i + 3, ":"), let om = two(i + 4) else { return .failure(.badOffset) }
            guard oh <= 23, om <= 59 else { return .failure(.badOffset) }
            if negative && oh == 0 && om == 0 { return .failure(.unknownOffset) }
            offset = (oh * 3600 + om * 60) * (negative ? -1 : 1)
            i += 6
        default:
            return .failure(.syntax)
        }
        guard i == n else { return .failure(.syntax) }
        let local = Int64(date.dayNumber) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        let utc = local - Int64(offset)
        guard (firstStorableSecond...lastStorableSecond).contains(utc) else { return .failure(.outsideStorableYears) }
        return .success(RFC3339Timestamp(epochSeconds: utc, nanoseconds: Int32(nanos)))
    }
}

/// Why a timestamp is refused.
public enum TimestampFault: Error, Hashable, Sendable {
    case syntax, lowercaseT, spaceSeparator, lowercaseZ, noOffset, unknownOffset, badOffset
    case notARealDate, notARealTime, leapSecond, tooManyFractionDigits, outsideStorableYears

    public var message: String {
        switch self {
        case .syntax: "not an RFC 3339 timestamp (YYYY-MM-DDTHH:MM:SS[.fraction] then Z or ±hh:mm)"
        case .lowercaseT: "the date and time must be separated by an uppercase T"
        case .spaceSeparator: "the date and time must be separated by an uppercase T, not a space"
        case .lowercaseZ: "the UTC offset must be an uppercase Z"
        case .noOffset: "no UTC offset; a time without an offset is refused (add Z or +08:00)"
        case .unknownOffset: "offset -00:00 means the local offset is unknown; give the real offset (Z or +08:00)"
        case .badOffset: "the offset must be Z or ±hh:mm with hh 00–23 and mm 00–59"
        case .notARealDate: "not a real date"
        case .notARealTime: "not a real time of day (hour 00–23, minute and second 00–59)"
        case .leapSecond: "second 60 (a leap second) is not accepted"
        case .tooManyFractionDigits: "at most 9 fraction digits (nanoseconds)"
        case .outsideStorableYears: "outside the years 0001–9999 in UTC or on the bank's day in Asia/Shanghai"
        }
    }
}
