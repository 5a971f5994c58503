import Dispatch
import Glibc
import Synchronization

/// Turns SIGTERM and SIGINT into a shutdown request that async code and blocking threads can both obey.
///
/// The default disposition (terminate at once) is replaced by `SIG_IGN` and a `DispatchSource` per signal,
/// as in swift-service-lifecycle's `UnixSignalsSequence`, so a signal no longer kills the process but sets
/// ``isShutdownRequested``, yields on every stream from ``signals()``, and wakes every thread blocked in
/// ``waitForShutdown(timeout:)``. What shutdown means (stop claiming, drain to a deadline, exit 0) is the
/// worker's business; a second signal is delivered too, so a caller may escalate on it.
///
/// Thread safety: all state is behind one `Mutex`; the dispatch handlers run on a private serial queue.
public final class SignalWatcher: Sendable {
    private struct State {
        var received: [Int32] = []
        var continuations: [Int: AsyncStream<Int32>.Continuation] = [:]
        var waiters: [Int: DispatchSemaphore] = [:]
        var nextID = 0
        var isCancelled = false
    }

    private let state = Mutex(State())
    /// Kept alive for the watcher's lifetime; behind a lock only because the source type is not `Sendable`.
    private let sources: Mutex<[any DispatchSourceSignal]>
    private let queue = DispatchQueue(label: "tierguard.signal-watcher")
    public let watchedSignals: [Int32]

    /// Starts watching; returns once the signal sources are armed. Create one per process, early in
    /// `main`. Blocks briefly, so call it from `main` or a dedicated thread rather than from a task.
    public init(signals: [Int32] = [SIGTERM, SIGINT]) {
        watchedSignals = signals
        var sources: [any DispatchSourceSignal] = []
        for signo in signals {
            signal(signo, SIG_IGN)
            sources.append(DispatchSource.makeSignalSource(signal: signo, queue: queue))
        }
        self.sources = Mutex(sources)
        // Registration is asynchronous: until the source is armed, SIG_IGN drops the signal. Wait for
        // every registration (bounded, 2 s) so a signal sent right after `init` returns is not lost.
        let registered = DispatchSemaphore(value: 0)
        self.sources.withLock { all in
            for (signo, source) in zip(signals, all) {
                source.setEventHandler { [weak self] in self?.deliver(signo) }
                source.setRegistrationHandler { registered.signal() }
                source.resume()
            }
        }
        for _ in signals { _ = registered.wait(timeout: .now() + .seconds(2)) }
    }

    deinit {
        sources.withLock { all in
            for source in all { source.cancel() }
        }
    }

    /// Records a shutdown request as if `signo` had arrived; tests and in-process callers use it.
    public func requestShutdown(signal signo: Int32 = SIGTERM) {
        deliver(signo)
    }

    private func deliver(_ signo: Int32) {
        let (continuations, waiters) = state.withLock { state in
            state.received.append(signo)
            return (Array(state.continuations.values), Array(state.waiters.values))
        }
        for continuation in continuations { continuation.yield(signo) }
        for waiter in waiters { waiter.signal() }
    }

    /// Whether any watched signal (or ``requestShutdown(signal:)``) has arrived.
    public var isShutdownRequested: Bool { state.withLock { !$0.received.isEmpty } }

    /// The signals received so far, in order.
    public var receivedSignals: [Int32] { state.withLock { $0.received } }

    /// A new stream of signals for one consumer. A signal that arrived before the call is yielded first,
    /// so a late subscriber cannot miss the shutdown request.
    public func signals() -> AsyncStream<Int32> {
        let (stream, continuation) = AsyncStream<Int32>.makeStream(bufferingPolicy: .unbounded)
        let (id, earlier, cancelled) = state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            if !state.isCancelled { state.continuations[id] = continuation }
            return (id, state.received, state.isCancelled)
        }
        for signo in earlier { continuation.yield(signo) }
        if cancelled { continuation.finish() }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.continuations.removeValue(forKey: id) }
        }
        return stream
    }

    /// Blocks the calling thread until shutdown is requested or `timeout` passes; returns whether shutdown
    /// was requested. For dedicated threads only: never call it from async code (use ``signals()``).
    public func waitForShutdown(timeout: Duration? = nil) -> Bool {
        let semaphore = DispatchSemaphore(value: 0)
        let registered: Int? = state.withLock { state in
            guard state.received.isEmpty else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.waiters[id] = semaphore
            return id
        }
        guard let id = registered else { return true }
        defer { _ = state.withLock { $0.waiters.removeValue(forKey: id) } }
        if let timeout {
            let (seconds, attoseconds) = timeout.components
            let nanoseconds = max(0, seconds) * 1_000_000_000 + attoseconds / 1_000_000_000
            _ = semaphore.wait(timeout: .now() + .nanoseconds(Int(clamping: nanoseconds)))
        } else {
            semaphore.wait()
        }
        return isShutdownRequested
    }

    /// Ends every stream (their `for await` loops finish); later streams finish at once.
    public func finishStreams() {
        let continuations = state.withLock { state in
            state.isCancelled = true
            defer { state.continuations.removeAll() }
            return Array(state.continuations.values)
        }
        for continuation in continuations { continuation.finish() }
    }
}
