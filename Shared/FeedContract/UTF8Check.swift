/// What is wrong with a line's bytes, if anything: the first NUL or invalid UTF-8 sequence.
enum ByteFault: Equatable {
    case nul(offset: Int)
    case invalidUTF8(offset: Int)
}

/// Finds the first NUL byte or invalid UTF-8 sequence in `p[0..<count]` (offsets from 0).
///
/// ASCII is checked eight bytes at a time (a word with no high bit and no zero byte is fine); the
/// rest follows the Unicode Table 3-7 of well-formed sequences (no overlongs, no surrogates, ≤ U+10FFFF).
@inline(__always)
func firstByteFault(_ p: UnsafePointer<UInt8>, _ count: Int) -> ByteFault? {
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i < count {
        if i + 8 <= count {
            let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let high: UInt64 = 0x8080_8080_8080_8080
            let ones: UInt64 = 0x0101_0101_0101_0101
            let hasZero = (word &- ones) & ~word & high
            if word & high == 0 && hasZero == 0 { i += 8; continue }
        }
        let b = p[i]
        if b < 0x80 {
            if b == 0 { return .nul(offset: i) }
            i += 1
            continue
        }
        func cont(_ k: Int) -> Bool { i + k < count && p[i + k] & 0xC0 == 0x80 }
        func inRange(_ k: Int, _ lo: UInt8, _ hi: UInt8) -> Bool { i + k < count && p[i + k] >= lo && p[i + k] <= hi }
        switch b {
        case 0xC2...0xDF:
            guard cont(1) else { return .invalidUTF8(offset: i) }
            i += 2
        case 0xE0:
            guard inRange(1, 0xA0, 0xBF), cont(2) else { return .invalidUTF8(offset: i) }
            i += 3
        case 0xE1...0xEC, 0xEE...0xEF:
            guard cont(1), cont(2) else { return .invalidUTF8(offset: i) }
            i += 3
        case 0xED:
            guard inRange(1, 0x80, 0x9F), cont(2) else { return .invalidUTF8(offset: i) }
            i += 3
        case 0xF0:
            guard inRange(1, 0x90, 0xBF), cont(2), cont(3) else { return .invalidUTF8(offset: i) }
            i += 4
        case 0xF1...0xF3:
            guard cont(1), cont(2), cont(3) else { return .invalidUTF8(offset: i) }
            i += 4
        case 0xF4:
            guard inRange(1, 0x80, 0x8F), cont(2), cont(3) else { return .invalidUTF8(offset: i) }
            i += 4
        default:
            return .invalidUTF8(offset: i)
        }
    }
    return nil
}

/// The line as text for `FeedReject.rawText`: invalid UTF-8 becomes U+FFFD, and so does NUL
/// (PostgreSQL text cannot hold it).
func rawText(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    let text = String(decoding: bytes, as: UTF8.self)
    guard bytes.contains(0) else { return text }
    return String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == "\u{0}" ? "\u{FFFD}" : $0 }))
}
