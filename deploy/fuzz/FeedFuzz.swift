// libFuzzer entry for the feed parsers: compiled by deploy/fuzz/run.sh into ONE module together with
// Shared/FeedContract and TierGuardModel's CalendarDate.swift, Fen.swift and Records.swift (their
// `import TierGuardModel` lines removed), so internal API such as `NDJSONLineParser.forceFallback` is
// in reach. Not part of the SwiftPM package.
//
// One binary serves three targets, picked by TIERGUARD_FUZZ_TARGET (one compile instead of three):
// - ndjson: `FeedDecoder.decode(bytes:format: .ndjson)`; differential against the same bytes read in
//   small chunks, against a small line limit read both ways, and line by line against the escape
//   fallback path (`forceFallback`), which the parser promises gives the same item.
// - csv: the same bytes decoded as each of the five record types, big chunks against small chunks.
// - values: the text through `Fen(yuanText:)`, `CalendarDate(_:)`, `RFC3339Timestamp.parse` and
//   `ResidentIDNumber.validate`, each checked against a slow, plainly written reference below.
// Any disagreement calls `mismatch`, which traps: libFuzzer keeps the input as a crash artifact.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

enum FuzzTarget: String {
    case ndjson, csv, values
}

let fuzzTarget: FuzzTarget = {
    guard let raw = getenv("TIERGUARD_FUZZ_TARGET"), let target = FuzzTarget(rawValue: String(cString: raw)) else {
        fatalError("set TIERGUARD_FUZZ_TARGET to ndjson, csv or values")
    }
    return target
}()

func mismatch(_ what: String, _ detail: @autoclosure () -> String) -> Never {
    fatalError("fuzz mismatch in \(what): \(detail())")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    switch fuzzTarget {
    case .ndjson: fuzzNDJSON(bytes)
    case .csv: fuzzCSV(bytes)
    case .values: fuzzValues(bytes)
    }
    return 0
}

// MARK: NDJSON

/// Inputs are at most 8 KiB (run.sh's -max_len), so a 16 KiB line limit is as good as the 1 MiB
/// default and a 16 KiB chunk is "everything at once"; the default's 2 MiB buffer per reader would
/// cost ASan more than the parsing.
let roomyLineLength = 16 * 1024
let oneChunk = 16 * 1024

/// What a whole decode gave: the items, or the file-level error in words.
enum Decoded: Equatable {
    case success([FeedItem])
    case failure(String)
}

/// Decodes through a reader with the given geometry; an in-memory NDJSON feed never throws.
func decodeAll(_ bytes: [UInt8], _ format: FeedFormat, maxLineLength: Int, chunkSize: Int) -> Decoded {
    var items: [FeedItem] = []
    do {
        try FeedDecoder.decode(FeedLineReader(bytes: bytes, maxLineLength: maxLineLength, chunkSize: chunkSize),
                               format: format) { items.append($0) }
        return .success(items)
    } catch {
        return .failure(String(describing: error))
    }
}

func checkLineNumbers(_ items: [FeedItem], _ bytes: [UInt8]) {
    let physicalLines = bytes.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
    var previous = 0
    for item in items {
        guard item.lineNumber >= 1, item.lineNumber <= physicalLines, item.lineNumber >= previous else {
            mismatch("line numbers", "\(item.lineNumber) after \(previous), \(physicalLines) lines")
        }
        previous = item.lineNumber
    }
}

func fuzzNDJSON(_ bytes: [UInt8]) {
    let whole = decodeAll(bytes, .ndjson, maxLineLength: roomyLineLength, chunkSize: oneChunk)
    guard case .success(let items) = whole else { mismatch("ndjson", "in-memory decode threw: \(whole)") }
    checkLineNumbers(items, bytes)
    let chunk = 1 + Int(bytes.first ?? 0) % 13
    let small = decodeAll(bytes, .ndjson, maxLineLength: roomyLineLength, chunkSize: chunk)
    if small != whole { mismatch("ndjson chunking", "chunkSize \(chunk) differs from one chunk") }
    // A 48-byte limit makes the overlong-line path reachable; it must not depend on chunking either.
    let shortA = decodeAll(bytes, .ndjson, maxLineLength: 48, chunkSize: oneChunk)
    let shortB = decodeAll(bytes, .ndjson, maxLineLength: 48, chunkSize: chunk)
    if shortA != shortB { mismatch("ndjson overlong lines", "chunkSize \(chunk) differs with maxLineLength 48") }

    // Fast path against the escape fallback, line by line.
    var fast = NDJSONLineParser()
    var slow = NDJSONLineParser()
    slow.forceFallback = true
    try? FeedLineReader(bytes: bytes, maxLineLength: roomyLineLength, chunkSize: oneChunk).forEachLine { line in
        guard line.fault == nil, !line.isBlank else { return }
        let a = fast.parse(line.bytes, lineNumber: line.number)
        let b = slow.parse(line.bytes, lineNumber: line.number)
        if a != b { mismatch("ndjson fast path vs fallback", "line \(line.number): \(a) vs \(b)") }
    }
}

