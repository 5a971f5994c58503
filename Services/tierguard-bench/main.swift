import Foundation
import ServiceKit

/// tierguard-bench: the benchmark executables of the speed targets (build with `-c release`).
///
///   tierguard-bench queue …     job queue drain rate and idle pickup latency (issue 3)
///   tierguard-bench ingest …    1,000,000-transaction feed end to end vs psql \copy (issue 4)
///   tierguard-bench score …     whole-book scoring customers/s (issue 5)
///   tierguard-bench auc …       retention-risk AUC on the generator's scenarios, no database (issue 5)
///   tierguard-bench feedback …  survey POSTs/s with durable commits, p50/p99 (issue 8)
///   tierguard-bench notify …    webhook deliveries/s and the 500-RM morning digest (issue 7)
///   tierguard-bench queue-worker …  a worker process the queue benchmark and tests spawn
let benchmarks: [String: @Sendable ([String]) async throws -> Int32] = [
    "queue": QueueBench.run,
    "queue-worker": QueueBench.runWorker,
    "ingest": IngestBench.run,
    "score": ScoreBench.run,
    "auc": AucBench.run,
    "feedback": FeedbackBench.run,
    "notify": NotifyBench.run,
]

let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first, let benchmark = benchmarks[name] else {
    FileHandle.standardError.write(Data("usage: tierguard-bench {\(benchmarks.keys.sorted().joined(separator: "|"))} [options]\n".utf8))
    exit(64)
}
do {
    exit(try await benchmark(Array(arguments.dropFirst())))
} catch let error as UsageError {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(64)
} catch {
    FileHandle.standardError.write(Data("tierguard-bench \(name): \(error)\n".utf8))
    exit(1)
}
