import Foundation
import JobQueue
import Postgres
import ServiceKit
import Synchronization
import TestSupport

/// A fresh database with the job queue's migrations (and the bench worker's effects table).
func makeQueueDatabase() throws -> TestDatabase {
    let database = try TestDatabase.create(migrations: JobQueueSchema.migrations(), prefix: "jq")
    let session = try database.session()
    defer { session.close() }
    try session.execute(PostgresQuery("""
        CREATE TABLE tg_bench_effects (job_id bigint PRIMARY KEY, attempt integer NOT NULL, worker text NOT NULL,
                                       at timestamptz NOT NULL DEFAULT now())
        """))
    return database
}

/// A worker configuration with test-friendly timings (maintenance every 0.2 s).
func testConfiguration(_ database: TestDatabase, queue: String, service: String = "jobqueue-tests") -> JobWorkerConfiguration {
    var config = JobWorkerConfiguration(database: database.configuration(applicationName: service), queue: queue, service: service)
    config.maintenanceInterval = 0.2
    config.pollInterval = 0.5
    config.concurrency = 4
    return config
}

let quietLogger = Logger(service: "jobqueue-tests", threshold: .critical)

/// Values handlers record, shared across tasks.
final class Recorder<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])
    func append(_ value: Value) { values.withLock { $0.append(value) } }
    var all: [Value] { values.withLock { $0 } }
    var count: Int { values.withLock { $0.count } }
}

func scalar<T: PostgresDecodable>(_ session: PostgresSession, _ sql: String, _ binds: (any PostgresEncodable)?...) throws -> T {
    try session.query(PostgresQuery(unsafeSQL: sql).binding(binds.map { $0?.postgresBind ?? .null }))[0].decode(T.self, at: 0)
}

/// The `tierguard-bench` executable built beside the test bundle (`swift build --build-tests`
/// builds every product into the same folder).
func benchExecutable() throws -> URL {
    var candidates: [URL] = []
    if let path = ProcessInfo.processInfo.environment["TIERGUARD_BENCH_BINARY"] { candidates.append(URL(fileURLWithPath: path)) }
    var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        candidates.append(folder.appendingPathComponent("tierguard-bench"))
        folder = folder.deletingLastPathComponent()
    }
    candidates.append(LocalCluster.repositoryRoot.appendingPathComponent(".build/debug/tierguard-bench"))
    for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
        return candidate
    }
    throw TestFailure(message: "tierguard-bench not found next to the tests (\(candidates.map(\.path)))")
}

/// A `tierguard-bench queue-worker` process.
final class WorkerProcess {
    let process: Process
    let output: URL

    init(database: TestDatabase, queue: String = "bench", _ extra: [String]) throws {
        process = Process()
        process.executableURL = try benchExecutable()
        process.arguments = ["queue-worker", "--database-url", database.url, "--queue", queue] + extra
        output = FileManager.default.temporaryDirectory.appendingPathComponent("jq-worker-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var log: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

    func signal(_ signo: Int32) { kill(process.processIdentifier, signo) }

    /// Waits for exit without blocking a cooperative thread; nil on timeout.
    func exitStatus(within seconds: Double) async -> Int32? {
        let deadline = monotonicSeconds() + seconds
        while process.isRunning {
            if monotonicSeconds() > deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: output)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Waits with `Task.sleep` between checks (the async `waitUntil`), so in-process workers' tasks keep
/// the cooperative threads while a synchronous condition is polled.
func eventually(timeout: Double, interval: Double = 0.02, _ what: String, _ condition: () throws -> Bool) async throws {
    try await waitUntil(timeout: timeout, interval: interval, what) { () async throws -> Bool in try condition() }
}
