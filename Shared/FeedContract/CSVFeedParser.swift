/// Parses the records of one CSV feed file (RFC 4180) of a single record type.
///
/// - The first non-blank record is the header: contract field names, in any order. Unknown columns
///   are ignored; a `type` column, when present, must hold the file's type (or be empty). A header
///   that repeats a column, lacks a required column or names a C3 field (a password, PIN, CVV…)
///   makes the whole file unusable (`FeedFileError.badCSVHeader`): no row of it is read.
/// - A field is quoted (`"…"`, a quote inside written `""`, commas and line ends allowed inside) or
///   unquoted (no quote at all in it). Text after a closing quote, or a quote inside an unquoted
///   field, is a reject. Spaces are part of the field (not trimmed).
/// - An empty field, quoted or not, is absent. Booleans are `true`/`false`; money is the same text as
///   in NDJSON (a CSV field has no number type, so the "money must be a string" rule cannot arise).
/// - Every record must have as many fields as the header.
struct CSVFeedParser {
    let type: FeedRecordType
    let table = FeedFieldTable()
    /// The contract field of each header column, nil for an ignored column.
    private(set) var columns: [FeedField?] = []
    private(set) var hasHeader = false
    var slots = [FieldSlot](repeating: .absent, count: FeedField.count)
    var scratch: [UInt8] = []
    var ranges: [(start: Int, end: Int)] = []

    init(type: FeedRecordType) {
        self.type = type
        scratch.reserveCapacity(1024)
    }

    enum SplitFault: Error {
        case quoteInUnquotedField(Int)
        case textAfterClosingQuote(Int)
        case unclosedQuote(Int)

        var message: String {
            switch self {
            case .quoteInUnquotedField(let k):
                "CSV: a quote inside unquoted field \(k); quote the whole field and write an inner quote as \"\""
            case .textAfterClosingQuote(let k): "CSV: text after the closing quote of field \(k)"
            case .unclosedQuote(let k): "CSV: the quote of field \(k) is not closed"
            }
        }
    }

