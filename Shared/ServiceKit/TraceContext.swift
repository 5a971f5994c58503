/// A W3C Trace Context `traceparent` (`00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`).
///
/// Carried on each job row and copied to the jobs it causes, so one feed's path through ingest, scorer
/// and notifier shares a trace id that appears in every log line (``Logger/Key/traceID``).
public struct TraceContext: Sendable, Hashable, CustomStringConvertible {
    /// 32 lowercase hex digits, not all zero.
    public let traceID: String
    /// 16 lowercase hex digits, not all zero: the span that caused the current work.
    public let parentID: String
    /// Bit 0 is "sampled".
    public let flags: UInt8

    /// Parses a `traceparent` header or column value; `nil` when malformed (then start a new trace).
    /// Version `00` must have exactly four fields; a later version may append fields (spec §3.2.4).
    public init?(traceparent: String) {
        let parts = traceparent.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, Self.isHex(parts[0]), parts[0] != "ff" else { return nil }
        if parts[0] == "00", parts.count != 4 { return nil }
        guard parts[1].count == 32, Self.isHex(parts[1]), parts[1] != String(repeating: "0", count: 32),
            parts[2].count == 16, Self.isHex(parts[2]), parts[2] != String(repeating: "0", count: 16),
            parts[3].count == 2, Self.isHex(parts[3]), let flags = UInt8(parts[3], radix: 16)
        else { return nil }
        traceID = String(parts[1])
        parentID = String(parts[2])
        self.flags = flags
    }

    public init?(traceID: String, parentID: String, flags: UInt8 = 1) {
        self.init(traceparent: "00-\(traceID)-\(parentID)-" + Self.hexByte(flags))
    }

    private init(unchecked traceID: String, parentID: String, flags: UInt8) {
        self.traceID = traceID
        self.parentID = parentID
        self.flags = flags
    }

    /// A new trace with random ids, sampled.
    public static func random() -> TraceContext {
        var generator = SystemRandomNumberGenerator()
        return TraceContext(unchecked: randomHex(bytes: 16, &generator), parentID: randomHex(bytes: 8, &generator), flags: 1)
    }

    /// The same trace with a new span id: the context to hand to work this work causes.
    public func child() -> TraceContext {
        var generator = SystemRandomNumberGenerator()
        return TraceContext(unchecked: traceID, parentID: Self.randomHex(bytes: 8, &generator), flags: flags)
    }

    public var isSampled: Bool { flags & 1 == 1 }

    /// The header value, version `00`.
    public var traceparent: String { "00-\(traceID)-\(parentID)-" + Self.hexByte(flags) }

    public var description: String { traceparent }

    private static func isHex(_ text: Substring) -> Bool {
        text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    private static func hexByte(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }

    private static func randomHex(bytes: Int, _ generator: inout SystemRandomNumberGenerator) -> String {
        while true {
            var text = ""
            var allZero = true
            for _ in 0..<bytes {
                let byte = UInt8.random(in: 0...255, using: &generator)
                if byte != 0 { allZero = false }
                text += hexByte(byte)
            }
            if !allZero { return text }
        }
    }
}
