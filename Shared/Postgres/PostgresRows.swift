import CLibPQ
import Foundation

/// The rows of one statement's result, read in place from libpq's buffer (text format).
///
/// Decode inside the closure that ran the statement; the result is freed when this goes away.
public final class PostgresRows: Sequence {
    let result: OpaquePointer
    public let statement: String?
    public let count: Int
    public let columnCount: Int
    private lazy var columnIndex: [String: Int] = {
        var index: [String: Int] = [:]
        for i in 0..<columnCount where index[columnName(i)] == nil { index[columnName(i)] = i }
        return index
    }()

    init(result: OpaquePointer, statement: String?) {
        self.result = result
        self.statement = statement
        self.count = Int(PQntuples(result))
        self.columnCount = Int(PQnfields(result))
    }

    deinit { PQclear(result) }

    public func columnName(_ index: Int) -> String { String(cString: PQfname(result, Int32(index))) }
    public func column(named name: String) -> Int? { columnIndex[name] }
    /// The number of rows a command touched (`UPDATE`, `DELETE`, `INSERT`), 0 when it does not say.
    public var affectedRows: Int { Int(String(cString: PQcmdTuples(result))) ?? 0 }

    public subscript(row: Int) -> PostgresRow { PostgresRow(rows: self, index: row) }

    public func makeIterator() -> AnyIterator<PostgresRow> {
        var i = 0
        return AnyIterator { [self] in
            guard i < count else { return nil }
            defer { i += 1 }
            return PostgresRow(rows: self, index: i)
        }
    }
}

/// One row of a result; decode columns by position or by name.
public struct PostgresRow {
    let rows: PostgresRows
    public let index: Int

    /// Inlinable, so a caller's module specializes it for each type it decodes: the scorer decodes
    /// millions of cells a run, and the unspecialized generic call (a witness table and a metadata
    /// lookup per cell) was ~6 % of its CPU. The non-generic parts stay behind `cell(at:)` and the
    /// two error builders.
    @inlinable
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, at column: Int) throws -> T {
        guard let cell = try cell(at: column, swiftType: T.self) else {
            guard let value = T.postgresNull else { throw unexpectedNull(at: column, swiftType: T.self) }
            return value
        }
        guard let value = T(postgresCell: cell) else { throw typeMismatch(at: column, cell: cell, swiftType: T.self) }
        return value
    }

    /// The cell at `column`, nil when it is NULL.
    ///
    /// - Throws: `PostgresDecodingError` `.missingColumn` when the result has no such column.
    public func cell(at column: Int, swiftType: Any.Type) throws -> PostgresCell? {
        let result = rows.result
        let row = Int32(index), col = Int32(column)
        guard column >= 0, column < rows.columnCount else {
            throw PostgresDecodingError(code: .missingColumn, column: "#\(column)", swiftType: "\(swiftType)",
                                        postgresType: "-", statement: rows.statement)
        }
        if PQgetisnull(result, row, col) == 1 { return nil }
        let length = Int(PQgetlength(result, row, col))
        let pointer = UnsafeRawPointer(PQgetvalue(result, row, col)!).assumingMemoryBound(to: UInt8.self)
        return PostgresCell(bytes: UnsafeBufferPointer(start: pointer, count: length), oid: PQftype(result, col))
    }

    /// The error for a NULL in a column decoded as a non-optional type.
    public func unexpectedNull(at column: Int, swiftType: Any.Type) -> PostgresDecodingError {
        PostgresDecodingError(code: .unexpectedNull, column: rows.columnName(column), swiftType: "\(swiftType)",
                              postgresType: PostgresType.name(PQftype(rows.result, Int32(column))), statement: rows.statement)
    }

    /// The error for a cell whose text is not a value of the type asked for.
    public func typeMismatch(at column: Int, cell: PostgresCell, swiftType: Any.Type) -> PostgresDecodingError {
        PostgresDecodingError(code: .typeMismatch, column: rows.columnName(column), swiftType: "\(swiftType)",
                              postgresType: PostgresType.name(cell.oid), statement: rows.statement)
    }

    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, column name: String) throws -> T {
        guard let column = rows.column(named: name) else {
            throw PostgresDecodingError(code: .missingColumn, column: name, swiftType: "\(T.self)",
                                        postgresType: "-", statement: rows.statement)
        }
        return try decode(type, at: column)
    }

    public func isNull(at column: Int) -> Bool { PQgetisnull(rows.result, Int32(index), Int32(column)) == 1 }
}