    /// Splits one record into `scratch` (field contents, unquoted) and `ranges`.
    mutating func split(_ p: UnsafeBufferPointer<UInt8>) -> SplitFault? {
        scratch.removeAll(keepingCapacity: true)
        ranges.removeAll(keepingCapacity: true)
        let n = p.count
        var i = 0
        var field = 1
        while true {
            let start = scratch.count
            if i < n && p[i] == 0x22 {
                i += 1
                var closed = false
                while i < n {
                    let c = p[i]
                    if c == 0x22 {
                        if i + 1 < n && p[i + 1] == 0x22 {
                            scratch.append(0x22)
                            i += 2
                            continue
                        }
                        i += 1
                        closed = true
                        break
                    }
                    scratch.append(c)
                    i += 1
                }
                guard closed else { return .unclosedQuote(field) }
                if i < n && p[i] != 0x2C { return .textAfterClosingQuote(field) }
            } else {
                let from = i
                while i < n && p[i] != 0x2C {
                    if p[i] == 0x22 { return .quoteInUnquotedField(field) }
                    i += 1
                }
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: p[from..<i]))
            }
            ranges.append((start, scratch.count))
            if i >= n { return nil }
            i += 1  // the comma
            field += 1
        }
    }

    /// Reads the header record.
    mutating func readHeader(_ record: UnsafeBufferPointer<UInt8>, lineNumber: Int) throws(FeedFileError) {
        func bad(_ message: String) -> FeedFileError {
            FeedFileError(code: .badCSVHeader, message: "\(type.rawValue) CSV header (line \(lineNumber)): \(message)")
        }
        if let fault = split(record) { throw bad(fault.message) }
        var seen = Set<String>()
        var columns: [FeedField?] = []
        var names: [String] = []
        let allowed = Set(type.feedFields.map(\.rawValue) + [FeedField.type.rawValue])
        for r in ranges {
            let name = String(decoding: scratch[r.start..<r.end], as: UTF8.self)
            if name.utf8.contains(0x0D) {
                throw bad("a carriage return inside the header: the file's lines end with a bare \\r (old Mac style); end them with \\n or \\r\\n")
            }
            names.append(name)
            if !name.isEmpty && !seen.insert(name).inserted { throw bad("column \(ReasonText.clip(name)) appears twice") }
            if AuthenticationDataField.isAuthenticationData(name) { throw bad(AuthenticationDataField.reason(name)) }
            let field = scratch.withUnsafeBufferPointer { s in table.field(s.baseAddress!, r.start, r.end) }
            columns.append(field.flatMap { allowed.contains($0.rawValue) ? $0 : nil })
        }
        let missing = type.feedFields.filter { type.isRequired($0) && !columns.contains($0) }.map(\.name)
        if !missing.isEmpty {
            // A column that is the missing one but for case or surrounding spaces is named: header names
            // are exact (lowercase, no spaces), and "missing" alone would hide what is wrong.
            func bare(_ name: String) -> String {
                let scalars = Array(name.unicodeScalars)
                guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
                      let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
                var kept = String.UnicodeScalarView()
                kept.append(contentsOf: scalars[first...last])
                return String(kept).lowercased()
            }
            let near = missing.compactMap { wanted in
                names.first { $0 != wanted && bare($0) == wanted }
                    .map { "the header has \"\($0)\" for \(wanted)" }
            }
            let hint = near.isEmpty ? "" : " (\(near.joined(separator: "; ")); column names are exact: lowercase, no spaces)"
            throw bad("required column\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) missing\(hint)")
        }
        self.columns = columns
        hasHeader = true
    }

    /// The identifier columns of the record just split, when its fields line up with the header.
    func identifiers() -> [String: String] {
        guard ranges.count == columns.count else { return [:] }
        var found: [String: String] = [:]
        for (index, column) in columns.enumerated() {
            guard let column, FeedReject.identifierFields.contains(column) else { continue }
            let r = ranges[index]
            if r.end > r.start { found[column.name] = String(decoding: scratch[r.start..<r.end], as: UTF8.self) }
        }
        return found
    }

    /// Parses one data record (its lines joined by `\n`).
    mutating func parse(_ record: UnsafeBufferPointer<UInt8>, lineNumber: Int) -> FeedItem {
        func reject(_ message: String, _ field: String? = nil, split: Bool = true) -> FeedItem {
            .reject(FeedReject(lineNumber: lineNumber, reason: "line \(lineNumber): \(message)", field: field,
                               recordType: type, rawText: rawText(record), identifiers: split ? identifiers() : [:]))
        }
        if let fault = split(record) { return reject(fault.message, split: false) }
        guard ranges.count == columns.count else {
            // A line of one invisible character (a no-break space, a BOM) reads as one field: name it.
            let text = String(decoding: record, as: UTF8.self)
            let invisible = text.unicodeScalars.first { ReasonText.isInvisible($0) || $0.properties.isWhitespace }
                .map { " (the line holds \(ReasonText.codePoint($0.value)))" } ?? ""
            return reject("CSV: \(ranges.count) field\(ranges.count == 1 ? "" : "s"), the header has \(columns.count)\(ranges.count == 1 ? invisible : "")")
        }
        for i in 0..<FeedField.count { slots[i] = .absent }
        for (index, column) in columns.enumerated() {
            guard let column else { continue }
            let r = ranges[index]
            if r.end > r.start { slots[column.rawValue] = FieldSlot(start: r.start, end: r.end, kind: .text) }
        }
        let typeSlot = slots[FeedField.type.rawValue]
        let ownType = Array(type.rawValue.utf8)
        if typeSlot.kind != .absent && !scratch[typeSlot.start..<typeSlot.end].elementsEqual(ownType) {
            let given = String(decoding: scratch[typeSlot.start..<typeSlot.end], as: UTF8.self)
            return reject("type \(ReasonText.clip(given)): this is a \(type.rawValue) CSV file", "type")
        }
        let scratchCopy = scratch
        let outcome: Result<FeedRecord, FieldFault> = scratchCopy.withUnsafeBufferPointer { s in
            slots.withUnsafeBufferPointer { slotPointer in
                // An empty scratch has no base address; no field then points into it.
                let empty: [UInt8] = [0]
                return empty.withUnsafeBufferPointer { e in
                    let reader = FieldReader(base: s.baseAddress ?? e.baseAddress!, slots: slotPointer.baseAddress!, mayHoldNUL: false)
                    return Result { () throws(FieldFault) in try RecordValidator.validate(type, reader) }
                }
            }
        }
        switch outcome {
        case .success(let record): return .record(record, lineNumber: lineNumber)
        case .failure(let fault): return reject(fault.message, fault.field.name)
        }
    }
}

/// Joins physical lines into CSV records (a quoted field may span lines) and feeds the parser.
///
/// Line numbers stay physical: a record is reported with the number of its first line, and the lines
/// it spans get no number of their own. A line end inside a quoted field is kept as it was sent, `\n`
/// or `\r\n` (RFC 4180: the same text as the NDJSON `"a\r\nb"`). A quote left open is given up, so that one
/// stray quote cannot swallow the rest of the file: at the end of the file, when the record would pass
/// the line length limit, or at an unreadable line. Then the record's first line is rejected
/// ("not closed") and the lines after it are read again as fresh records.
struct CSVFeedProcessor {
    var parser: CSVFeedParser
    let maxRecordLength: Int
    /// The lines of the record whose quote is open.
    private var pending: [PhysicalLine] = []
    private var pendingLength = 0
    private var queue: [PhysicalLine] = []

    struct PhysicalLine {
        var number: Int
        var bytes: [UInt8]
        var fault: FeedLineReader.Fault?
        var endsWithCR: Bool
    }

    init(type: FeedRecordType, maxRecordLength: Int) {
        parser = CSVFeedParser(type: type)
        self.maxRecordLength = maxRecordLength
    }

