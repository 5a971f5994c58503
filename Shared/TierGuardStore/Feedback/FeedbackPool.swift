import Foundation
import Postgres

/// A few `PostgresConnection`s lent to one request at a time, so a request's transaction never
/// interleaves with another's and libpq never runs on the cooperative pool (each connection owns
/// its thread). A request waits suspended, not blocking a thread, when all are lent out.
/// Size: `TIERGUARD_FEEDBACK_CONNECTIONS` (default 8): concurrent commits share fsyncs (group commit).
public actor FeedbackPool {
    private var idle: [PostgresConnection]
    private var waiters: [CheckedContinuation<PostgresConnection, Never>] = []
    private let all: [PostgresConnection]

    public init(configuration: PostgresConfiguration, size: Int) async throws {
        var connections: [PostgresConnection] = []
        for _ in 0..<max(1, size) { connections.append(try await PostgresConnection(configuration: configuration)) }
        idle = connections
        all = connections
    }

    private func take() async -> PostgresConnection {
        if let connection = idle.popLast() { return connection }
        return await withCheckedContinuation { waiters.append($0) }
    }

    private func give(_ connection: PostgresConnection) {
        if waiters.isEmpty { idle.append(connection) } else { waiters.removeFirst().resume(returning: connection) }
    }

    /// Runs `body` in one transaction on a lent connection; returns after the commit.
    public func withTransaction<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        let connection = await take()
        defer { give(connection) }
        return try await connection.withTransaction(body)
    }

    /// Runs `body` on a lent connection without opening a transaction: each statement commits on its own
    /// (`FeedbackSurveyFastPath` is one statement).
    public func withSession<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        let connection = await take()
        defer { give(connection) }
        return try await connection.withSession(body)
    }

    public func close() async {
        for connection in all { await connection.close() }
    }
}
