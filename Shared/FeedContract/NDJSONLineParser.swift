import Foundation

/// One member of the scanned JSON object: byte ranges of its key and value.
struct JSONMember {
    /// The key without its quotes.
    var keyStart: Int, keyEnd: Int
    /// A string value without its quotes; any other value as its token.
    var valueStart: Int, valueEnd: Int
    /// The value's token in the original line, quotes included (for redaction).
    var tokenStart: Int, tokenEnd: Int
    var kind: ValueKind
    var keyEscaped: Bool, valueEscaped: Bool
}

/// Parses one NDJSON line into a record or a reject.
///
/// The fast path is a single byte-level pass over a flat JSON object (strict RFC 8259 grammar:
/// strings, numbers, `true`, `false`, `null`) that records byte ranges, then validation straight from
/// those bytes: no Foundation, no dictionary, a `String` only for the values a record keeps.
/// A line with any backslash escape takes the fallback: the same scan gives structure and value kinds,
/// and each escaped string is decoded by Foundation's `JSONSerialization`; validation then runs over
/// the decoded bytes with the same code, so both paths give the same record for the same content.
///
/// A nested object or array (allowed in an unknown field only) is checked and skipped without
/// recursion (`JSONScanner.skipNested`), so 10,000 nested brackets cost 10,000 bytes of stack array.
///
/// Keeps scratch buffers between lines: make one per thread and reuse it.
public struct NDJSONLineParser: Sendable {
    let table = FeedFieldTable()
    var slots = [FieldSlot](repeating: .absent, count: FeedField.count)
    var members: [JSONMember] = []
    var decoded: [UInt8] = []
    var unknownKeys: [(start: Int, end: Int)] = []
    /// Tests set it to run lines without escapes through the fallback too.
    var forceFallback = false

    public init() {
        members.reserveCapacity(32)
        decoded.reserveCapacity(1024)
    }

    /// Parses one line (without its line end). Blank lines should not be passed (they are skipped).
    public mutating func parse(_ line: [UInt8], lineNumber: Int) -> FeedItem {
        line.withUnsafeBufferPointer { parse($0, lineNumber: lineNumber) }
    }

    /// Parses one line (without its line end); `line` is only read during the call.
    public mutating func parse(_ line: UnsafeBufferPointer<UInt8>, lineNumber: Int) -> FeedItem {
        guard let base = line.baseAddress, line.count > 0 else {
            return .reject(FeedReject(lineNumber: lineNumber, reason: "line \(lineNumber): empty line", rawText: ""))
        }
        func reject(_ message: String, field: String? = nil, type: FeedRecordType? = nil, raw: String? = nil) -> FeedItem {
            .reject(FeedReject(lineNumber: lineNumber, reason: "line \(lineNumber): \(message)", field: field,
                               recordType: type, rawText: raw ?? rawText(line)))
        }

        members.removeAll(keepingCapacity: true)
        let scan = JSONScanner.scanFlatObject(base, line.count, into: &members)
        if let fault = scan.fault { return reject(fault.message, field: fault.field) }

        // Resolve keys over the line itself, or over the decoded copy when escapes are present.
        if !scan.hasEscape && !forceFallback {
            return resolveAndValidate(base: base, line: line, lineNumber: lineNumber, decodedStrings: false, reject: reject)
        }
        if let fault = decodeEscapes(base) { return reject(fault) }
        let decodedCopy = decoded  // shares storage; keeps `self` free for the mutating call below
        return decodedCopy.withUnsafeBufferPointer { d in
            // An empty decoded buffer still needs a valid pointer.
            let p = d.baseAddress ?? base
            return resolveAndValidate(base: p, line: line, lineNumber: lineNumber, decodedStrings: true, reject: reject)
        }
    }

    /// Copies every key and value into `decoded`, unescaping escaped strings with JSONSerialization,
    /// and points the members there.
    mutating func decodeEscapes(_ base: UnsafePointer<UInt8>) -> String? {
        decoded.removeAll(keepingCapacity: true)
        for i in members.indices {
            var m = members[i]
            guard let key = append(base, m.keyStart, m.keyEnd, escaped: m.keyEscaped) else {
                return "not valid JSON: key at byte \(m.keyStart) has an escape that is not a Unicode character"
            }
            (m.keyStart, m.keyEnd) = key
            guard let value = append(base, m.valueStart, m.valueEnd, escaped: m.valueEscaped) else {
                return "not valid JSON: string at byte \(m.valueStart) has an escape that is not a Unicode character"
            }
            (m.valueStart, m.valueEnd) = value
            members[i] = m
        }
        return nil
    }