// MARK: CSV

func fuzzCSV(_ bytes: [UInt8]) {
    let chunk = 1 + Int(bytes.last ?? 0) % 11
    for type in FeedRecordType.allCases {
        let whole = decodeAll(bytes, .csv(type), maxLineLength: roomyLineLength, chunkSize: oneChunk)
        if case .success(let items) = whole { checkLineNumbers(items, bytes) }
        let small = decodeAll(bytes, .csv(type), maxLineLength: roomyLineLength, chunkSize: chunk)
        if small != whole { mismatch("csv \(type) chunking", "chunkSize \(chunk) differs from one chunk") }
        let shortA = decodeAll(bytes, .csv(type), maxLineLength: 64, chunkSize: oneChunk)
        let shortB = decodeAll(bytes, .csv(type), maxLineLength: 64, chunkSize: chunk)
        if shortA != shortB { mismatch("csv \(type) overlong lines", "chunkSize \(chunk) differs with maxLineLength 64") }
    }
}

// MARK: Values, differentially

func fuzzValues(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    let utf8 = Array(text.utf8)
    checkMoney(text, utf8)
    checkDate(text, utf8)
    checkTimestamp(text, utf8)
    checkResidentID(text, utf8)
    // Structured calls with arbitrary integers: never a trap, and the same verdict as the reference.
    if bytes.count >= 6 {
        let year = Int(Int16(bitPattern: UInt16(bytes[0]) << 8 | UInt16(bytes[1])))
        let month = Int(Int8(bitPattern: bytes[2])), day = Int(Int8(bitPattern: bytes[3]))
        let made = CalendarDate(year: year, month: month, day: day)
        if (made != nil) != referenceDayExists(year, month, day) {
            mismatch("CalendarDate(year:month:day:)", "\(year)-\(month)-\(day): \(String(describing: made))")
        }
        if let made { checkDayNumber(made) }
    }
}

/// Money reference: a character walk for the grammar, Decimal for the value.
func referenceFen(_ b: [UInt8]) -> Decimal? {
    var i = 0
    var negative = false
    if i < b.count, b[i] == UInt8(ascii: "-") { negative = true; i += 1 }
    var integerDigits: [UInt8] = []
    while i < b.count, b[i] >= 48, b[i] <= 57 { integerDigits.append(b[i] - 48); i += 1 }
    if integerDigits.isEmpty { return nil }
    var fractionDigits: [UInt8] = []
    if i < b.count, b[i] == UInt8(ascii: ".") {
        i += 1
        while i < b.count, b[i] >= 48, b[i] <= 57 { fractionDigits.append(b[i] - 48); i += 1 }
        if fractionDigits.isEmpty || fractionDigits.count > 2 { return nil }
    }
    if i != b.count { return nil }
    // More than 19 significant integer digits is out of range for sure; keeps Decimal exact below.
    if integerDigits.drop(while: { $0 == 0 }).count > 19 { return nil }
    var fen = Decimal(0)
    for d in integerDigits { fen = fen * 10 + Decimal(Int(d)) }
    for k in 0..<2 { fen = fen * 10 + Decimal(Int(k < fractionDigits.count ? fractionDigits[k] : 0)) }
    // Int64 fen: up to Int64.max, down to Int64.min (one more fen on the negative side).
    if fen > Decimal(Int64.max) + (negative ? 1 : 0) { return nil }
    return negative ? -fen : fen
}

func checkMoney(_ text: String, _ utf8: [UInt8]) {
    let parsed = Fen(yuanText: text)
    let reference = referenceFen(utf8)
    switch (parsed, reference) {
    case (nil, nil): break
    case (let fen?, let expected?):
        if Decimal(fen.value) != expected { mismatch("Fen(yuanText:)", "\(utf8): \(fen.value) vs \(expected)") }
        // yuanText is the inverse.
        if Fen(yuanText: fen.yuanText) != fen { mismatch("Fen.yuanText round trip", "\(fen.value)") }
    default:
        mismatch("Fen(yuanText:)", "\(utf8): parser \(String(describing: parsed?.value)), reference \(String(describing: reference))")
    }
    if Fen(yuanText: text[...]) != parsed { mismatch("Fen(yuanText:) on a Substring", "\(utf8)") }
}

