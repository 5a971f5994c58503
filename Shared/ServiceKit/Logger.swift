import Foundation
import Glibc

/// Structured JSON log lines, one object per line, for every TierGuard executable.
///
/// A line reads `{"timestamp":"2026-12-02T06:46:38.123Z","level":"info","service":"tierguard-scorer",
/// "message":"...", ...metadata}`: the four fixed fields first, then metadata keys in sorted order, so
/// lines diff and grep well. Stable metadata keys are ``Key/jobID`` (`job.id`), ``Key/jobKind``,
/// ``Key/jobAttempt``, ``Key/traceID`` and friends; a metadata key equal to a fixed field is written as
/// `metadata.<key>` instead of overwriting it.
///
/// Personal data is masked by ``PersonalDataScrubber`` in the message and in every metadata value except
/// the identifiers listed in ``Key/unscrubbed`` (job ids and trace ids are not personal and must stay
/// searchable).
///
/// `Logger` is a value: `with(...)` returns a copy carrying more metadata, the usual way to give a job
/// handler a logger that names its job. Copies share the sink, which serialises writes.
public struct Logger: Sendable {
    /// Metadata values are strings: a log line is text, and this keeps the type `Sendable` and simple.
    public typealias Metadata = [String: String]

    /// Stable metadata keys shared by every service (the names dashboards and alerts rely on).
    public enum Key {
        public static let jobID = "job.id"
        public static let jobKind = "job.kind"
        public static let jobAttempt = "job.attempt"
        public static let jobQueue = "job.queue"
        public static let traceID = "trace_id"
        public static let spanID = "span_id"
        public static let error = "error"
        /// Keys whose values are generated identifiers, never personal data: exempt from scrubbing.
        public static let unscrubbed: Set<String> = [jobID, jobAttempt, traceID, spanID]
    }

    public let service: String
    /// Lines below this level are dropped before any formatting work.
    public var threshold: LogLevel
    /// Metadata written on every line of this logger (and of the loggers derived from it).
    public var metadata: Metadata
    public let sink: LogSink
    private let clock: @Sendable () -> Date

    public init(
        service: String, threshold: LogLevel = .info, metadata: Metadata = [:], sink: LogSink = .standardError,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.service = service
        self.threshold = threshold
        self.metadata = metadata
        self.sink = sink
        self.clock = clock
    }

    /// A copy with one more metadata entry.
    public func with(_ key: String, _ value: String) -> Logger {
        var copy = self
        copy.metadata[key] = value
        return copy
    }

    /// A copy with more metadata entries (later values win).
    public func with(_ extra: Metadata) -> Logger {
        var copy = self
        copy.metadata.merge(extra) { _, new in new }
        return copy
    }

    /// A copy naming the job it works on: `job.id`, `job.kind`, `job.attempt`.
    public func with(jobID: Int64, kind: String, attempt: Int) -> Logger {
        with([Key.jobID: String(jobID), Key.jobKind: kind, Key.jobAttempt: String(attempt)])
    }

    /// Whether a line at `level` would be written.
    public func isEnabled(_ level: LogLevel) -> Bool { level >= threshold }

    public func log(_ level: LogLevel, _ message: @autoclosure () -> String, metadata extra: Metadata = [:]) {
        guard level >= threshold else { return }
        var all = metadata
        if !extra.isEmpty { all.merge(extra) { _, new in new } }
        sink.write(line: format(level: level, message: message(), metadata: all, at: clock()))
    }

    public func trace(_ message: @autoclosure () -> String, metadata: Metadata = [:]) {
        log(.trace, message(), metadata: metadata)
    }
    public func debug(_ message: @autoclosure () -> String, metadata: Metadata = [:]) {
        log(.debug, message(), metadata: metadata)
    }
    public func info(_ message: @autoclosure () -> String, metadata: Metadata = [:]) {
        log(.info, message(), metadata: metadata)
    }
    public func notice(_ message: @autoclosure () -> String, metadata: Metadata = [:]) {
        log(.notice, message(), metadata: metadata)
    }
    public func warning(_ message: @autoclosure () -> String, metadata: Metadata = [:]) {
        log(.warning, message(), metadata: metadata)
    }
    public func error(_ message: @autoclosure () -> String, metadata: Metadata = [:]) {
        log(.error, message(), metadata: metadata)
    }
    public func critical(_ message: @autoclosure () -> String, metadata: Metadata = [:]) {
        log(.critical, message(), metadata: metadata)
    }

    static let fixedFields: Set<String> = ["timestamp", "level", "service", "message"]

    func format(level: LogLevel, message: String, metadata: Metadata, at date: Date) -> String {
        var out = "{\"timestamp\":\""
        out += Self.rfc3339Milliseconds(date)
        out += "\",\"level\":\""
        out += level.name
        out += "\",\"service\":"
        Self.appendJSONString(service, to: &out)
        out += ",\"message\":"
        Self.appendJSONString(PersonalDataScrubber.scrub(message), to: &out)
        for key in metadata.keys.sorted() {
            let value = metadata[key]!
            out += ","
            Self.appendJSONString(Self.fixedFields.contains(key) ? "metadata." + key : key, to: &out)
            out += ":"
            Self.appendJSONString(Key.unscrubbed.contains(key) ? value : PersonalDataScrubber.scrub(value), to: &out)
        }
        out += "}"
        return out
    }

    /// `2026-12-02T06:46:38.123Z`: RFC 3339, UTC, milliseconds (truncated, so a line never shows a later
    /// millisecond than the one it was written in).
    public static func rfc3339Milliseconds(_ date: Date) -> String {
        let totalMilliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(totalMilliseconds >= 0 ? totalMilliseconds / 1000 : (totalMilliseconds - 999) / 1000)
        let milliseconds = Int(totalMilliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + "\(pad(Int32(milliseconds), 3))Z"
    }

    /// Appends `value` as a JSON string literal (RFC 8259 escapes; non-ASCII written as UTF-8).
    public static func appendJSONString(_ value: String, to out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