    private mutating func append(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int, escaped: Bool) -> (Int, Int)? {
        let from = decoded.count
        if !escaped {
            decoded.append(contentsOf: UnsafeBufferPointer(start: base + start, count: end - start))
            return (from, decoded.count)
        }
        // The string with its quotes, as a JSON fragment.
        let data = Data(bytes: base + start - 1, count: end - start + 2)
        guard let text = (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) as? String else {
            return nil
        }
        decoded.append(contentsOf: text.utf8)
        return (from, decoded.count)
    }

    private mutating func resolveAndValidate(base: UnsafePointer<UInt8>, line: UnsafeBufferPointer<UInt8>, lineNumber: Int,
                                             decodedStrings: Bool,
                                             reject: (String, String?, FeedRecordType?, String?) -> FeedItem) -> FeedItem {
        for i in 0..<FeedField.count { slots[i] = .absent }
        unknownKeys.removeAll(keepingCapacity: true)
        var c3Member: Int?
        for (index, m) in members.enumerated() {
            if let field = table.field(base, m.keyStart, m.keyEnd) {
                if slots[field.rawValue].kind != .absent { return reject("duplicate key \(field.name)", field.name, nil, nil) }
                slots[field.rawValue] = FieldSlot(start: m.valueStart, end: m.valueEnd, kind: m.kind)
            } else {
                if isDuplicateUnknownKey(base, m.keyStart, m.keyEnd) {
                    let key = ReasonText.clip(String(decoding: UnsafeBufferPointer(start: base + m.keyStart, count: m.keyEnd - m.keyStart), as: UTF8.self))
                    return reject("duplicate key \(key)", key, nil, nil)
                }
                unknownKeys.append((m.keyStart, m.keyEnd))
                if c3Member == nil {
                    let key = String(decoding: UnsafeBufferPointer(start: base + m.keyStart, count: m.keyEnd - m.keyStart), as: UTF8.self)
                    if AuthenticationDataField.isAuthenticationData(key) { c3Member = index }
                }
            }
        }
        if let c3 = c3Member {
            let m = members[c3]
            let key = String(decoding: UnsafeBufferPointer(start: base + m.keyStart, count: m.keyEnd - m.keyStart), as: UTF8.self)
            return reject(AuthenticationDataField.reason(key), ReasonText.clip(key), nil, redacted(line, c3))
        }
        return slots.withUnsafeBufferPointer { slotPointer in
            let reader = FieldReader(base: base, slots: slotPointer.baseAddress!, mayHoldNUL: decodedStrings)
            let typeSlot = slotPointer[FeedField.type.rawValue]
            let type: FeedRecordType
            switch typeSlot.kind {
            case .absent, .null:
                return reject("type is required (one of \(recordTypeTable.spellings))", "type", nil, nil)
            case .string where typeSlot.end > typeSlot.start:
                let b = reader.bytes(typeSlot)
                guard let t = recordTypeTable.match(b) else {
                    return reject("type \(ReasonText.clip(reader.string(b))): not a record type of contract \(FeedContract.version) (one of \(recordTypeTable.spellings))", "type", nil, nil)
                }
                type = t
            case .string:
                return reject("type is required (one of \(recordTypeTable.spellings))", "type", nil, nil)
            default:
                return reject("type must be a JSON string, got \(reader.kindName(typeSlot.kind, reader.bytes(typeSlot)))", "type", nil, nil)
            }
            do throws(FieldFault) {
                return .record(try RecordValidator.validate(type, reader), lineNumber: lineNumber)
            } catch {
                return reject(error.message, error.field.name, type, nil)
            }
        }
    }

    /// Unknown keys are few, so pairwise comparison is cheapest; past 64 of them a set takes over.
    private func isDuplicateUnknownKey(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        let key = UnsafeBufferPointer(start: base + start, count: end - start)
        if unknownKeys.count <= 64 {
            for k in unknownKeys where k.end - k.start == key.count {
                if UnsafeBufferPointer(start: base + k.start, count: k.end - k.start).elementsEqual(key) { return true }
            }
            return false
        }
        var seen = Set<[UInt8]>()
        for k in unknownKeys { seen.insert(Array(UnsafeBufferPointer(start: base + k.start, count: k.end - k.start))) }
        return seen.contains(Array(key))
    }

    /// The line with the C3 member's value replaced by `"***"`.
    private func redacted(_ line: UnsafeBufferPointer<UInt8>, _ index: Int) -> String {
        let m = members[index]
        var bytes = Array(line[..<m.tokenStart])
        bytes.append(contentsOf: Array("\"***\"".utf8))
        bytes.append(contentsOf: line[m.tokenEnd...])
        return bytes.withUnsafeBufferPointer { rawText($0) }
    }
}
