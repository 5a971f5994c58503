import Foundation
import Synchronization

/// A PostgreSQL connection that owns one dedicated thread; every libpq call on its `PGconn` runs there.
///
/// Threading rule: a `PGconn` is never used by two threads at once. Async callers reach the
/// session through `withSession`, which queues the closure to the connection's thread and
/// resumes the caller by checked continuation, so blocking libpq calls never occupy Swift's
/// cooperative pool (2 threads on this machine). Closures run one at a time, in order, so a
/// transaction inside one closure never interleaves with another caller's statements.
///
/// - Important: This is the package's one `@unchecked Sendable`. It is sound because `session` is
///   read and written only on `thread` (inside `ConnectionThread.run`), and the job queue that
///   carries work to that thread is a `Mutex`-protected deque.
public final class PostgresConnection: @unchecked Sendable {
    public let configuration: PostgresConfiguration
    private let thread: ConnectionThread
    private var session: PostgresSession?

    /// Starts the thread and connects on it.
    public init(configuration: PostgresConfiguration) async throws {
        self.configuration = configuration
        self.thread = ConnectionThread(name: "pg:\(configuration.applicationName)")
        try await thread.submit { [self] in
            self.session = try PostgresSession(configuration: configuration)
        }
    }

    deinit { thread.stop() }

    /// Runs `body` with the session on the connection's thread.
    public func withSession<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        try await thread.submit { [self] in
            guard let session = self.session else {
                throw PostgresError(code: .closed, message: "the connection was closed")
            }
            return try body(session)
        }
    }

    /// Runs `body` in a transaction on the connection's thread.
    public func withTransaction<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        try await withSession { session in try session.withTransaction(body) }
    }

    /// Runs one statement and decodes every row on the connection's thread.
    public func query<T: Sendable>(_ query: PostgresQuery, _ decode: @escaping @Sendable (PostgresRow) throws -> T) async throws -> [T] {
        try await withSession { session in try session.query(query).map(decode) }
    }

    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await withSession { session in try session.execute(query) }
    }

    /// Closes the connection and ends its thread.
    public func close() async {
        _ = try? await thread.submit { [self] in
            self.session?.close()
            self.session = nil
        }
        thread.stop()
    }
}

/// A thread that runs submitted closures one at a time, in order.
final class ConnectionThread: Sendable {
    private struct State: ~Copyable {
        var work: [@Sendable () -> Void] = []
        var stopped = false
    }

    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)

    init(name: String) {
        let thread = Thread { [self] in self.runLoop() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    func submit<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let accepted = state.withLock { state -> Bool in
                guard !state.stopped else { return false }
                state.work.append { continuation.resume(with: Result { try body() }) }
                return true
            }
            if accepted {
                wakeup.signal()
            } else {
                continuation.resume(throwing: PostgresError(code: .closed, message: "the connection was closed"))
            }
        }
    }

    func stop() {
        state.withLock { $0.stopped = true }
        wakeup.signal()
    }

    private func runLoop() {
        while true {
            wakeup.wait()
            while true {
                let (item, stopped) = state.withLock { state -> ((@Sendable () -> Void)?, Bool) in
                    (state.work.isEmpty ? nil : state.work.removeFirst(), state.stopped)
                }
                if let item { item(); continue }
                if stopped { return }
                break
            }
        }
    }
}
