import TierGuardModel

/// The byte-level format rules of the contract, each written once.
enum FieldRules {
    static let identifierRule = "must be 1–32 characters of A–Z, a–z, 0–9, _ or -"
    static let mobileRule = "must be a mainland mobile number, 1[3-9] and 9 more digits (no +86, spaces or hyphens)"
    static let wecomRule = "must be 1–64 characters of A–Z, a–z, 0–9, _, -, @ or ."
    static let emailRule = "must be an e-mail address local@domain.tld without spaces"

    /// `[A-Za-z0-9_-]{1,32}`.
    @inline(__always)
    static func isIdentifier(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard b.count >= 1, b.count <= 32 else { return false }
        for c in b {
            let ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || c == 45
            if !ok { return false }
        }
        return true
    }

    /// `1[3-9]\d{9}`.
    static func isMobile(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard b.count == 11, b[0] == 49, b[1] >= 51, b[1] <= 57 else { return false }
        for c in b where c < 48 || c > 57 { return false }
        return true
    }

    /// WeCom's userid rule: 1–64 of letters, digits, `_ - @ .`.
    static func isWeComUserID(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard b.count >= 1, b.count <= 64 else { return false }
        for c in b {
            let ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
                || c == 95 || c == 45 || c == 64 || c == 46
            if !ok { return false }
        }
        return true
    }

    /// A plain shape check, not RFC 5322: one `@`, a non-empty local part, a domain with an inner dot,
    /// no spaces or control characters, at most 254 bytes. Enough to catch a misplaced column.
    static func isEmail(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard b.count >= 5, b.count <= 254 else { return false }
        var at = -1
        for (i, c) in b.enumerated() {
            if c <= 0x20 || c == 0x7F { return false }
            if c == 64 {
                if at >= 0 { return false }
                at = i
            }
        }
        guard at > 0, at < b.count - 1 else { return false }
        let domain = UnsafeBufferPointer(rebasing: b[(at + 1)...])
        guard let dot = domain.lastIndex(of: 46) else { return false }
        return dot > domain.startIndex && dot < domain.endIndex - 1 && domain.first != 46
    }

    @inline(__always)
    static func equals(_ b: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
        guard b.count == text.utf8CodeUnitCount else { return false }
        let p = text.utf8Start
        for i in 0..<b.count where b[i] != p[i] { return false }
        return true
    }

    enum DateFault: Error {
        case syntax, notReal
        var message: String {
            switch self {
            case .syntax: "not a date in the form YYYY-MM-DD"
            case .notReal: "not a real date"
            }
        }
    }

    /// Exactly `YYYY-MM-DD`, a day that exists (year 0001–9999).
    @inline(__always)
    static func date(_ b: UnsafeBufferPointer<UInt8>) -> Result<CalendarDate, DateFault> {
        guard b.count == 10, b[4] == 45, b[7] == 45 else { return .failure(.syntax) }
        var parts = (0, 0, 0)
        var value = 0
        for i in 0..<10 where i != 4 && i != 7 {
            let c = b[i]
            guard c >= 48, c <= 57 else { return .failure(.syntax) }
            value = value * 10 + Int(c - 48)
            if i == 3 { parts.0 = value; value = 0 }
            if i == 6 { parts.1 = value; value = 0 }
        }
        parts.2 = value
        guard let d = CalendarDate(year: parts.0, month: parts.1, day: parts.2) else { return .failure(.notReal) }
        return .success(d)
    }

    /// Why `Fen(yuanText:)` refused `b`: syntax, too many decimals, or overflow.
    static func moneyProblem(_ b: UnsafeBufferPointer<UInt8>) -> String {
        var i = 0
        if i < b.count && b[i] == 45 { i += 1 }
        var integerDigits = 0, fractionDigits = 0, dots = 0
        while i < b.count {
            let c = b[i]
            if c == 46 { dots += 1 } else if c >= 48 && c <= 57 {
                if dots == 0 { integerDigits += 1 } else { fractionDigits += 1 }
            } else { dots = 99 }
            i += 1
        }
        let syntaxOK = dots <= 1 && integerDigits > 0 && (dots == 0 || fractionDigits > 0)
        if !syntaxOK {
            return "not an amount: an optional -, digits, and at most two decimals after a point (\"-12345.67\")"
        }
        if fractionDigits > 2 { return "at most two decimals (fen) are allowed" }
        let size = b.first == 45 ? "too small" : "too large"
        return "\(size): an amount must fit in Int64 fen (-92233720368547758.08 to 92233720368547758.07 yuan)"
    }
}

/// How values appear in reject reasons: clipped, control characters escaped, personal values masked.
enum ReasonText {
    /// At most 40 characters, with control and invisible characters as `\u{…}` (`\u{a0}` for a no-break
    /// space, `\u{feff}` for a byte order mark), so a reason stays one short log line and shows what was
    /// sent. A value that is empty or starts or ends with whitespace is put in double quotes
    /// (`currency " CNY"`), so its spaces are seen; any other value is shown as it is
    /// (`currency USD`, as the example reasons read).
    static func clip(_ text: String) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == 40 {
                out += "…"
                break
            }
            if isInvisible(scalar) {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last,
              !first.properties.isWhitespace, !last.properties.isWhitespace else { return "\"" + out + "\"" }
        return out
    }

    /// `U+00A0`: a code point as reasons name it.
    static func codePoint(_ value: UInt32) -> String {
        "U+" + String(value, radix: 16, uppercase: true).leftPadded(4)
    }

    /// Characters that print as nothing or as a plain space: C0 and C1 controls, DEL, no-break and
    /// ideographic spaces, zero-width characters, byte order mark, line and paragraph separators.
    static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0xA0, 0x200B...0x200F, 0x2028, 0x2029, 0x2060, 0x3000, 0xFEFF: true
        default: false
        }
    }

    /// The value of `field` as a reason shows it.
    static func value(_ text: String, field: FeedField) -> String {
        switch field {
        case .idNumber: return maskKeeping(text, head: 6, tail: 4)
        case .phone, .mobile: return maskKeeping(text, head: 3, tail: 4)
        case .name, .email, .description, .wecomUserid: return "(\(text.count) characters, not shown)"
        default: return clip(text)
        }
    }

    /// `110105********002X`, `138****5678`: keeps `head` and `tail` characters when at least 4 are
    /// left to mask, otherwise masks everything.
    static func maskKeeping(_ text: String, head: Int, tail: Int) -> String {
        let chars = Array(text)
        guard chars.count >= head + tail + 4, chars.count <= 64 else { return String(repeating: "*", count: min(chars.count, 64)) }
        return clip(String(chars[..<head]) + String(repeating: "*", count: chars.count - head - tail) + String(chars[(chars.count - tail)...]))
    }
}
