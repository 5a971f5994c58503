import Foundation
import Glibc
import Testing

@testable import ServiceKit

/// Uses SIGUSR1/SIGUSR2 rather than SIGTERM so a failure cannot take the test runner down.
struct SignalWatcherTests {
    @Test func realSignalReachesStreamAndFlag() async throws {
        let watcher = SignalWatcher(signals: [SIGUSR2])
        #expect(!watcher.isShutdownRequested)
        let stream = watcher.signals()
        kill(getpid(), SIGUSR2)
        let received = try await firstSignal(stream, timeout: .seconds(5))
        #expect(received == SIGUSR2)
        #expect(watcher.isShutdownRequested)
        #expect(watcher.receivedSignals == [SIGUSR2])
    }

    @Test func blockingWaiterWakesOnSignal() async throws {
        let watcher = SignalWatcher(signals: [SIGUSR1])
        let started = ContinuousClock.now
        let woke = Mutex(false)
        await onThread {
            Thread { usleep(100_000); kill(getpid(), SIGUSR1) }.start()
            let requested = watcher.waitForShutdown(timeout: .seconds(5))
            woke.withLock { $0 = requested }
        }
        #expect(woke.withLock { $0 })
        #expect(ContinuousClock.now - started < .seconds(4))
    }

    @Test func waitTimesOutWithoutASignal() async {
        let watcher = SignalWatcher(signals: [])
        let result = Mutex(true)
        await onThread { result.withLock { $0 = watcher.waitForShutdown(timeout: .milliseconds(100)) } }
        #expect(result.withLock { $0 } == false)
    }

    @Test func lateSubscriberStillSeesAnEarlierRequest() async throws {
        let watcher = SignalWatcher(signals: [])
        watcher.requestShutdown(signal: SIGTERM)
        let received = try await firstSignal(watcher.signals(), timeout: .seconds(1))
        #expect(received == SIGTERM)
        #expect(watcher.waitForShutdown(timeout: .zero))
    }

    @Test func finishingStreamsEndsForAwaitLoops() async {
        let watcher = SignalWatcher(signals: [])
        let stream = watcher.signals()
        watcher.finishStreams()
        var count = 0
        for await _ in stream { count += 1 }
        #expect(count == 0)
    }

    func firstSignal(_ stream: AsyncStream<Int32>, timeout: Duration) async throws -> Int32? {
        try await withThrowingTaskGroup(of: Int32?.self) { group in
            group.addTask {
                for await signo in stream { return signo }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}

import Synchronization
