import FeedContract
import Foundation
import TierGuardModel

/// The files of one generated feed, written through large buffers (4 MiB) so memory stays flat and
/// a line costs a few appends.
///
/// NDJSON: one file, record types mixed. CSV: one file per record type (`customers.csv`,
/// `accounts.csv`, `balances.csv`, `transactions.csv`, `relationship_managers.csv`), each starting with
/// a header row of every contract field in contract order. Lines are counted per file, from 1, so a
/// line number can be written into `scenarios.json` as soon as the line is emitted.
///
/// Serialisation rules: NDJSON members in contract field order, `type` first, absent optional fields
/// left out; strings escaped per RFC 8259 (`"`, `\`, control characters); money always a string with
/// two decimals. CSV fields quoted only when they hold a comma, quote or line end.
final class FeedOutput {
    struct File {
        var name: String
        var handle: FileHandle
        var buffer: [UInt8] = []
        var lines = 0
    }

    let format: SampleFeedFormat
    private(set) var files: [File] = []
    static let flushThreshold = 4 << 20

    init(directory: String, format: SampleFeedFormat) throws {
        self.format = format
        let names: [String]
        switch format {
        case .ndjson: names = ["feed.ndjson"]
        case .csv: names = FeedRecordType.allCases.map { FeedOutput.csvName($0) }
        }
        for name in names {
            let path = directory + "/" + name
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw SampleFeedError("cannot create \(path)")
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            var file = File(name: name, handle: handle)
            file.buffer.reserveCapacity(FeedOutput.flushThreshold + 65_536)
            files.append(file)
        }
        if case .csv = format {
            for type in FeedRecordType.allCases {
                let i = slot(type)
                files[i].buffer.append(contentsOf: type.fields.joined(separator: ",").utf8)
                files[i].buffer.append(0x0A)
                files[i].lines = 1
            }
        }
    }

    static func csvName(_ type: FeedRecordType) -> String {
        switch type {
        case .customer: "customers.csv"
        case .account: "accounts.csv"
        case .balance: "balances.csv"
        case .transaction: "transactions.csv"
        case .relationshipManager: "relationship_managers.csv"
        }
    }

    @inline(__always)
    func slot(_ type: FeedRecordType) -> Int {
        guard case .csv = format else { return 0 }
        switch type {
        case .customer: return 0
        case .account: return 1
        case .balance: return 2
        case .transaction: return 3
        case .relationshipManager: return 4
        }
    }

    var isCSV: Bool { if case .csv = format { true } else { false } }

    /// Ends the current line of file `i`; returns its line number.
    @inline(__always)
    private func endLine(_ i: Int) throws -> Int {
        files[i].buffer.append(0x0A)
        files[i].lines += 1
        if files[i].buffer.count >= FeedOutput.flushThreshold { try flush(i) }
        return files[i].lines
    }

    private func flush(_ i: Int) throws {
        guard !files[i].buffer.isEmpty else { return }
        try files[i].handle.write(contentsOf: files[i].buffer)
        files[i].buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        for i in files.indices {
            try flush(i)
            try files[i].handle.close()
        }
    }

    // MARK: Generic records

    /// A field value as the writer sees it.
    enum Value {
        case text(String)
        case money(Fen)
        case bool(Bool)
        case absent
    }

    /// Writes a record given as (field, value) in contract order; returns (file, line).
    @discardableResult
    func emit(_ type: FeedRecordType, _ fields: [(String, Value)]) throws -> (file: String, line: Int) {
        let i = slot(type)
        FeedOutput.encode(csv: isCSV, type, fields, into: &files[i].buffer)
        return (files[i].name, try endLine(i))
    }

    /// One record as a line without its end: NDJSON members in the given order, or a CSV row in
    /// header (contract) order.
    static func encode(csv: Bool, _ type: FeedRecordType, _ fields: [(String, Value)], into buffer: inout [UInt8]) {
        if csv {
            var first = true
            for name in type.fields {
                if !first { buffer.append(0x2C) }
                first = false
                guard let value = fields.first(where: { $0.0 == name })?.1 else { continue }
                switch value {
                case .text(let s): appendCSV(&buffer, s)
                case .money(let m): appendMoney(&buffer, m.value)
                case .bool(let b): buffer.append(contentsOf: (b ? "true" : "false").utf8)
                case .absent: break
                }
            }
            return
        }
        buffer.append(contentsOf: "{\"type\":\"".utf8)
        buffer.append(contentsOf: type.rawValue.utf8)
        buffer.append(0x22)
        for (name, value) in fields {
            if case .absent = value { continue }
            buffer.append(contentsOf: ",\"".utf8)
            buffer.append(contentsOf: name.utf8)
            buffer.append(contentsOf: "\":".utf8)
            switch value {
            case .text(let s): appendJSONString(&buffer, s)
            case .money(let m):
                buffer.append(0x22)
                appendMoney(&buffer, m.value)
                buffer.append(0x22)
            case .bool(let b): buffer.append(contentsOf: (b ? "true" : "false").utf8)
            case .absent: break
            }
        }
        buffer.append(0x7D)
    }

