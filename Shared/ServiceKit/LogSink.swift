import Glibc
import Synchronization

/// Where finished log lines go: standard error in services, memory in tests.
///
/// Each line is written whole under a lock, so lines from many threads never interleave.
public final class LogSink: Sendable {
    private enum Target: Sendable {
        case fileDescriptor(Int32)
        case memory
        case closure(@Sendable (String) -> Void)
    }

    private let target: Target
    private let state = Mutex<[String]>([])

    private init(target: Target) { self.target = target }

    /// File descriptor 2, one `write(2)` loop per line.
    public static let standardError = LogSink(target: .fileDescriptor(2))

    /// Keeps every line in memory; read them with ``lines``.
    public static func memory() -> LogSink { LogSink(target: .memory) }

    /// Hands each line (without its newline) to a closure, e.g. to forward it elsewhere.
    public static func custom(_ write: @escaping @Sendable (String) -> Void) -> LogSink {
        LogSink(target: .closure(write))
    }

    /// The lines written so far (memory sinks only; empty otherwise).
    public var lines: [String] { state.withLock { $0 } }

    /// Writes one line; the sink appends the newline.
    public func write(line: String) {
        switch target {
        case .memory:
            state.withLock { $0.append(line) }
        case .closure(let write):
            state.withLock { _ in write(line) }
        case .fileDescriptor(let fd):
            var bytes = Array(line.utf8)
            bytes.append(UInt8(ascii: "\n"))
            state.withLock { _ in
                var offset = 0
                while offset < bytes.count {
                    let written = bytes.withUnsafeBytes { buffer in
                        Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    }
                    if written < 0 {
                        if errno == EINTR { continue }
                        return  // stderr closed: nowhere left to report it
                    }
                    offset += written
                }
            }
        }
    }
}
