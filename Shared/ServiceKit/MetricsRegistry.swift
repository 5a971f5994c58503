import Synchronization

/// The metrics of one process, rendered for `/metrics` in the Prometheus text format 0.0.4.
///
/// Register each metric once at start-up and keep the returned object; asking again for the same name,
/// kind and labels returns the same object, a clash (other kind, labels or buckets) stops the process as a
/// programming error, and an invalid name too (see ``MetricName``). Values the process cannot count itself,
/// such as queue depth or the oldest job's age, are registered as callbacks that run at scrape time.
///
/// Rendering lists families by name, series by label values, each family with `# HELP` and `# TYPE`.
/// Thread safety: the registry and each metric keep their state behind a `Mutex`.
public final class MetricsRegistry: Sendable {
    /// A scrape-time collector: returns the current samples of one gauge or counter family.
    public typealias Collect = @Sendable () async -> [MetricSample]

    enum Family: Sendable {
        case counter(Counter)
        case gauge(Gauge)
        case histogram(Histogram)
        case callback(kind: MetricName.Kind, help: String, labelNames: [String], collect: Collect)
    }

    private let families = Mutex<[String: Family]>([:])

    public init() {}

    private static func checked(_ name: String, _ kind: MetricName.Kind, _ labelNames: [String]) {
        do {
            try MetricName.validate(name, kind: kind, labelNames: labelNames)
        } catch {
            preconditionFailure(error.description)
        }
    }

    public func counter(_ name: String, help: String, labelNames: [String] = []) -> Counter {
        Self.checked(name, .counter, labelNames)
        return families.withLock { all in
            if let existing = all[name] {
                guard case .counter(let counter) = existing, counter.labelNames == labelNames else {
                    preconditionFailure("metric \(name) registered twice with different kinds or labels")
                }
                return counter
            }
            let counter = Counter(name: name, help: help, labelNames: labelNames)
            all[name] = .counter(counter)
            return counter
        }
    }

    public func gauge(_ name: String, help: String, labelNames: [String] = []) -> Gauge {
        Self.checked(name, .gauge, labelNames)
        return families.withLock { all in
            if let existing = all[name] {
                guard case .gauge(let gauge) = existing, gauge.labelNames == labelNames else {
                    preconditionFailure("metric \(name) registered twice with different kinds or labels")
                }
                return gauge
            }
            let gauge = Gauge(name: name, help: help, labelNames: labelNames)
            all[name] = .gauge(gauge)
            return gauge
        }
    }

    public func histogram(
        _ name: String, help: String, labelNames: [String] = [], buckets: [Double] = Histogram.defaultBuckets
    ) -> Histogram {
        Self.checked(name, .histogram, labelNames)
        return families.withLock { all in
            if let existing = all[name] {
                guard case .histogram(let histogram) = existing, histogram.labelNames == labelNames,
                    histogram.buckets == buckets
                else {
                    preconditionFailure("metric \(name) registered twice with different kinds, labels or buckets")
                }
                return histogram
            }
            let histogram = Histogram(name: name, help: help, labelNames: labelNames, buckets: buckets)
            all[name] = .histogram(histogram)
            return histogram
        }
    }

    /// A gauge whose samples `collect` returns at each scrape (queue depth, oldest job age). Registering
    /// the same name again replaces the callback.
    public func gaugeCallback(
        _ name: String, help: String, labelNames: [String] = [], collect: @escaping Collect
    ) {
        registerCallback(name, kind: .gauge, help: help, labelNames: labelNames, collect: collect)
    }

    /// A counter read from elsewhere at each scrape (e.g. totals kept in the database).
    public func counterCallback(
        _ name: String, help: String, labelNames: [String] = [], collect: @escaping Collect
    ) {
        registerCallback(name, kind: .counter, help: help, labelNames: labelNames, collect: collect)
    }

    private func registerCallback(
        _ name: String, kind: MetricName.Kind, help: String, labelNames: [String], collect: @escaping Collect
    ) {
        Self.checked(name, kind, labelNames)
        families.withLock { all in
            if let existing = all[name], case .callback = existing {} else if all[name] != nil {
                preconditionFailure("metric \(name) registered twice with different kinds")
            }
            all[name] = .callback(kind: kind, help: help, labelNames: labelNames, collect: collect)
        }
    }

    /// The whole registry as Prometheus text; callbacks are awaited one after another.
    public func render() async -> String {
        let snapshot = families.withLock { $0 }.sorted { $0.key < $1.key }
        var out = ""
        for (name, family) in snapshot {
            switch family {
            case .counter(let counter):
                Self.header(&out, name, counter.help, "counter")
                let series = counter.series.withLock { $0 }
                for (values, value) in series.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                    Self.sample(&out, name, counter.labelNames, values, value)
                }
            case .gauge(let gauge):
                Self.header(&out, name, gauge.help, "gauge")
                let series = gauge.series.withLock { $0 }
                for (values, value) in series.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                    Self.sample(&out, name, gauge.labelNames, values, value)
                }
            case .histogram(let histogram):
                Self.header(&out, name, histogram.help, "histogram")
                let series = histogram.series.withLock { $0 }
                let names = histogram.labelNames + ["le"]
                for (values, entry) in series.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                    var cumulative: UInt64 = 0
                    for (index, bound) in histogram.buckets.enumerated() {
                        cumulative += entry.counts[index]
                        Self.sample(
                            &out, name + "_bucket", names, values + [Self.format(bound)], Double(cumulative))
                    }
                    Self.sample(&out, name + "_bucket", names, values + ["+Inf"], Double(entry.count))
                    Self.sample(&out, name + "_sum", histogram.labelNames, values, entry.sum)
                    Self.sample(&out, name + "_count", histogram.labelNames, values, Double(entry.count))
                }
            case .callback(let kind, let help, let labelNames, let collect):
                Self.header(&out, name, help, kind.rawValue)
                let samples = await collect()
                let ordered = samples.map { (orderedLabelValues($0.labels, names: labelNames, metric: name), $0.value) }
                for (values, value) in ordered.sorted(by: { $0.0.lexicographicallyPrecedes($1.0) }) {
                    Self.sample(&out, name, labelNames, values, value)
                }
            }
        }
        return out
    }

    private static func header(_ out: inout String, _ name: String, _ help: String, _ type: String) {
        out += "# HELP \(name) \(escapeHelp(help))\n# TYPE \(name) \(type)\n"
    }

    private static func sample(
        _ out: inout String, _ name: String, _ labelNames: [String], _ values: [String], _ value: Double
    ) {
        out += name
        if !labelNames.isEmpty {
            out += "{"
            for (index, (label, labelValue)) in zip(labelNames, values).enumerated() {
                if index > 0 { out += "," }
                out += "\(label)=\"\(escapeLabelValue(labelValue))\""
            }
            out += "}"
        }
        out += " " + format(value) + "\n"
    }

    /// HELP text escapes `\` and newline.
    static func escapeHelp(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// Label values escape `\`, `"` and newline.
    static func escapeLabelValue(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// Integral values without a fraction (`3`, not `3.0`), others in Swift's shortest round-trip form,
    /// infinities as `+Inf`/`-Inf`, and `NaN`.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
