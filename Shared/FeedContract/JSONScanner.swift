/// A strict single-pass scanner for one flat JSON object (RFC 8259 grammar, no recursion).
///
/// A struct with mutating methods rather than closures over a cursor: closures capturing a `var`
/// pay a dynamic exclusivity check on every byte.
struct JSONScanner {
    struct Fault {
        var message: String
        var field: String?
    }

    struct Outcome {
        var fault: Fault?
        var hasEscape: Bool
    }

    let p: UnsafePointer<UInt8>
    let n: Int
    var i = 0
    var hasEscape = false

    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    @inline(__always) static func isHex(_ b: UInt8) -> Bool {
        isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
    }

    /// Scans `p[0..<n]`; members are appended in line order. Byte positions in messages are 1-based.
    static func scanFlatObject(_ p: UnsafePointer<UInt8>, _ n: Int, into members: inout [JSONMember]) -> Outcome {
        var scanner = JSONScanner(p: p, n: n)
        let fault = scanner.scan(into: &members)
        return Outcome(fault: fault, hasEscape: scanner.hasEscape)
    }

    private func describe(_ at: Int) -> String { at >= n ? "the end of the line" : "byte \(at + 1)" }

    /// ` (found U+FEFF)` when the character at `at` is one a reader cannot see or tell from ASCII (a
    /// byte order mark or no-break space before the `{` of a later line), else nothing.
    private func found(_ at: Int) -> String {
        guard at < n, p[at] >= 0x80 || p[at] < 0x20 else { return "" }
        let prefix = UnsafeBufferPointer(start: p + at, count: min(4, n - at))
        guard let scalar = String(decoding: prefix, as: UTF8.self).unicodeScalars.first, scalar != "\u{FFFD}" else { return "" }
        return " (found \(ReasonText.codePoint(scalar.value)))"
    }

    @inline(__always) private mutating func skipSpace() { while i < n && JSONScanner.isSpace(p[i]) { i += 1 } }

    private mutating func scan(into members: inout [JSONMember]) -> Fault? {
        skipSpace()
        guard i < n else { return Fault(message: "not a JSON object: the line is empty") }
        if p[i] != 0x7B {
            if p[i] == 0x5B { return Fault(message: "not a JSON object: a line must be one flat JSON object, not an array") }
            return Fault(message: "not valid JSON: expected '{' at \(describe(i))\(found(i))")
        }
        i += 1
        skipSpace()
        if i < n && p[i] == 0x7D {
            i += 1
        } else {
            while true {
                guard i < n, p[i] == 0x22 else {
                    return Fault(message: "not valid JSON: expected a key in double quotes at \(describe(i))")
                }
                guard let key = string() else { return stringFault() }
                skipSpace()
                guard i < n, p[i] == 0x3A else { return Fault(message: "not valid JSON: expected ':' after a key at \(describe(i))") }
                i += 1
                skipSpace()
                guard i < n else { return Fault(message: "not valid JSON: expected a value at the end of the line") }
                var member = JSONMember(keyStart: key.start, keyEnd: key.end, valueStart: i, valueEnd: i,
                                        tokenStart: i, tokenEnd: i, kind: .null, keyEscaped: key.escaped, valueEscaped: false)
                switch p[i] {
                case 0x22:
                    guard let value = string() else { return stringFault() }
                    member.valueStart = value.start
                    member.valueEnd = value.end
                    member.valueEscaped = value.escaped
                    member.kind = .string
                case 0x74:
                    guard literal("true") else { return Fault(message: "not valid JSON: expected a value at byte \(i + 1)") }
                    member.kind = .trueValue
                case 0x66:
                    guard literal("false") else { return Fault(message: "not valid JSON: expected a value at byte \(i + 1)") }
                    member.kind = .falseValue
                case 0x6E:
                    guard literal("null") else { return Fault(message: "not valid JSON: expected a value at byte \(i + 1)") }
                    member.kind = .null
                case 0x2D, 0x30...0x39:
                    guard number() else { return Fault(message: "not valid JSON: malformed number at byte \(member.valueStart + 1)") }
                    member.kind = .number
                case 0x7B, 0x5B:
                    // Records are flat, but an unknown field may hold any JSON value (RULES.md: unknown
                    // extra fields are ignored, for forward compatibility): checked, skipped, and kept as
                    // `.nested`, which a known field refuses by its kind. Escapes inside it do not send
                    // the line to the escape-decoding path: nothing reads its strings.
                    let escapesBefore = hasEscape
                    if let fault = skipNested() { return fault }
                    hasEscape = escapesBefore
                    member.kind = .nested
                default:
                    return Fault(message: "not valid JSON: expected a value at byte \(i + 1)")
                }
                if member.kind != .string { member.valueEnd = i }
                member.tokenEnd = i
                members.append(member)
                skipSpace()
                if i < n && p[i] == 0x2C {
                    i += 1
                    skipSpace()
                    continue
                }
                if i < n && p[i] == 0x7D {
                    i += 1
                    break
                }
                return Fault(message: "not valid JSON: expected ',' or '}' at \(describe(i))")
            }
        }
        skipSpace()
        if i < n { return Fault(message: "not valid JSON: text after the end of the object at byte \(i + 1)") }
        return nil
    }

