/// Masked display of personal identifiers (JR/T 0171-2020 C2 data), and a scrubber for free text.
///
/// Why: a name, an identity number, a phone or a card number must never reach a log line, a metric,
/// an error message or an RM's screen in clear (issue 11). Every screen shows these masked forms by
/// default; only an audited `--unmask` shows the plain value.
///
/// Formats (each rule written once here):
/// - name: the surname is kept and every other character becomes one `*` (张三 → 张*). The surname
///   is the first character, or the two characters of a compound surname (复姓, `compoundSurnames`)
///   when the name has at least three characters: 欧阳娜娜 → 欧阳** as RULES.md shows. Names with the
///   middle dot mask each `·`-separated part after its first character (阿依古丽·买买提 → 阿***·买**). "Character" means a user-perceived
///   character (`Character`), so a name in a decomposed form masks the same as the composed one.
/// - identity number: 15 or more characters keep the first 6 and the last 4 (110105********002X);
///   shorter ones (passports, other ids) keep only the last 2 — first 6 + last 4 of a 9-character
///   passport number would show all but one character.
/// - phone: 8 or more characters keep the first 3 and the last 4 (138****5678); shorter ones keep the last 2.
/// - card number: the first 6 and the last 4 digits stay (the PCI DSS display rule); digits between
///   become `*`, separators (spaces, hyphens) stay where they are; fewer than 13 digits keep the last 2.
public enum Masking {
    /// The name separators of transliterated minority and foreign names: the middle dot `·` (U+00B7)
    /// as the bank's systems write it, plus the look-alikes people type (U+2022 `•`, U+30FB `・`, U+FF0E `．`).
    static let nameSeparators: Set<Character> = ["\u{00B7}", "\u{2022}", "\u{30FB}", "\u{FF0E}"]

    /// Two-character surnames (复姓) kept whole by `name(_:)`.
    static let compoundSurnames: Set<String> = [
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "令狐",
        "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "百里", "呼延", "万俟", "闻人", "澹台", "公冶", "太史",
        "申屠", "钟离", "赫连", "濮阳", "淳于", "单于", "司空", "第五", "拓跋", "左丘", "东郭", "歐陽",
    ]

    /// `张三` → `张*`, `欧阳娜娜` → `欧阳**`; each `·`-separated part keeps its first character.
    public static func name(_ name: String) -> String {
        let characters = Array(name)
        if characters.count >= 3, !characters.contains(where: { nameSeparators.contains($0) }),
           compoundSurnames.contains(String(characters[0..<2])) {
            return String(characters[0..<2]) + String(repeating: "*", count: characters.count - 2)
        }
        var out = ""
        var atPartStart = true
        for character in name {
            if nameSeparators.contains(character) {
                out.append(character)
                atPartStart = true
            } else if atPartStart {
                out.append(character)
                atPartStart = false
            } else {
                out.append("*")
            }
        }
        return out
    }

    /// `110105199003070021` → `110105********0021`; a short id keeps only its last 2 characters.
    public static func idNumber(_ id: String) -> String {
        let chars = Array(id)
        if chars.count >= 15 {
            return String(chars[0..<6]) + String(repeating: "*", count: chars.count - 10) + String(chars[(chars.count - 4)...])
        }
        return keepLast(2, of: chars)
    }

    /// `13812345678` → `138****5678`; a short number keeps only its last 2 characters.
    public static func phone(_ phone: String) -> String {
        let chars = Array(phone)
        if chars.count >= 8 {
            return String(chars[0..<3]) + String(repeating: "*", count: chars.count - 7) + String(chars[(chars.count - 4)...])
        }
        return keepLast(2, of: chars)
    }

    /// `6222021234567890123` → `622202*********0123`: digits other than the first 6 and last 4 masked.
    public static func cardNumber(_ card: String) -> String {
        let digitCount = card.reduce(0) { $0 + ($1.isASCII && $1.isNumber ? 1 : 0) }
        var seen = 0
        var out = ""
        for character in card {
            guard character.isASCII, character.isNumber else { out.append(character); continue }
            let visible = digitCount >= 13 ? (seen < 6 || seen >= digitCount - 4) : seen >= digitCount - 2
            out.append(visible ? character : "*")
            seen += 1
        }
        return out
    }

    private static func keepLast(_ n: Int, of chars: [Character]) -> String {
        guard chars.count > n else { return String(repeating: "*", count: chars.count) }
        return String(repeating: "*", count: chars.count - n) + String(chars[(chars.count - n)...])
    }
}

