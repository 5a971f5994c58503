import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The scenario's worker processes (`tierguard-chaos chaos-worker`), one per slot, restarted by
/// ``supervise()`` whenever one has exited: a SIGKILLed, SIGTERMed or crashed worker is replaced the
/// way a process supervisor (systemd, Kubernetes) would replace it. Odd slots also run `effect` jobs
/// in batches (`--effect-batch 25`), even slots one by one, so every scenario puts both completion
/// paths under its faults side by side.
///
/// Thread rule: the driver's thread calls ``supervise()``; the fault thread calls ``signal(_:slot:)``;
/// both reach the processes only under the mutex.
final class ChaosWorkerPool: Sendable {
    struct State {
        var processes: [Process?]
        var restarts = 0
        /// Workers sent SIGTERM: each must exit 0 (drained), else the scenario fails.
        var terminated: Set<Int32> = []
        var badTerminations: [String] = []
        var stopping = false
        /// While true, exited workers are not replaced (pg-restart-during-rescue lets every lease of
        /// the killed workers expire before any replacement, and so any rescue sweep, starts).
        var holding = false
    }

    let state: Mutex<State>
    let url: String
    let concurrency: Int
    let logDir: String
    let environment: @Sendable (_ slot: Int) throws -> [String: String]
    let extraArguments: [String]
    /// A command the worker runs under (`ip netns exec tgchaos`), or empty.
    let launcher: [String]

    init(url: String, processes: Int, concurrency: Int, logDir: String, environment: @escaping @Sendable (_ slot: Int) throws -> [String: String] = { _ in [:] },
         extraArguments: [String] = [], launcher: [String] = []) {
        self.launcher = launcher
        self.state = Mutex(State(processes: Array(repeating: nil, count: processes)))
        self.url = url
        self.concurrency = concurrency
        self.logDir = logDir
        self.environment = environment
        self.extraArguments = extraArguments
    }

    var count: Int { state.withLock { $0.processes.count } }
    var restarts: Int { state.withLock { $0.restarts } }
    var badTerminations: [String] { state.withLock { $0.badTerminations } }

    /// Starts every empty slot and replaces exited workers.
    func supervise() throws {
        try state.withLock { state in
            guard !state.stopping else { return }
            for slot in state.processes.indices {
                if state.holding, state.processes[slot].map({ !$0.isRunning }) ?? true { continue }
                if let process = state.processes[slot] {
                    guard !process.isRunning else { continue }
                    let pid = process.processIdentifier
                    if state.terminated.remove(pid) != nil,
                       process.terminationReason != .exit || process.terminationStatus != 0 {
                        state.badTerminations.append("worker \(pid) exited \(process.terminationStatus) after SIGTERM")
                    }
                    state.restarts += 1
                }
                state.processes[slot] = try spawn(slot: slot)
            }
        }
    }

    private func spawn(slot: Int) throws -> Process {
        let process = Process()
        let executable = Bundle.main.executablePath ?? CommandLine.arguments[0]
        let arguments = ["chaos-worker", "--database-url", url, "--concurrency", String(concurrency)]
            + (slot % 2 == 1 ? ["--effect-batch", "25"] : []) + extraArguments
        if let first = launcher.first {
            process.executableURL = URL(fileURLWithPath: first)
            process.arguments = Array(launcher.dropFirst()) + [executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        let extra = try environment(slot)
        if !extra.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        }
        let log = "\(logDir)/worker-\(slot).log"
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = FileHandle(forWritingAtPath: log)!
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // The child has its own copy; keeping ours open would hold the folder (a tmpfs) busy.
        try? handle.close()
        return process
    }

    /// Sends `signo` to the worker in `slot` (a random one when nil); returns its pid, or nil when
    /// that slot has no running worker at the moment.
    @discardableResult
    func signal(_ signo: Int32, slot: Int? = nil) -> Int32? {
        state.withLock { state in
            let index = slot ?? Int.random(in: 0..<state.processes.count)
            guard let process = state.processes[index], process.isRunning else { return nil }
            let pid = process.processIdentifier
            if signo == SIGTERM { state.terminated.insert(pid) }
            kill(pid, signo)
            return pid
        }
    }

    /// Stops (true) or resumes (false) replacing exited workers; see `State.holding`.
    func hold(_ on: Bool) { state.withLock { $0.holding = on } }

    /// Sends `signo` to every running worker; returns their pids.
    func signalAll(_ signo: Int32) -> [Int32] {
        (0..<count).compactMap { signal(signo, slot: $0) }
    }

    /// SIGTERM to all (drain), SIGKILL to any still alive after `deadline` seconds.
    func stopAll(deadline: Double = 20) {
        let processes = state.withLock { state in
            state.stopping = true
            return state.processes.compactMap { $0 }
        }
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let end = Date().addingTimeInterval(deadline)
        while processes.contains(where: { $0.isRunning }) && Date() < end { Thread.sleep(forTimeInterval: 0.1) }
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in processes { process.waitUntilExit() }
    }
}