    /// Checks (RFC 8259) and skips the object or array that starts at `p[i]`, leaving `i` after its
    /// closing bracket. Iterative, with an explicit stack of the open brackets, so depth costs a byte
    /// each, never the thread's stack (a line is at most 1 MiB).
    private mutating func skipNested() -> Fault? {
        enum Expect { case value, valueOrClose, keyOrClose, key, commaOrClose }
        var closers: [UInt8] = []  // `}` or `]` for each open container, innermost last
        var expect = Expect.value
        while true {
            skipSpace()
            guard i < n else { return Fault(message: "not valid JSON: a nested object or array is not closed at the end of the line") }
            let c = p[i]
            switch expect {
            case .keyOrClose where c == 0x7D, .valueOrClose where c == 0x5D, .commaOrClose where c == closers.last:
                i += 1
                closers.removeLast()
                if closers.isEmpty { return nil }
                expect = .commaOrClose
            case .commaOrClose:
                guard c == 0x2C else {
                    return Fault(message: "not valid JSON: expected ',' or '\(Character(Unicode.Scalar(closers.last!)))' at \(describe(i))")
                }
                i += 1
                expect = closers.last == 0x7D ? .key : .value
            case .key, .keyOrClose:
                guard c == 0x22 else { return Fault(message: "not valid JSON: expected a key in double quotes at \(describe(i))") }
                guard string() != nil else { return stringFault() }
                skipSpace()
                guard i < n, p[i] == 0x3A else { return Fault(message: "not valid JSON: expected ':' after a key at \(describe(i))") }
                i += 1
                expect = .value
            case .value, .valueOrClose:
                switch c {
                case 0x7B:
                    closers.append(0x7D)
                    i += 1
                    expect = .keyOrClose
                    continue
                case 0x5B:
                    closers.append(0x5D)
                    i += 1
                    expect = .valueOrClose
                    continue
                case 0x22:
                    guard string() != nil else { return stringFault() }
                case 0x74 where literal("true"), 0x66 where literal("false"), 0x6E where literal("null"):
                    break
                case 0x2D, 0x30...0x39:
                    let start = i
                    guard number() else { return Fault(message: "not valid JSON: malformed number at byte \(start + 1)") }
                default:
                    return Fault(message: "not valid JSON: expected a value at byte \(i + 1)")
                }
                expect = .commaOrClose
            }
        }
    }

    /// Scans a string starting at the quote `p[i]`; returns the content range. On failure `i` is at the
    /// offending byte (or `n`).
    @inline(__always)
    private mutating func string() -> (start: Int, end: Int, escaped: Bool)? {
        let start = i + 1
        var j = start
        var escaped = false
        let raw = UnsafeRawPointer(p)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        while j < n {
            // Eight plain bytes at a time: no quote, no backslash, no control character.
            while j + 8 <= n {
                let w = raw.loadUnaligned(fromByteOffset: j, as: UInt64.self)
                let quote = w ^ (ones &* 0x22)
                let slash = w ^ (ones &* 0x5C)
                let special = ((quote &- ones) & ~quote) | ((slash &- ones) & ~slash) | ((w &- ones &* 0x20) & ~w)
                if special & high != 0 { break }
                j += 8
            }
            guard j < n else { break }
            let c = p[j]
            if c == 0x22 {
                i = j + 1
                if escaped { hasEscape = true }
                return (start, j, escaped)
            }
            if c == 0x5C {
                escaped = true
                guard j + 1 < n else { break }
                switch p[j + 1] {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:
                    j += 2
                case 0x75:
                    guard j + 5 < n, JSONScanner.isHex(p[j + 2]), JSONScanner.isHex(p[j + 3]),
                          JSONScanner.isHex(p[j + 4]), JSONScanner.isHex(p[j + 5]) else {
                        i = j
                        return nil
                    }
                    j += 6
                default:
                    i = j
                    return nil
                }
                continue
            }
            if c < 0x20 {
                i = j
                return nil
            }
            j += 1
        }
        i = n
        return nil
    }

    private func stringFault() -> Fault {
        if i >= n { return Fault(message: "not valid JSON: a string is not closed") }
        if p[i] == 0x5C { return Fault(message: "not valid JSON: invalid escape at byte \(i + 1)") }
        return Fault(message: "not valid JSON: control character \(ReasonText.codePoint(UInt32(p[i]))) inside a string at byte \(i + 1) must be escaped")
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard i + count <= n else { return false }
        for k in 0..<count where p[i + k] != word.utf8Start[k] { return false }
        i += count
        return true
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, any length (its value is never needed).
    private mutating func number() -> Bool {
        if p[i] == 0x2D { i += 1 }
        guard i < n, JSONScanner.isDigit(p[i]) else { return false }
        if p[i] == 0x30 { i += 1 } else { while i < n && JSONScanner.isDigit(p[i]) { i += 1 } }
        if i < n && p[i] == 0x2E {
            i += 1
            guard i < n, JSONScanner.isDigit(p[i]) else { return false }
            while i < n && JSONScanner.isDigit(p[i]) { i += 1 }
        }
        if i < n && (p[i] == 0x65 || p[i] == 0x45) {
            i += 1
            if i < n && (p[i] == 0x2B || p[i] == 0x2D) { i += 1 }
            guard i < n, JSONScanner.isDigit(p[i]) else { return false }
            while i < n && JSONScanner.isDigit(p[i]) { i += 1 }
        }
        return true
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