/// Date reference: month lengths from a table and the leap rule written as the calendar states it.
func referenceIsLeap(_ y: Int) -> Bool {
    if y % 400 == 0 { return true }
    if y % 100 == 0 { return false }
    return y % 4 == 0
}

func referenceDaysIn(_ y: Int, _ m: Int) -> Int {
    let table = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return m == 2 && referenceIsLeap(y) ? 29 : table[m - 1]
}

func referenceDayExists(_ y: Int, _ m: Int, _ d: Int) -> Bool {
    guard y >= 1, y <= 9999, m >= 1, m <= 12 else { return false }
    // Brute force: the day must be one of the month's days.
    for candidate in 1...referenceDaysIn(y, m) where candidate == d { return true }
    return false
}

/// Days since 1970-01-01 by summing whole years and months (slow, obviously right).
func referenceDayNumber(_ y: Int, _ m: Int, _ d: Int) -> Int {
    var days = 0
    if y >= 1970 {
        for year in 1970..<y { days += referenceIsLeap(year) ? 366 : 365 }
    } else {
        for year in y..<1970 { days -= referenceIsLeap(year) ? 366 : 365 }
    }
    for month in 1..<m { days += referenceDaysIn(y, month) }
    return days + d - 1
}

func referenceDate(_ b: [UInt8]) -> (Int, Int, Int)? {
    guard b.count == 10 else { return nil }
    var fields: [Int] = [0, 0, 0]
    for (i, c) in b.enumerated() {
        switch i {
        case 4, 7: if c != UInt8(ascii: "-") { return nil }
        default:
            guard c >= 48, c <= 57 else { return nil }
            let f = i < 4 ? 0 : i < 7 ? 1 : 2
            fields[f] = fields[f] * 10 + Int(c - 48)
        }
    }
    return referenceDayExists(fields[0], fields[1], fields[2]) ? (fields[0], fields[1], fields[2]) : nil
}

func checkDayNumber(_ date: CalendarDate) {
    let expected = referenceDayNumber(date.year, date.month, date.day)
    if date.dayNumber != expected { mismatch("CalendarDate.dayNumber", "\(date): \(date.dayNumber) vs \(expected)") }
    if CalendarDate(dayNumber: expected) != date { mismatch("CalendarDate(dayNumber:)", "\(expected) is not \(date)") }
    if CalendarDate(date.description) != date { mismatch("CalendarDate.description round trip", "\(date)") }
}

func checkDate(_ text: String, _ utf8: [UInt8]) {
    let parsed = CalendarDate(text)
    let reference = referenceDate(utf8)
    switch (parsed, reference) {
    case (nil, nil): break
    case (let date?, let (y, m, d)?):
        if (date.year, date.month, date.day) != (y, m, d) { mismatch("CalendarDate(_:)", "\(text) → \(date)") }
        checkDayNumber(date)
    default:
        mismatch("CalendarDate(_:)", "\(utf8): parser \(String(describing: parsed)), reference \(String(describing: reference))")
    }
}

