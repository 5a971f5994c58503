import CLibPQ

/// An error from PostgreSQL, libpq or row decoding.
///
/// `description` is safe to log: it carries the SQLSTATE, the server's message and the statement's
/// name, never row values or parameters. `debugDescription` adds the server's detail and hint,
/// which may quote values (a unique violation's key) and so may hold personal data.
public struct PostgresError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// The server answered with an error (see `sqlState`).
        case server
        /// Connecting failed, or the connection broke while in use.
        case connection
        /// A statement was used wrongly (e.g. a COPY that did not enter copy mode).
        case protocolViolation
        /// The connection was closed by us and then used.
        case closed
    }

    public var code: Code
    public var sqlState: String?
    public var severity: String?
    public var message: String
    public var detail: String?
    public var hint: String?
    /// The statement's name (`JobSQL.claimAvailable`), so an operator knows which query failed.
    public var statement: String?

    public init(code: Code, message: String, sqlState: String? = nil, severity: String? = nil,
                detail: String? = nil, hint: String? = nil, statement: String? = nil) {
        self.code = code; self.message = message; self.sqlState = sqlState; self.severity = severity
        self.detail = detail; self.hint = hint; self.statement = statement
    }

    /// 23505: a unique constraint refused the row.
    public var isUniqueViolation: Bool { sqlState == "23505" }
    /// 40001: serialization failure; the transaction may be retried.
    public var isSerializationFailure: Bool { sqlState == "40001" }
    /// 40P01: deadlock detected.
    public var isDeadlock: Bool { sqlState == "40P01" }
    /// 42601: the SQL text does not parse.
    public var isSyntaxError: Bool { sqlState == "42601" }
    /// 57014: statement_timeout or a cancel.
    public var isQueryCanceled: Bool { sqlState == "57014" }
    /// 55P03: lock_timeout or NOWAIT.
    public var isLockNotAvailable: Bool { sqlState == "55P03" }
    /// The connection is gone (class 08, admin shutdown 57P01–57P03, or libpq's own report).
    public var isConnectionFailure: Bool {
        code == .connection || (sqlState.map { $0.hasPrefix("08") || $0.hasPrefix("57P0") } ?? false)
    }

    public var description: String {
        var text = "PostgreSQL"
        if let severity { text += " \(severity)" }
        if let sqlState { text += " \(sqlState)" }
        if let statement { text += " in \(statement)" }
        return text + ": " + message
    }

    public var debugDescription: String {
        var text = description
        if let detail { text += "; detail: \(detail)" }
        if let hint { text += "; hint: \(hint)" }
        return text
    }

    /// Reads the fields of an error result.
    init(result: OpaquePointer, statement: String?) {
        func field(_ code: Int32) -> String? {
            guard let value = PQresultErrorField(result, code) else { return nil }
            return String(cString: value)
        }
        let message = field(Int32(UInt8(ascii: "M"))) ?? String(cString: PQresultErrorMessage(result))
        let sqlState = field(Int32(UInt8(ascii: "C")))
        let isConnection = sqlState.map { $0.hasPrefix("08") } ?? false
        self.init(
            code: isConnection ? .connection : .server,
            message: message.trimmingTrailingNewlines(),
            sqlState: sqlState,
            severity: field(Int32(UInt8(ascii: "V"))) ?? field(Int32(UInt8(ascii: "S"))),
            detail: field(Int32(UInt8(ascii: "D"))),
            hint: field(Int32(UInt8(ascii: "H"))),
            statement: statement)
    }
}

/// A row value could not be turned into the Swift type asked for.
///
/// Names the column, the Swift type and the PostgreSQL type; never the value (it may be personal data).
public struct PostgresDecodingError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case unexpectedNull, typeMismatch, missingColumn
    }

    public var code: Code
    public var column: String
    public var swiftType: String
    public var postgresType: String
    public var statement: String?

    public var description: String {
        let place = statement.map { " in \($0)" } ?? ""
        switch code {
        case .unexpectedNull:
            return "column \"\(column)\"\(place) is NULL but \(swiftType) is not optional"
        case .typeMismatch:
            return "column \"\(column)\"\(place) of type \(postgresType) cannot be read as \(swiftType)"
        case .missingColumn:
            return "no column \"\(column)\"\(place) (reading \(swiftType))"
        }
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var text = self
        while let last = text.last, last == "\n" || last == "\r" || last == " " { text.removeLast() }
        return text
    }
}