extension Masking {
    /// Masks identifiers inside free text (log lines, error details, comments), leaving the rest byte for byte.
    ///
    /// The scanner looks at each maximal run of ASCII digits (a run ends at any other byte, so letters,
    /// punctuation and Chinese text all delimit it) and masks the run when it is:
    /// 1. 17 digits followed by `X`/`x`, or 18 digits, whose characters 7–14 form a real date in
    ///    1800–2199: a resident identity number, masked as `idNumber`;
    /// 2. 11 digits matching `1[3-9]` + 9 digits: a mainland mobile, masked as `phone`;
    /// 3. 13 digits `86` + a mobile (`+8613812345678`): the mobile part masked as `phone`;
    /// 4. 13–19 digits passing the Luhn check: a card number, masked as `cardNumber`.
    ///
    /// Digits inside a longer run (an 11-digit mobile inside a 20-digit reference) are left alone:
    /// reference numbers stay readable, and the rules above are what the log scanner test looks for.
    /// A hand scanner over UTF-8 bytes is used rather than `NSRegularExpression`: it is linear, allocates
    /// once, and UTF-8 multi-byte sequences never contain ASCII digit bytes.
    public static func scrub(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var changed = false
        var i = 0
        while i < bytes.count {
            guard isDigit(bytes[i]) else { out.append(bytes[i]); i += 1; continue }
            var j = i
            while j < bytes.count, isDigit(bytes[j]) { j += 1 }
            var end = j
            // A resident id's check character may be X.
            if j - i == 17, j < bytes.count, bytes[j] == UInt8(ascii: "X") || bytes[j] == UInt8(ascii: "x"),
               !(j + 1 < bytes.count && isDigit(bytes[j + 1])) {
                end = j + 1
            }
            if let masked = maskRun(bytes[i..<end]) {
                out.append(contentsOf: masked)
                changed = true
                i = end
            } else if end != j, let masked = maskRun(bytes[i..<j]) {
                out.append(contentsOf: masked)
                changed = true
                i = j
            } else {
                out.append(contentsOf: bytes[i..<j])
                i = j
            }
        }
        return changed ? String(decoding: out, as: UTF8.self) : text
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }

    /// The masked bytes of one digit run (possibly ending in X), or nil when it is not an identifier.
    private static func maskRun(_ run: ArraySlice<UInt8>) -> [UInt8]? {
        let digits = Array(run)
        let n = digits.count
        func masked(keepFirst: Int, keepLast: Int) -> [UInt8] {
            var result = digits
            for k in keepFirst..<(n - keepLast) { result[k] = UInt8(ascii: "*") }
            return result
        }
        if n == 18, looksLikeResidentId(digits) { return masked(keepFirst: 6, keepLast: 4) }
        guard isDigit(digits[n - 1]) else { return nil }
        if n == 11, isMobile(digits[...]) { return masked(keepFirst: 3, keepLast: 4) }
        if n == 13, digits[0] == UInt8(ascii: "8"), digits[1] == UInt8(ascii: "6"), isMobile(digits[2...]) {
            return masked(keepFirst: 5, keepLast: 4)
        }
        if (13...19).contains(n), luhnValid(digits) { return masked(keepFirst: 6, keepLast: 4) }
        return nil
    }

    private static func isMobile(_ d: ArraySlice<UInt8>) -> Bool {
        guard d.count == 11 else { return false }
        let first = d[d.startIndex], second = d[d.startIndex + 1]
        return first == UInt8(ascii: "1") && second >= UInt8(ascii: "3") && second <= UInt8(ascii: "9")
    }

    private static func looksLikeResidentId(_ d: [UInt8]) -> Bool {
        guard d.count == 18 else { return false }
        func number(_ range: Range<Int>) -> Int {
            range.reduce(0) { $0 * 10 + Int(d[$1] - 48) }
        }
        let year = number(6..<10), month = number(10..<12), day = number(12..<14)
        guard (1800...2199).contains(year) else { return false }
        return CalendarDate(year: year, month: month, day: day) != nil
    }

    /// The Luhn (mod 10) check of a digit string, as every bank card number passes it.
    static func luhnValid(_ d: [UInt8]) -> Bool {
        var sum = 0
        for (position, byte) in d.reversed().enumerated() {
            var v = Int(byte - 48)
            if position % 2 == 1 { v *= 2; if v > 9 { v -= 9 } }
            sum += v
        }
        return sum % 10 == 0
    }
}
