import Synchronization

/// Label values of one series, in the order of the family's label names.
typealias LabelValues = [String]

/// Turns a `[name: value]` dictionary into values ordered like `labelNames`, insisting on an exact match:
/// a missing or extra label is a programming error that would otherwise silently split a series.
func orderedLabelValues(_ labels: [String: String], names: [String], metric: String) -> LabelValues {
    precondition(
        labels.count == names.count && names.allSatisfy { labels[$0] != nil },
        "metric \(metric) takes labels \(names), got \(labels.keys.sorted())")
    return names.map { labels[$0]! }
}

/// A monotonically increasing count per label set (`tierguard_jobs_completed_total{kind="..."}`).
///
/// Thread safety: every series lives behind one `Mutex`; increments from any thread or task are safe.
public final class Counter: Sendable {
    public let name: String
    public let help: String
    public let labelNames: [String]
    let series: Mutex<[LabelValues: Double]>

    init(name: String, help: String, labelNames: [String]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
        // An unlabelled counter exists at 0 from registration, so a scrape shows it before the first event.
        series = Mutex(labelNames.isEmpty ? [[]: 0] : [:])
    }

    /// Adds `amount` (which must not be negative: counters only go up) to the series named by `labels`.
    public func increment(by amount: Double = 1, labels: [String: String] = [:]) {
        precondition(amount >= 0, "counter \(name) cannot decrease")
        let key = orderedLabelValues(labels, names: labelNames, metric: name)
        series.withLock { $0[key, default: 0] += amount }
    }

    /// The current value of one series (0 if it was never incremented).
    public func value(labels: [String: String] = [:]) -> Double {
        let key = orderedLabelValues(labels, names: labelNames, metric: name)
        return series.withLock { $0[key] ?? 0 }
    }
}

/// A value that goes up and down per label set (`tierguard_http_open_connections`).
///
/// Thread safety: as ``Counter``.
public final class Gauge: Sendable {
    public let name: String
    public let help: String
    public let labelNames: [String]
    let series: Mutex<[LabelValues: Double]>

    init(name: String, help: String, labelNames: [String]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
        series = Mutex(labelNames.isEmpty ? [[]: 0] : [:])
    }

    public func set(_ value: Double, labels: [String: String] = [:]) {
        let key = orderedLabelValues(labels, names: labelNames, metric: name)
        series.withLock { $0[key] = value }
    }

    public func increment(by amount: Double = 1, labels: [String: String] = [:]) {
        let key = orderedLabelValues(labels, names: labelNames, metric: name)
        series.withLock { $0[key, default: 0] += amount }
    }

    public func decrement(by amount: Double = 1, labels: [String: String] = [:]) {
        increment(by: -amount, labels: labels)
    }

    public func value(labels: [String: String] = [:]) -> Double {
        let key = orderedLabelValues(labels, names: labelNames, metric: name)
        return series.withLock { $0[key] ?? 0 }
    }
}

/// Observations counted into fixed upper-bound buckets, with their sum (`..._seconds` run times).
///
/// A value `v` falls in every bucket whose bound `le` satisfies `v <= le`; `+Inf` is implicit.
/// Thread safety: as ``Counter``.
public final class Histogram: Sendable {
    /// Prometheus client defaults, in seconds: 5 ms to 10 s.
    public static let defaultBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    struct Series {
        /// Per-bucket (not cumulative) counts; the last slot is the overflow above the largest bound.
        var counts: [UInt64]
        var sum: Double = 0
        var count: UInt64 = 0
    }

    public let name: String
    public let help: String
    public let labelNames: [String]
    /// Upper bounds, strictly increasing, finite.
    public let buckets: [Double]
    let series: Mutex<[LabelValues: Series]>

    init(name: String, help: String, labelNames: [String], buckets: [Double]) {
        precondition(!buckets.isEmpty && buckets.allSatisfy(\.isFinite), "histogram \(name): finite buckets needed")
        precondition(zip(buckets, buckets.dropFirst()).allSatisfy { $0 < $1 }, "histogram \(name): buckets must increase")
        self.name = name
        self.help = help
        self.labelNames = labelNames
        self.buckets = buckets
        let empty = Series(counts: Array(repeating: 0, count: buckets.count + 1))
        series = Mutex(labelNames.isEmpty ? [[]: empty] : [:])
    }

    public func observe(_ value: Double, labels: [String: String] = [:]) {
        let key = orderedLabelValues(labels, names: labelNames, metric: name)
        let slot = buckets.firstIndex(where: { value <= $0 }) ?? buckets.count
        let bucketCount = buckets.count
        series.withLock { all in
            var entry = all[key] ?? Series(counts: Array(repeating: 0, count: bucketCount + 1))
            entry.counts[slot] += 1
            entry.sum += value
            entry.count += 1
            all[key] = entry
        }
    }

    /// Observes a duration in seconds.
    public func observe(_ duration: Duration, labels: [String: String] = [:]) {
        let (seconds, attoseconds) = duration.components
        observe(Double(seconds) + Double(attoseconds) / 1e18, labels: labels)
    }

    /// Runs `body` and observes how long it took, even when it throws.
    public func time<T>(labels: [String: String] = [:], _ body: () async throws -> T) async rethrows -> T {
        let clock = ContinuousClock()
        let start = clock.now
        defer { observe(clock.now - start, labels: labels) }
        return try await body()
    }

    /// Count and sum of one series.
    public func snapshot(labels: [String: String] = [:]) -> (count: UInt64, sum: Double) {
        let key = orderedLabelValues(labels, names: labelNames, metric: name)
        return series.withLock { all in all[key].map { ($0.count, $0.sum) } ?? (0, 0) }
    }
}

/// One sample a scrape-time callback returns.
public struct MetricSample: Sendable, Equatable {
    public var labels: [String: String]
    public var value: Double
    public init(labels: [String: String] = [:], value: Double) {
        self.labels = labels
        self.value = value
    }
}
