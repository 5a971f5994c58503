import Foundation
import Postgres
import ServiceKit

/// tierguard-chaos: the job queue's fault suite (issue 10). Each scenario starts its own throwaway
/// cluster (deploy/local/pg.sh), enqueues `--jobs` jobs, runs `--processes` worker processes of
/// `--concurrency` handlers (`tierguard-chaos chaos-worker`), injects its fault, waits for the queue
/// to drain and checks the invariants in SQL; one line per scenario, exit 1 on any FAIL.
///
///   tierguard-chaos NAME [--jobs N] [--processes P] [--concurrency C] [--seconds S] [--port PORT]
///   tierguard-chaos all | ci       every scenario | the fast subset (baseline, sigkill, sigterm)
///   tierguard-chaos list
let spec = CommandSpec(
    name: "tierguard-chaos", abstract: "Fault-injection suite for the job queue",
    options: [
        .init("jobs", valueName: "n", help: "jobs per scenario, half noop and half effect (default 20000)"),
        .init("processes", valueName: "p", help: "worker processes (default 4)"),
        .init("concurrency", valueName: "c", help: "handlers per process (default 4)"),
        .init("seconds", valueName: "s", help: "drain deadline after the last fault (default 90)"),
        .init("port", valueName: "port", help: "port of the throwaway clusters (default 55480)"),
    ],
    positionals: [.init("scenario", help: "a scenario name, all, ci or list")])

/// The arguments from /proc/self/cmdline: under libfaketime's LD_PRELOAD (the clock-skew scenario)
/// the Swift runtime sees an empty `CommandLine.arguments`, so the worker reads the kernel's copy.
func commandLineArguments() -> [String] {
    guard let data = FileManager.default.contents(atPath: "/proc/self/cmdline"), !data.isEmpty else {
        return CommandLine.arguments
    }
    var parts = data.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    if parts.last == "" { parts.removeLast() }
    return parts
}

let arguments = Array(commandLineArguments().dropFirst())
if arguments.first == "chaos-worker" {
    do {
        exit(try await ChaosWorker.run(Array(arguments.dropFirst())))
    } catch {
        FileHandle.standardError.write(Data("tierguard-chaos chaos-worker: \(error)\n".utf8))
        exit(1)
    }
}

do {
    let parsed: Arguments
    switch try Arguments.parse(arguments, spec: spec) {
    case .run(let arguments): parsed = arguments
    case .help(let text), .version(let text):
        print(text)
        exit(0)
    }
    var options = ChaosOptions()
    options.jobs = try parsed.int("jobs") ?? options.jobs
    options.processes = try parsed.int("processes") ?? options.processes
    options.concurrency = try parsed.int("concurrency") ?? options.concurrency
    options.seconds = Double(parsed.option("seconds") ?? "") ?? options.seconds
    options.port = try parsed.int("port") ?? options.port
    let name = parsed.positionals[0]
    let scenarios: [ChaosScenario]
    switch name {
    case "all": scenarios = ChaosScenarios.all
    case "ci": scenarios = ChaosScenarios.all.filter(\.isFast)
    case "list":
        for scenario in ChaosScenarios.all { print("\(scenario.name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(scenario.summary)") }
        exit(0)
    default:
        guard let scenario = ChaosScenarios.all.first(where: { $0.name == name }) else {
            throw parsed.usageError("unknown scenario \(name); try tierguard-chaos list")
        }
        scenarios = [scenario]
    }
    ChaosDriver.say("tierguard-chaos: jobs=\(options.jobs) processes=\(options.processes) concurrency=\(options.concurrency) "
                    + "lease=5s backoff=1s, \(ProcessInfo.processInfo.activeProcessorCount) cores")
    let chosen = options
    // Blocking libpq and process work: on a thread of its own, never the cooperative pool.
    let failed: Bool = await withCheckedContinuation { continuation in
        let thread = Thread {
            var failed = false
            for scenario in scenarios {
                let result = ChaosDriver.run(scenario, options: chosen)
                ChaosDriver.say(result.line)
                if !result.passed { failed = true }
            }
            continuation.resume(returning: failed)
        }
        thread.stackSize = 4 << 20
        thread.start()
    }
    exit(failed ? 1 : 0)
} catch let error as UsageError {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(64)
} catch {
    FileHandle.standardError.write(Data("tierguard-chaos: \(error)\n".utf8))
    exit(1)
}