    /// Whether a quoted field is still open at the end of `b`, given whether one was open at its
    /// start. Only a quote at the start of a field opens one (a quote inside an unquoted field is a
    /// fault the record parser reports, not the start of a multi-line field).
    static func endsInsideQuotes(_ b: UnsafeBufferPointer<UInt8>, startingInside: Bool) -> Bool {
        var inside = startingInside
        var atFieldStart = !startingInside
        var i = 0
        let n = b.count
        while i < n {
            let c = b[i]
            if inside {
                if c == 0x22 {
                    if i + 1 < n && b[i + 1] == 0x22 {
                        i += 2
                        continue
                    }
                    inside = false
                }
            } else if c == 0x2C {
                atFieldStart = true
                i += 1
                continue
            } else if c == 0x22 && atFieldStart {
                inside = true
            }
            atFieldStart = false
            i += 1
        }
        return inside
    }

    mutating func line(_ line: FeedLineReader.Line, _ out: (FeedItem) throws -> Void) throws {
        if pending.isEmpty && queue.isEmpty {
            // The common case, without copying the line.
            if let fault = line.fault {
                try lineFault(line.number, line.bytes, fault, out)
                return
            }
            if line.isBlank { return }
            if !CSVFeedProcessor.endsInsideQuotes(line.bytes, startingInside: false) {
                try record(line.bytes, line.number, out)
                return
            }
        }
        queue.append(PhysicalLine(number: line.number, bytes: Array(line.bytes), fault: line.fault, endsWithCR: line.endsWithCR))
        try drain(out)
    }

    /// The end of the input: a record still open is given up.
    mutating func finish(_ out: (FeedItem) throws -> Void) throws {
        while !pending.isEmpty {
            try giveUp("by the end of the file", out)
            try drain(out)
        }
    }

    private mutating func drain(_ out: (FeedItem) throws -> Void) throws {
        while !queue.isEmpty {
            let next = queue.removeFirst()
            try step(next, out)
        }
    }

    private mutating func step(_ line: PhysicalLine, _ out: (FeedItem) throws -> Void) throws {
        if let fault = line.fault {
            if !pending.isEmpty {
                queue.insert(line, at: 0)
                try giveUp("before line \(line.number), which cannot be read", out)
                return
            }
            try line.bytes.withUnsafeBufferPointer { try lineFault(line.number, $0, fault, out) }
            return
        }
        let open = line.bytes.withUnsafeBufferPointer {
            CSVFeedProcessor.endsInsideQuotes($0, startingInside: !pending.isEmpty)
        }
        if pending.isEmpty {
            if line.bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
            if !open {
                try line.bytes.withUnsafeBufferPointer { try record($0, line.number, out) }
            } else {
                pending = [line]
                pendingLength = line.bytes.count
            }
            return
        }
        pendingLength += (pending.last!.endsWithCR ? 2 : 1) + line.bytes.count
        pending.append(line)
        if pendingLength > maxRecordLength {
            try giveUp("within \(maxRecordLength) bytes", out)
            return
        }
        if !open {
            var joined: [UInt8] = []
            joined.reserveCapacity(pendingLength)
            for (k, l) in pending.enumerated() {
                if k > 0 {
                    if pending[k - 1].endsWithCR { joined.append(0x0D) }
                    joined.append(0x0A)
                }
                joined.append(contentsOf: l.bytes)
            }
            let first = pending[0].number
            pending = []
            pendingLength = 0
            try joined.withUnsafeBufferPointer { try record($0, first, out) }
        }
    }

    /// Rejects the first line of the open record and queues the others to be read again.
    private mutating func giveUp(_ when: String, _ out: (FeedItem) throws -> Void) throws {
        let first = pending[0]
        queue.insert(contentsOf: pending.dropFirst(), at: 0)
        pending = []
        pendingLength = 0
        let message = "CSV: a quoted field opened on this line is not closed \(when)"
        if !parser.hasHeader {
            throw FeedFileError(code: .badCSVHeader,
                                message: "\(parser.type.rawValue) CSV header (line \(first.number)): \(message)")
        }
        try out(.reject(FeedReject(lineNumber: first.number, reason: "line \(first.number): \(message)",
                                   recordType: parser.type, rawText: first.bytes.withUnsafeBufferPointer { rawText($0) })))
    }

    private mutating func lineFault(_ number: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ fault: FeedLineReader.Fault,
                                    _ out: (FeedItem) throws -> Void) throws {
        if !parser.hasHeader {
            throw FeedFileError(code: .badCSVHeader,
                                message: "\(parser.type.rawValue) CSV header (line \(number)): \(fault.reason)")
        }
        try out(.reject(lineFaultReject(number, bytes, fault, type: parser.type)))
    }

    private mutating func record(_ bytes: UnsafeBufferPointer<UInt8>, _ number: Int, _ out: (FeedItem) throws -> Void) throws {
        if !parser.hasHeader {
            try parser.readHeader(bytes, lineNumber: number)
            return
        }
        try out(parser.parse(bytes, lineNumber: number))
    }
}

/// The reject of a line the reader flagged (too long, NUL, invalid UTF-8).
func lineFaultReject(_ number: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ fault: FeedLineReader.Fault,
                     type: FeedRecordType?) -> FeedReject {
    var text = rawText(bytes)
    if case .tooLong = fault { text += "…" }
    return FeedReject(lineNumber: number, reason: "line \(number): \(fault.reason)", recordType: type, rawText: text)
}