/// Timestamp reference: the accepted grammar walked position by position, then epoch arithmetic from
/// the slow day count. Returns (epoch seconds, nanoseconds) or nil.
func referenceTimestamp(_ b: [UInt8]) -> (Int64, Int32)? {
    func digits(_ from: Int, _ count: Int) -> Int? {
        guard from + count <= b.count else { return nil }
        var v = 0
        for i in from..<(from + count) {
            guard b[i] >= 48, b[i] <= 57 else { return nil }
            v = v * 10 + Int(b[i] - 48)
        }
        return v
    }
    func at(_ i: Int, _ c: Character) -> Bool { i < b.count && b[i] == c.asciiValue! }
    guard let y = digits(0, 4), at(4, "-"), let mo = digits(5, 2), at(7, "-"), let d = digits(8, 2), at(10, "T"),
          let h = digits(11, 2), at(13, ":"), let mi = digits(14, 2), at(16, ":"), let s = digits(17, 2) else { return nil }
    guard referenceDayExists(y, mo, d), h <= 23, mi <= 59, s <= 59 else { return nil }
    var i = 19
    var nanos = 0
    if at(i, ".") {
        i += 1
        var count = 0
        while i < b.count, b[i] >= 48, b[i] <= 57 { nanos = nanos * 10 + Int(b[i] - 48); count += 1; i += 1; if count > 9 { return nil } }
        guard count >= 1 else { return nil }
        for _ in count..<9 { nanos *= 10 }
    }
    var offsetSeconds = 0
    if at(i, "Z") {
        i += 1
    } else if at(i, "+") || at(i, "-") {
        let sign = at(i, "-") ? -1 : 1
        guard let oh = digits(i + 1, 2), at(i + 3, ":"), let om = digits(i + 4, 2), oh <= 23, om <= 59 else { return nil }
        if sign < 0 && oh == 0 && om == 0 { return nil }
        offsetSeconds = sign * (oh * 3600 + om * 60)
        i += 6
    } else {
        return nil
    }
    guard i == b.count else { return nil }
    let local = Int64(referenceDayNumber(y, mo, d)) * 86_400 + Int64(h * 3600 + mi * 60 + s)
    let utc = local - Int64(offsetSeconds)
    // Storable: years 0001–9999 in UTC and on the Shanghai day (UTC+8), i.e. from 0001-01-01T00:00:00Z
    // to 9999-12-31T15:59:59Z.
    let first = Int64(referenceDayNumber(1, 1, 1)) * 86_400
    let last = Int64(referenceDayNumber(9999, 12, 31)) * 86_400 + 86_399 - 8 * 3_600
    guard utc >= first, utc <= last else { return nil }
    return (utc, Int32(nanos))
}

func checkTimestamp(_ text: String, _ utf8: [UInt8]) {
    let parsed = RFC3339Timestamp.parse(text)
    let reference = referenceTimestamp(utf8)
    switch (parsed, reference) {
    case (.failure, nil): break
    case (.success(let t), let (seconds, nanos)?):
        if t.epochSeconds != seconds || t.nanoseconds != nanos {
            mismatch("RFC3339Timestamp.parse", "\(text): \(t) vs \(seconds).\(nanos)")
        }
    default:
        mismatch("RFC3339Timestamp.parse", "\(utf8): parser \(parsed), reference \(String(describing: reference))")
    }
}

/// GB 11643-1999 written plainly: weight of position i (1-based from the left, 18 positions) is
/// 2^(18-i) mod 11; the check value a18 satisfies (sum + a18) ≡ 1 (mod 11), 10 written X.
func referenceResidentID(_ b: [UInt8]) -> (Int, Int, Int)? {
    guard b.count == 18 else { return nil }
    var sum = 0
    for i in 0..<17 {
        guard b[i] >= 48, b[i] <= 57 else { return nil }
        var weight = 1
        for _ in 0..<(17 - i) { weight = weight * 2 % 11 }
        sum += Int(b[i] - 48) * weight
    }
    let check: Int
    if b[17] == UInt8(ascii: "X") { check = 10 } else if b[17] >= 48, b[17] <= 57 { check = Int(b[17] - 48) } else { return nil }
    guard (sum + check) % 11 == 1 else { return nil }
    func number(_ r: Range<Int>) -> Int { r.reduce(0) { $0 * 10 + Int(b[$1] - 48) } }
    let (y, m, d) = (number(6..<10), number(10..<12), number(12..<14))
    return referenceDayExists(y, m, d) ? (y, m, d) : nil
}

func checkResidentID(_ text: String, _ utf8: [UInt8]) {
    let parsed = ResidentIDNumber.validate(text)
    let reference = referenceResidentID(utf8)
    switch (parsed, reference) {
    case (.failure, nil): break
    case (.success(let date), let (y, m, d)?):
        if (date.year, date.month, date.day) != (y, m, d) { mismatch("ResidentIDNumber.validate", "birth date \(date)") }
    default:
        mismatch("ResidentIDNumber.validate", "\(utf8): parser \(parsed), reference \(String(describing: reference))")
    }
    // The check character of the first 17 characters, whenever they are digits, makes a valid number
    // exactly when the date is real.
    if utf8.count >= 17 {
        let first17 = String(decoding: utf8[0..<17], as: UTF8.self)
        if let check = ResidentIDNumber.checkCharacter(forFirst17: first17) {
            let candidate = Array((first17 + String(check)).utf8)
            let ok = referenceResidentID(candidate) != nil
            if ok != ((try? ResidentIDNumber.validate(first17 + String(check)).get()) != nil) {
                mismatch("ResidentIDNumber.checkCharacter", "\(first17) + \(check)")
            }
        }
    }
}
