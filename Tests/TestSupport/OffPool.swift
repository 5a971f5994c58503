import Foundation

/// Runs blocking work (libpq calls, a database's creation and migrations, HTTP to a receiver in this
/// process) on a thread of its own and awaits it.
///
/// Swift Testing runs every test, synchronous ones included, on Swift's cooperative pool, which has
/// two threads on this machine. A test that blocks one of them while an in-process HTTP server or
/// receiver needs both for its handlers can stall every request of the process: CI runs saw all the
/// served tests of one process time out together that way. So a test with a server in its process
/// does every blocking call through this function.
public func offPool<T>(_ body: @escaping () throws -> T) async throws -> T {
    let work = UncheckedBox(body)
    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<UncheckedBox<T>, any Error>) in
        Thread { continuation.resume(with: Result { UncheckedBox(try work.value()) }) }.start()
    }.value
}

/// Carries a value to the helper thread of `offPool` and back; the caller waits meanwhile, so only
/// one thread uses it at a time.
public struct UncheckedBox<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