/// A value as libpq holds it: text-format bytes and the column's type oid.
public struct PostgresCell {
    public let bytes: UnsafeBufferPointer<UInt8>
    public let oid: UInt32
    public var string: String { String(decoding: bytes, as: UTF8.self) }
}

/// A Swift type that can be read from a result column.
public protocol PostgresDecodable {
    /// Nil when the text is not a value of this type.
    init?(postgresCell: PostgresCell)
    /// What NULL decodes to; nil means NULL is an error (non-optional types).
    static var postgresNull: Self? { get }
}

extension PostgresDecodable {
    public static var postgresNull: Self? { nil }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init?(postgresCell: PostgresCell) {
        guard let value = Wrapped(postgresCell: postgresCell) else { return nil }
        self = .some(value)
    }
    public static var postgresNull: Self? { .some(.none) }
}

enum PostgresType {
    static let bool: UInt32 = 16, bytea: UInt32 = 17, int8: UInt32 = 20, int2: UInt32 = 21, int4: UInt32 = 23
    static let text: UInt32 = 25, oid: UInt32 = 26, json: UInt32 = 114, float4: UInt32 = 700, float8: UInt32 = 701
    static let varchar: UInt32 = 1043, bpchar: UInt32 = 1042, date: UInt32 = 1082, timestamp: UInt32 = 1114
    static let timestamptz: UInt32 = 1184, numeric: UInt32 = 1700, jsonb: UInt32 = 3802, name: UInt32 = 19
    static let int8Array: UInt32 = 1016, int4Array: UInt32 = 1007, textArray: UInt32 = 1009, varcharArray: UInt32 = 1015
    static let uuid: UInt32 = 2950, interval: UInt32 = 1186, unknown: UInt32 = 705, char: UInt32 = 18

    static func name(_ oid: UInt32) -> String {
        switch oid {
        case bool: "boolean"; case bytea: "bytea"; case int8: "bigint"; case int2: "smallint"; case int4: "integer"
        case text: "text"; case json: "json"; case float4: "real"; case float8: "double precision"
        case varchar: "character varying"; case bpchar: "character"; case date: "date"; case timestamp: "timestamp"
        case timestamptz: "timestamptz"; case numeric: "numeric"; case jsonb: "jsonb"; case int8Array: "bigint[]"
        case int4Array: "integer[]"; case textArray: "text[]"; case varcharArray: "varchar[]"; case uuid: "uuid"
        case name: "name"; case interval: "interval"; case oid: "oid"
        default: "oid \(oid)"
        }
    }

    static let integers: Set<UInt32> = [int2, int4, int8, oid]
    static let texts: Set<UInt32> = [text, varchar, bpchar, name, unknown, json, jsonb, uuid, char]
}

@inline(__always)
func parseInteger(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
    var i = 0
    var negative = false
    if bytes.count > 0, bytes[0] == 45 { negative = true; i = 1 }
    guard i < bytes.count else { return nil }
    var value: Int64 = 0
    while i < bytes.count {
        let b = bytes[i]
        guard b >= 48, b <= 57 else { return nil }
        let (m, o1) = value.multipliedReportingOverflow(by: 10)
        let (s, o2) = negative ? m.subtractingReportingOverflow(Int64(b - 48)) : m.addingReportingOverflow(Int64(b - 48))
        guard !o1, !o2 else { return nil }
        value = s
        i += 1
    }
    return value
}

extension Int64: PostgresDecodable {
    public init?(postgresCell cell: PostgresCell) {
        guard PostgresType.integers.contains(cell.oid), let value = parseInteger(cell.bytes) else { return nil }
        self = value
    }
}

extension Int: PostgresDecodable {
    public init?(postgresCell cell: PostgresCell) {
        guard let value = Int64(postgresCell: cell) else { return nil }
        self = Int(value)
    }
}

extension Int32: PostgresDecodable {
    public init?(postgresCell cell: PostgresCell) {
        guard let value = Int64(postgresCell: cell), let narrow = Int32(exactly: value) else { return nil }
        self = narrow
    }
}

extension Bool: PostgresDecodable {
    public init?(postgresCell cell: PostgresCell) {
        guard cell.oid == PostgresType.bool, cell.bytes.count == 1 else { return nil }
        switch cell.bytes[0] {
        case UInt8(ascii: "t"): self = true
        case UInt8(ascii: "f"): self = false
        default: return nil
        }
    }
}

extension String: PostgresDecodable {
    /// Text-like columns only; a number or date is not silently read as text.
    public init?(postgresCell cell: PostgresCell) {
        guard PostgresType.texts.contains(cell.oid) else { return nil }
        self = cell.string
    }
}

