#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mutex ThreadSanitizer can see, used ONLY in `-DTIERGUARD_TSAN` builds (deploy/local/tsan.sh).
///
/// Why it exists: on Swift 6.3 / Linux, TSan cannot see `Synchronization.Mutex`. A contended `Mutex`
/// locks and unlocks through futex calls inside the uninstrumented libswiftSynchronization, and
/// `withLock` is inlined into the caller, so TSan never records the happens-before edge and reports
/// every correctly locked access as a "Swift access race" (deploy/local/tsan-mutex-check.swift shows
/// it on 20 lines of correct code). Suppressions cannot target it: the frames are inlined into ours.
/// `pthread_mutex_lock`/`pthread_mutex_unlock` are intercepted by TSan whoever calls them, so a lock
/// built on `pthread_mutex_t` gives TSan the edge and leaves only real races to report.
///
/// Each module that uses `Mutex` has a `TSanMutexShim.swift` with `typealias Mutex = TSanVisibleMutex`
/// under `#if TIERGUARD_TSAN`: a module's own declaration shadows the imported `Synchronization.Mutex`,
/// so no call site changes and normal builds keep `Synchronization.Mutex` untouched.
///
/// It carries the subset of `Synchronization.Mutex`'s API the code base uses (`init(_:)` and
/// `withLock(_:)`), with the same `sending` and typed-throws signature, so every call site compiles
/// both ways. A class rather than a `~Copyable` struct: the `pthread_mutex_t` must not move once
/// initialised, so it lives in its own heap allocation, initialised once and destroyed in `deinit`.
public final class TSanVisibleMutex<Value: ~Copyable>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let value: UnsafeMutablePointer<Value>

    public init(_ initialValue: consuming sending Value) {
        mutex = .allocate(capacity: 1)
        let status = pthread_mutex_init(mutex, nil)
        precondition(status == 0, "pthread_mutex_init failed: \(status)")
        value = .allocate(capacity: 1)
        value.initialize(to: initialValue)
    }

    deinit {
        value.deinitialize(count: 1)
        value.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the protected value, like `Synchronization.Mutex.withLock`.
    public borrowing func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value.pointee)
    }
}
