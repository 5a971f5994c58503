import CLibPQ
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The synchronous libpq API of one connection.
///
/// A session is used only on its `PostgresConnection`'s own thread (inside `withSession`), or by a
/// thread that created it and owns it outright: a `PGconn` is never touched by two threads at once,
/// and none of these blocking calls ever runs on Swift's cooperative pool.
public final class PostgresSession {
    public let configuration: PostgresConfiguration
    private var conn: OpaquePointer?
    private var preparedStatements: Set<String> = []
    private var listeningChannels: Set<String> = []
    private var transactionDepth = 0
    /// How many times this session had to connect again after the server went away.
    public private(set) var reconnectCount = 0
    /// Called after each successful reconnect (e.g. to count `tierguard_db_reconnects_total`).
    public var onReconnect: (() -> Void)?

    /// Connects at once; throws a `.connection` error that names the host and port when it cannot.
    public init(configuration: PostgresConfiguration) throws {
        self.configuration = configuration
        self.conn = try Self.connect(configuration)
    }

    deinit { if let conn { PQfinish(conn) } }

    static func connect(_ configuration: PostgresConfiguration) throws -> OpaquePointer {
        let pairs = configuration.keywordsAndValues
        let keywords = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer { (keywords + values).forEach { free($0) } }
        var keywordPointers: [UnsafePointer<CChar>?] = keywords.map { UnsafePointer($0) } + [nil]
        var valuePointers: [UnsafePointer<CChar>?] = values.map { UnsafePointer($0) } + [nil]
        let conn = PQconnectdbParams(&keywordPointers, &valuePointers, 1)
        guard let conn else {
            throw PostgresError(code: .connection, message: "libpq could not allocate a connection")
        }
        // Server notices (a FATAL before a shutdown, WARNINGs) would otherwise go to stderr
        // unstructured; errors reach callers as PostgresError instead.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(conn)).trimmingTrailingNewlines()
            PQfinish(conn)
            throw PostgresError(code: .connection,
                                message: "cannot connect to PostgreSQL (\(configuration.redactedTarget)): \(message)")
        }
        return conn
    }

    /// The server process serving this session (`pg_stat_activity.pid`).
    public var backendPID: Int32 { conn.map { PQbackendPID($0) } ?? 0 }
    public var isInTransaction: Bool { transactionDepth > 0 }

    // MARK: Statements

    /// Runs a statement and returns its rows.
    @discardableResult
    public func query(_ query: PostgresQuery) throws -> PostgresRows {
        let conn = try liveConnection()
        let result: OpaquePointer?
        if let name = query.name {
            if !preparedStatements.contains(name) {
                let prepared = PQprepare(conn, name, query.sql, 0, nil)
                try check(prepared, statement: name, conn: conn).map { PQclear($0) }
                preparedStatements.insert(name)
            }
            result = withBindPointers(query.binds) { values, lengths, formats in
                PQexecPrepared(conn, name, Int32(query.binds.count), values, lengths, formats, 0)
            }
        } else {
            result = withBindPointers(query.binds) { values, lengths, formats in
                PQexecParams(conn, query.sql, Int32(query.binds.count), nil, values, lengths, formats, 0)
            }
        }
        guard let ok = try check(result, statement: query.name, conn: conn) else {
            throw PostgresError(code: .protocolViolation, message: "no result", statement: query.name)
        }
        return PostgresRows(result: ok, statement: query.name)
    }

    /// Runs a statement and returns the number of rows it touched.
    @discardableResult
    public func execute(_ query: PostgresQuery) throws -> Int {
        try self.query(query).affectedRows
    }

    /// Runs several statements without parameters (a migration file). Simple query protocol.
    public func executeScript(unsafeSQL sql: String, name: String? = nil) throws {
        let conn = try liveConnection()
        var failure: PostgresError?
        guard PQsendQuery(conn, sql) == 1 else { throw connectionError(conn, statement: name) }
        while let result = PQgetResult(conn) {
            let status = PQresultStatus(result)
            if status == PGRES_FATAL_ERROR, failure == nil { failure = PostgresError(result: result, statement: name) }
            PQclear(result)
        }
        if let failure { throw failure }
        if PQstatus(conn) != CONNECTION_OK { throw connectionError(conn, statement: name) }
    }

    // MARK: Transactions

    /// Isolation levels a top-level transaction can ask for (PostgreSQL's default is read committed).
    public enum IsolationLevel: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws.
    /// Nested calls become savepoints, so an inner failure can be caught without losing the outer work.
    /// `isolation` sets the level of a top-level transaction; a nested call runs at its outer
    /// transaction's level, whatever it asks (PostgreSQL fixes the level at the first statement).
    /// `serializationRetries`: a top-level transaction that fails with a serialization failure
    /// (40001, possible at repeatable read and serializable) is rolled back and `body` run again, up
    /// to that many times; so `body` must be safe to run again (its writes were rolled back).
    public func withTransaction<T>(isolation: IsolationLevel? = nil, serializationRetries: Int = 0,
                                   _ body: (PostgresSession) throws -> T) throws -> T {
        var retries = transactionDepth == 0 ? serializationRetries : 0
        while true {
            do {
                return try runTransaction(isolation: isolation, body)
            } catch let error as PostgresError where error.sqlState == "40001" && retries > 0 {
                retries -= 1
            }
        }
    }

    private func runTransaction<T>(isolation: IsolationLevel?, _ body: (PostgresSession) throws -> T) throws -> T {
        let depth = transactionDepth
        let savepoint = "tg_sp_\(depth)"
        if depth == 0 {
            try execute(isolation.map { PostgresQuery(unsafeSQL: "BEGIN ISOLATION LEVEL " + $0.rawValue) } ?? PostgresQuery("BEGIN"))
        } else {
            try execute(PostgresQuery(unsafeSQL: "SAVEPOINT \(savepoint)"))
        }
        transactionDepth += 1
        do {
            let value = try body(self)
            transactionDepth = depth
            try execute(depth == 0 ? PostgresQuery("COMMIT") : PostgresQuery(unsafeSQL: "RELEASE SAVEPOINT \(savepoint)"))
            return value
        } catch {
            transactionDepth = depth
            if let conn, PQstatus(conn) == CONNECTION_OK {
                _ = try? execute(depth == 0 ? PostgresQuery("ROLLBACK")
                                 : PostgresQuery(unsafeSQL: "ROLLBACK TO SAVEPOINT \(savepoint)"))
            }
            throw error
        }
    }

    // MARK: LISTEN / NOTIFY

    /// Subscribes to a channel; the subscription is renewed after a reconnect.
    public func listen(_ channel: String) throws {
        try execute(PostgresQuery(unsafeSQL: "LISTEN " + quoteIdentifier(channel)))
        listeningChannels.insert(channel)
    }

    public func unlisten(_ channel: String) throws {
        try execute(PostgresQuery(unsafeSQL: "UNLISTEN " + quoteIdentifier(channel)))
        listeningChannels.remove(channel)
    }

    /// Waits up to `timeout` seconds for the next notification; nil when none came in time.
    /// Blocks only this session's thread (`poll` on the socket).
    public func waitForNotification(timeout: Double) throws -> PostgresNotification? {
        let conn = try liveConnection()
        let deadline = monotonicSeconds() + timeout
        while true {
            if let notification = nextNotification(conn) { return notification }
            let remaining = deadline - monotonicSeconds()
            if remaining <= 0 { return nil }
            var fd = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
            let ready = poll(&fd, 1, Int32(min(remaining * 1000, 60_000).rounded(.up)))
            if ready < 0 && errno != EINTR { throw PostgresError(code: .connection, message: "poll failed: errno \(errno)") }
            if ready > 0 {
                guard PQconsumeInput(conn) == 1 else { throw connectionError(conn, statement: "LISTEN") }
            }
        }
    }

    private func nextNotification(_ conn: OpaquePointer) -> PostgresNotification? {
        guard let raw = PQnotifies(conn) else { return nil }
        defer { PQfreemem(raw) }
        return PostgresNotification(channel: String(cString: raw.pointee.relname),
                                    payload: String(cString: raw.pointee.extra),
                                    senderPID: raw.pointee.be_pid)
    }

    // MARK: COPY

    /// Streams rows into `COPY … FROM STDIN`. `body` writes COPY text (or CSV) through the writer;
    /// libpq buffers, so one call per line is fine. Returns the number of rows the server took.
    /// A row the server rejects surfaces as a `PostgresError` with its SQLSTATE and line.
    @discardableResult
    public func copyFrom(_ query: PostgresQuery, _ body: (inout PostgresCopyWriter) throws -> Void) throws -> Int {
        let conn = try liveConnection()
        let start = PQexec(conn, query.sql)
        guard let start else { throw connectionError(conn, statement: query.name) }
        let status = PQresultStatus(start)
        if status != PGRES_COPY_IN {
            defer { PQclear(start) }
            if status == PGRES_FATAL_ERROR { throw PostgresError(result: start, statement: query.name) }
            throw PostgresError(code: .protocolViolation, message: "statement did not start COPY FROM STDIN",
                                statement: query.name)
        }
        PQclear(start)
        var writer = PostgresCopyWriter(conn: conn)
        var bodyError: (any Error)?
        do { try body(&writer) } catch { bodyError = error }
        writer.flush()
        let endMessage: String? = bodyError.map { "client aborted COPY: \($0)" }
        _ = PQputCopyEnd(conn, endMessage)
        var failure: PostgresError?
        var rows = 0
        while let result = PQgetResult(conn) {
            if PQresultStatus(result) == PGRES_FATAL_ERROR, failure == nil {
                failure = PostgresError(result: result, statement: query.name)
            } else {
                rows = Int(String(cString: PQcmdTuples(result))) ?? rows
            }
            PQclear(result)
        }
        if let bodyError { throw bodyError }
        if writer.failed { throw connectionError(conn, statement: query.name) }
        if let failure { throw failure }
        return rows
    }

    // MARK: Connection life

    /// Closes the connection; later use throws `.closed`.
    public func close() {
        if let conn { PQfinish(conn) }
        conn = nil
        preparedStatements.removeAll()
    }

    /// Connects again with capped exponential backoff and jitter until `reconnectDeadlineSeconds`.
    /// Re-subscribes to every channel the session listened on; notifications sent while it was away
    /// are lost (the job queue's polling covers them).
    public func reconnect() throws {
        if let conn { PQfinish(conn) }
        conn = nil
        preparedStatements.removeAll()
        transactionDepth = 0
        let deadline = monotonicSeconds() + configuration.reconnectDeadlineSeconds
        var attempt = 0
        while true {
            do {
                conn = try Self.connect(configuration)
                break
            } catch {
                let backoff = min(configuration.reconnectMaxDelaySeconds,
                                  configuration.reconnectBaseDelaySeconds * pow(2, Double(attempt)))
                let delay = backoff * Double.random(in: 0.5...1.0)
                if monotonicSeconds() + delay > deadline { throw error }
                usleep(UInt32(delay * 1_000_000))
                attempt += 1
            }
        }
        reconnectCount += 1
        for channel in listeningChannels {
            try execute(PostgresQuery(unsafeSQL: "LISTEN " + quoteIdentifier(channel)))
        }
        onReconnect?()
    }

    /// The connection, reconnecting first when the server went away while the session was idle.
    /// A session inside a transaction is never silently reconnected: its work is gone, so it throws.
    private func liveConnection() throws -> OpaquePointer {
        guard let conn else { throw PostgresError(code: .closed, message: "the connection was closed") }
        if transactionDepth > 0 { return conn }
        if PQstatus(conn) != CONNECTION_OK || isClosedByServer(conn) {
            try reconnect()
            return self.conn!
        }
        return conn
    }

    /// True when the idle socket has an EOF or error pending: the server ended the session
    /// (restart, `pg_terminate_backend`), so a statement sent now would fail.
    private func isClosedByServer(_ conn: OpaquePointer) -> Bool {
        let fd = PQsocket(conn)
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, 0) > 0 else { return false }
        if pfd.revents & Int16(POLLHUP | POLLERR) != 0 { return true }
        // Readable while idle: a notification, or the server's FATAL followed by an end of file.
        guard PQconsumeInput(conn) == 1, PQstatus(conn) == CONNECTION_OK else { return true }
        var byte: UInt8 = 0
        let peeked = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return peeked == 0 || (peeked < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    private func check(_ result: OpaquePointer?, statement: String?, conn: OpaquePointer) throws -> OpaquePointer? {
        guard let result else { throw connectionError(conn, statement: statement) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return result
        default:
            defer { PQclear(result) }
            var error = PostgresError(result: result, statement: statement)
            if PQstatus(conn) != CONNECTION_OK { error.code = .connection }
            throw error
        }
    }

    private func connectionError(_ conn: OpaquePointer, statement: String?) -> PostgresError {
        PostgresError(code: .connection, message: String(cString: PQerrorMessage(conn)).trimmingTrailingNewlines(),
                      statement: statement)
    }

    /// Quotes an identifier (a LISTEN channel) with libpq's own escaping.
    public func quoteIdentifier(_ name: String) -> String {
        guard let conn, let escaped = PQescapeIdentifier(conn, name, name.utf8.count) else {
            return "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }
}

/// Hands buffers to libpq `COPY` (`PQputCopyData`), batching small writes into 64 KiB chunks.
public struct PostgresCopyWriter {
    let conn: OpaquePointer
    private var buffer: [UInt8] = []
    private(set) var failed = false

    init(conn: OpaquePointer) {
        self.conn = conn
        buffer.reserveCapacity(1 << 16)
    }

    public mutating func write(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    public mutating func write(_ text: String) {
        var text = text
        text.withUTF8 { write($0) }
    }

    mutating func flush() {
        guard !buffer.isEmpty, !failed else { buffer.removeAll(keepingCapacity: true); return }
        let ok = buffer.withUnsafeBufferPointer { pointer in
            pointer.withMemoryRebound(to: CChar.self) { PQputCopyData(conn, $0.baseAddress, Int32($0.count)) }
        }
        if ok != 1 { failed = true }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Seconds on the monotonic clock, for timeouts (never the wall clock).
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1_000_000_000
}

/// Lays out parameters as the C arrays `PQexecParams` wants, for the duration of `body`.
private func withBindPointers<R>(
    _ binds: [PostgresBind],
    _ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> R
) -> R {
    if binds.isEmpty { return body(nil, nil, nil) }
    var storage: [UnsafeMutablePointer<CChar>?] = []
    storage.reserveCapacity(binds.count)
    var lengths: [Int32] = []
    var formats: [Int32] = []
    for bind in binds {
        switch bind {
        case .null:
            storage.append(nil); lengths.append(0); formats.append(0)
        case .text(let text):
            storage.append(strdup(text)); lengths.append(0); formats.append(0)
        case .binary(let bytes):
            let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
            bytes.withUnsafeBufferPointer { source in
                source.withMemoryRebound(to: CChar.self) { pointer.update(from: $0.baseAddress!, count: bytes.count) }
            }
            storage.append(pointer); lengths.append(Int32(bytes.count)); formats.append(1)
        }
    }
    defer {
        for (i, pointer) in storage.enumerated() {
            if case .binary = binds[i] { pointer?.deallocate() } else { free(pointer) }
        }
    }
    let constPointers: [UnsafePointer<CChar>?] = storage.map { $0.map { UnsafePointer($0) } }
    return constPointers.withUnsafeBufferPointer { values in
        lengths.withUnsafeBufferPointer { l in
            formats.withUnsafeBufferPointer { f in body(values.baseAddress, l.baseAddress, f.baseAddress) }
        }
    }
}
