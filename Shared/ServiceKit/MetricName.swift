/// Prometheus naming rules, checked when a metric is registered.
///
/// Names match `[a-zA-Z_:][a-zA-Z0-9_:]*`; a counter's name ends in `_total` and no other kind's does
/// (the convention `promtool check metrics` enforces); label names match `[a-zA-Z_][a-zA-Z0-9_]*`, do not
/// start with `__` (reserved), are unique, and a histogram cannot use `le`. TierGuard names start with
/// `tierguard_` and durations are `_seconds` histograms; no label ever holds a customer identifier.
public enum MetricName {
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public let name: String
        public let reason: String
        public var description: String { "metric \(name): \(reason)" }
    }

    public enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    public static func validate(_ name: String, kind: Kind, labelNames: [String]) throws(Invalid) {
        guard isValidMetricName(name) else {
            throw Invalid(name: name, reason: "name must match [a-zA-Z_:][a-zA-Z0-9_:]*")
        }
        if kind == .counter, !name.hasSuffix("_total") {
            throw Invalid(name: name, reason: "a counter's name ends in _total")
        }
        if kind != .counter, name.hasSuffix("_total") {
            throw Invalid(name: name, reason: "only counters end in _total")
        }
        var seen = Set<String>()
        for label in labelNames {
            guard isValidLabelName(label) else {
                throw Invalid(name: name, reason: "label \"\(label)\" must match [a-zA-Z_][a-zA-Z0-9_]*")
            }
            guard !label.hasPrefix("__") else {
                throw Invalid(name: name, reason: "label \"\(label)\" starts with the reserved __")
            }
            guard seen.insert(label).inserted else {
                throw Invalid(name: name, reason: "label \"\(label)\" appears twice")
            }
            if kind == .histogram, label == "le" {
                throw Invalid(name: name, reason: "a histogram cannot have a label named le")
            }
        }
    }

    static func isValidMetricName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, isLetter(first) || first == UInt8(ascii: "_") || first == UInt8(ascii: ":")
        else { return false }
        return bytes.dropFirst().allSatisfy {
            isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":")
        }
    }

    static func isValidLabelName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, isLetter(first) || first == UInt8(ascii: "_") else { return false }
        return bytes.dropFirst().allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }
    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
}
