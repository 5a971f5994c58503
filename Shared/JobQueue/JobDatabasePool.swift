import Postgres
import Synchronization

/// A small pool of `PostgresConnection`s that a worker lends to its handlers, one task at a time
/// (so a handler's transaction never interleaves with another's).
///
/// Size: configurable (`JobWorkerConfiguration.handlerConnections`, default 2). A handler waits
/// (suspended, not blocking a thread) when all are lent out. Each connection owns its thread, so
/// handlers never block Swift's cooperative pool with libpq calls.
public final class JobDatabasePool: Sendable {
    private struct State: ~Copyable {
        var idle: [PostgresConnection] = []
        var waiters: [CheckedContinuation<PostgresConnection, any Error>] = []
        var closed = false
    }

    private let state = Mutex(State())
    public let size: Int

    /// Opens `size` connections (at least 1).
    public init(configuration: PostgresConfiguration, size: Int) async throws {
        self.size = max(1, size)
        var connections: [PostgresConnection] = []
        for _ in 0..<self.size {
            connections.append(try await PostgresConnection(configuration: configuration))
        }
        state.withLock { $0.idle = connections }
    }

    /// Lends a connection to `body` and takes it back afterwards, whatever `body` does.
    public func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await acquire()
        defer { release(connection) }
        return try await body(connection)
    }

    private func acquire() async throws -> PostgresConnection {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<PostgresConnection, any Error>? = state.withLock { state in
                if state.closed { return .failure(PostgresError(code: .closed, message: "the handler pool was closed")) }
                if let connection = state.idle.popLast() { return .success(connection) }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    private func release(_ connection: PostgresConnection) {
        let waiter = state.withLock { state -> CheckedContinuation<PostgresConnection, any Error>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.idle.append(connection)
            return nil
        }
        waiter?.resume(returning: connection)
    }

    /// Closes the idle connections and refuses new loans; waiting handlers get `.closed`.
    public func close() async {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            defer { state.idle = []; state.waiters = [] }
            return (state.idle, state.waiters)
        }
        for waiter in waiters { waiter.resume(throwing: PostgresError(code: .closed, message: "the handler pool was closed")) }
        for connection in idle { await connection.close() }
    }
}