    /// Writes bytes as one line of the file for `type` (an invalid line); returns (file, line).
    @discardableResult
    func emitRaw(_ type: FeedRecordType, _ bytes: [UInt8]) throws -> (file: String, line: Int) {
        let i = slot(type)
        files[i].buffer.append(contentsOf: bytes)
        return (files[i].name, try endLine(i))
    }

    // MARK: Hot path: balances

    /// `{"type":"balance","account_id":"…","as_of":"…","balance":"…"}` or `id,date,amount`.
    @inline(__always)
    func emitBalance(accountId: [UInt8], date: [UInt8], fen: Int64) throws {
        let i = slot(.balance)
        if isCSV {
            files[i].buffer.append(contentsOf: accountId)
            files[i].buffer.append(0x2C)
            files[i].buffer.append(contentsOf: date)
            files[i].buffer.append(0x2C)
            FeedOutput.appendMoney(&files[i].buffer, fen)
        } else {
            files[i].buffer.append(contentsOf: FeedOutput.balancePrefix)
            files[i].buffer.append(contentsOf: accountId)
            files[i].buffer.append(contentsOf: FeedOutput.asOfKey)
            files[i].buffer.append(contentsOf: date)
            files[i].buffer.append(contentsOf: FeedOutput.balanceKey)
            FeedOutput.appendMoney(&files[i].buffer, fen)
            files[i].buffer.append(contentsOf: FeedOutput.closeString)
        }
        _ = try endLine(i)
    }

    static let balancePrefix = Array("{\"type\":\"balance\",\"account_id\":\"".utf8)
    static let asOfKey = Array("\",\"as_of\":\"".utf8)
    static let balanceKey = Array("\",\"balance\":\"".utf8)
    static let closeString = Array("\"}".utf8)

    // MARK: Encoding helpers

    /// Fen as yuan with exactly two decimals: `-1234.05`.
    @inline(__always)
    static func appendMoney(_ buffer: inout [UInt8], _ fen: Int64) {
        var magnitude = fen.magnitude
        if fen < 0 { buffer.append(0x2D) }
        let cents = magnitude % 100
        magnitude /= 100
        appendDecimal(&buffer, magnitude)
        buffer.append(0x2E)
        buffer.append(UInt8(48 + cents / 10))
        buffer.append(UInt8(48 + cents % 10))
    }

    @inline(__always)
    static func appendDecimal(_ buffer: inout [UInt8], _ value: UInt64) {
        if value < 10 { buffer.append(UInt8(48 + value)); return }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = value
        var count = 0
        withUnsafeMutableBytes(of: &digits) { p in
            while n > 0 {
                p[19 - count] = UInt8(48 + n % 10)
                n /= 10
                count += 1
            }
            buffer.append(contentsOf: p[(20 - count)...])
        }
    }

    /// A JSON string with quotes, escaping `"`, `\` and control characters.
    static func appendJSONString(_ buffer: inout [UInt8], _ text: String) {
        buffer.append(0x22)
        for byte in text.utf8 {
            switch byte {
            case 0x22: buffer.append(contentsOf: [0x5C, 0x22])
            case 0x5C: buffer.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: buffer.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: buffer.append(contentsOf: [0x5C, 0x72])
            case 0x09: buffer.append(contentsOf: [0x5C, 0x74])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                buffer.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: buffer.append(byte)
            }
        }
        buffer.append(0x22)
    }

    /// A CSV field, quoted (RFC 4180) only when it holds a comma, quote or line end.
    static func appendCSV(_ buffer: inout [UInt8], _ text: String) {
        let needsQuotes = text.utf8.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else { buffer.append(contentsOf: text.utf8); return }
        buffer.append(0x22)
        for byte in text.utf8 {
            if byte == 0x22 { buffer.append(0x22) }
            buffer.append(byte)
        }
        buffer.append(0x22)
    }
}

/// A generation failure: what and where (no personal data).
public struct SampleFeedError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