extension Double: PostgresDecodable {
    public init?(postgresCell cell: PostgresCell) {
        guard [PostgresType.float4, PostgresType.float8, PostgresType.numeric, PostgresType.int2, PostgresType.int4,
               PostgresType.int8].contains(cell.oid), let value = Double(cell.string) else { return nil }
        self = value
    }
}

extension Date: PostgresDecodable {
    public init?(postgresCell cell: PostgresCell) {
        guard cell.oid == PostgresType.timestamptz, let value = PostgresTimestamp.parse(cell.bytes) else { return nil }
        self = value
    }
}

extension PostgresDate: PostgresDecodable {
    public init?(postgresCell cell: PostgresCell) {
        let b = cell.bytes
        guard cell.oid == PostgresType.date, b.count == 10, b[4] == 45, b[7] == 45,
              let y = parseInteger(UnsafeBufferPointer(rebasing: b[0..<4])),
              let m = parseInteger(UnsafeBufferPointer(rebasing: b[5..<7])),
              let d = parseInteger(UnsafeBufferPointer(rebasing: b[8..<10])) else { return nil }
        self.init(year: Int(y), month: Int(m), day: Int(d))
    }
}

extension Data: PostgresDecodable {
    /// bytea in hex output format (`\x0a1b…`), the server default since 9.0.
    public init?(postgresCell cell: PostgresCell) {
        let b = cell.bytes
        guard cell.oid == PostgresType.bytea, b.count >= 2, b[0] == 92, b[1] == 120, b.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var data = Data(count: (b.count - 2) / 2)
        let ok = data.withUnsafeMutableBytes { (out: UnsafeMutableRawBufferPointer) -> Bool in
            var j = 0
            var i = 2
            while i < b.count {
                guard let hi = nibble(b[i]), let lo = nibble(b[i + 1]) else { return false }
                out[j] = hi << 4 | lo
                j += 1
                i += 2
            }
            return true
        }
        guard ok else { return nil }
        self = data
    }
}

extension PostgresJSON: PostgresDecodable {
    public init?(postgresCell cell: PostgresCell) {
        guard cell.oid == PostgresType.jsonb || cell.oid == PostgresType.json,
              let value = try? JSONDecoder().decode(Value.self, from: Data(cell.bytes)) else { return nil }
        self.init(value)
    }
}

/// Splits a one-dimensional array literal (`{1,2}`, `{"a b",NULL}`) into elements; nil elements are NULL.
func parseArrayLiteral(_ text: String) -> [String?]? {
    var chars = Substring(text)
    guard chars.first == "{", chars.last == "}" else { return nil }
    chars = chars.dropFirst().dropLast()
    if chars.isEmpty { return [] }
    var elements: [String?] = []
    var current = ""
    var quoted = false
    var wasQuoted = false
    var escape = false
    for c in chars {
        if escape { current.append(c); escape = false; continue }
        if quoted {
            if c == "\\" { escape = true } else if c == "\"" { quoted = false } else { current.append(c) }
            continue
        }
        switch c {
        case "\"": quoted = true; wasQuoted = true
        case ",":
            elements.append(!wasQuoted && current == "NULL" ? nil : current)
            current = ""; wasQuoted = false
        case "{", "}": return nil
        default: current.append(c)
        }
    }
    elements.append(!wasQuoted && current == "NULL" ? nil : current)
    return elements
}

extension Array: PostgresDecodable where Element: PostgresArrayDecodable {
    public init?(postgresCell cell: PostgresCell) {
        guard Element.arrayOids.contains(cell.oid), let parts = parseArrayLiteral(cell.string) else { return nil }
        var values: [Element] = []
        values.reserveCapacity(parts.count)
        for part in parts {
            guard let part, let value = Element(arrayElementText: part) else { return nil }
            values.append(value)
        }
        self = values
    }
}

/// Element types of decodable arrays (`bigint[]`, `text[]`); NULL elements are refused.
public protocol PostgresArrayDecodable {
    static var arrayOids: Set<UInt32> { get }
    init?(arrayElementText: String)
}

extension Int64: PostgresArrayDecodable {
    public static var arrayOids: Set<UInt32> { [PostgresType.int8Array, PostgresType.int4Array] }
    public init?(arrayElementText text: String) { guard let v = Int64(text) else { return nil }; self = v }
}

extension String: PostgresArrayDecodable {
    public static var arrayOids: Set<UInt32> { [PostgresType.textArray, PostgresType.varcharArray] }
    public init?(arrayElementText text: String) { self = text }
}
