#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits a feed into numbered lines, streaming: memory stays at one buffer of about
/// `chunkSize + maxLineLength` bytes however large the file.
///
/// Rules, written once:
/// - Lines end at `\n`; one `\r` before it is dropped (CRLF files). A last line without `\n` counts.
/// - Lines are numbered from 1, every physical line, blank ones included (the caller skips blanks
///   and the number is kept).
/// - A UTF-8 byte order mark (EF BB BF) at the very start of the file is dropped; anywhere else it is
///   an ordinary character.
/// - A line longer than `maxLineLength` bytes (default 1 MiB, not counting the line end) is passed
///   on with the fault `.tooLong` and only its first 4,096 bytes; the rest is skipped, never buffered.
/// - A line with a NUL byte or invalid UTF-8 is passed on with that fault (first offending byte).
/// - Encodings (`FeedEncoding`): with `.gbk` the input is transcoded from GB18030 to UTF-8 before lines
///   are split (`GB18030Transcoder`, fixed buffers); with `.utf8` and `refusesGBK`, a line that looks
///   GBK-encoded (`GBKDetector`) stops the read with `FeedFileError.notUTF8` naming the file, line and byte.
///
/// Not thread-safe: one reader is driven by one caller, and `bytes` of a line is valid only inside the
/// callback.
public final class FeedLineReader {
    /// 1 MiB: a record is a few hundred bytes, so a longer line is garbage or an attack.
    public static let defaultMaxLineLength = 1 << 20
    /// Bytes kept of an overlong line for its reject's raw text.
    public static let overlongPrefixLength = 4096

    /// One physical line.
    public struct Line {
        /// 1-based physical line number.
        public let number: Int
        /// The line without its end (`\n`, `\r\n`) and without the BOM; only valid inside the callback.
        public let bytes: UnsafeBufferPointer<UInt8>
        /// Why the line cannot be a record, or nil.
        public let fault: Fault?
        /// Whether the line ended with `\r\n` (the `\r` is not in `bytes`): a CSV record whose quoted
        /// field spans lines keeps the line end it was sent with (RFC 4180).
        public var endsWithCR = false

        /// Empty or only spaces, tabs and carriage returns.
        public var isBlank: Bool {
            for b in bytes where b != 0x20 && b != 0x09 && b != 0x0D { return false }
            return true
        }
    }

    /// A line-level fault.
    public enum Fault: Hashable, Sendable {
        /// `length` bytes (without the line end) over the limit of `limit`.
        case tooLong(length: Int, limit: Int)
        /// A NUL byte at `offset` (0-based).
        case containsNUL(offset: Int)
        /// An invalid UTF-8 sequence starting at `offset` (0-based).
        case invalidUTF8(offset: Int)
        /// With `FeedEncoding.gbk`: a byte sequence that is not GB18030, at `offset` (0-based) of the line
        /// as transcoded to UTF-8.
        case invalidGB18030(offset: Int)

        /// The reject reason without the `line N: ` prefix.
        public var reason: String {
            switch self {
            case .tooLong(let length, let limit):
                "line is \(length) bytes, longer than the limit of \(limit) bytes"
            case .containsNUL(let offset):
                "NUL byte at byte \(offset + 1); a feed is UTF-8 text without NUL"
            case .invalidUTF8(let offset):
                "not valid UTF-8 at byte \(offset + 1) (is the file GBK or another encoding? feeds are UTF-8)"
            case .invalidGB18030(let offset):
                "not valid GB18030 at byte \(offset + 1) of the line as transcoded to UTF-8 (the feed is read as GBK: TIERGUARD_FEED_ENCODING=gbk)"
            }
        }
    }

    private enum Source {
        case descriptor(Int32, close: Bool)
        case bytes([UInt8], position: Int)
    }

    public let maxLineLength: Int
    /// What the input is: UTF-8 as it stands, or GB18030 transcoded while streaming.
    public let encoding: FeedEncoding
    /// With `.utf8`: refuse the whole input (`FeedFileError.notUTF8`) at the first line that looks
    /// GBK-encoded (`GBKDetector`), instead of rejecting that line. Off by default so the reader alone
    /// reports every line's fault; `FeedIngestor` turns it on for every feed.
    public var refusesGBK = false
    /// The file's name for messages (`init(path:)` sets it; `FeedIngestor` sets the batch's file name).
    public var sourceName: String?
    private let chunkSize: Int
    private var source: Source
    private let transcoder: GB18030Transcoder?
    private lazy var gbkDetector = GBKDetector()
    /// A valid line with a 3- or 4-byte UTF-8 sequence (Chinese text in UTF-8) came before: the file is
    /// UTF-8, and a later GBK-looking line is that line's fault, not the file's (`GBKDetector`).
    private var sawCJKUTF8 = false
    private let buffer: UnsafeMutablePointer<UInt8>
    private let capacity: Int

    /// Opens `path` for reading.
    public convenience init(path: String, maxLineLength: Int = FeedLineReader.defaultMaxLineLength,
                            chunkSize: Int = 1 << 20, encoding: FeedEncoding = .utf8) throws(FeedFileError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw FeedFileError(code: .readFailed, message: "cannot open feed \(path): \(String(cString: strerror(code)))")
        }
        do {
            try self.init(fileDescriptor: fd, closeWhenDone: true, maxLineLength: maxLineLength, chunkSize: chunkSize,
                          encoding: encoding)
        } catch {
            _ = close(fd)
            throw error
        }
        sourceName = path
    }

    /// Reads from an open descriptor (stdin is 0) in `encoding`; closes it when the reader goes away if
    /// `closeWhenDone`. Throws only for `.gbk` when iconv cannot convert GB18030 (the descriptor is then
    /// left open).
    public convenience init(fileDescriptor: Int32, closeWhenDone: Bool = false,
                            maxLineLength: Int = FeedLineReader.defaultMaxLineLength, chunkSize: Int = 1 << 20,
                            encoding: FeedEncoding = .utf8) throws(FeedFileError) {
        self.init(source: .descriptor(fileDescriptor, close: closeWhenDone), maxLineLength: maxLineLength,
                  chunkSize: chunkSize, encoding: encoding, transcoder: encoding == .gbk ? try GB18030Transcoder() : nil)
    }

    /// Bytes a pending line may hold past `maxLineLength` before it is skipped as overlong: its `\r`,
    /// and on line 1 a BOM. Without the BOM's 3 bytes a BOM-prefixed first line would be judged by
    /// where the chunks happen to end (found by deploy/fuzz).
    static let lineEndAndBOMSlack = 4

    /// Reads from bytes in memory (an HTTP body, a test) in `encoding`, in `chunkSize` pieces like a file;
    /// throws only for `.gbk` when iconv cannot convert GB18030.
    public convenience init(bytes: [UInt8], maxLineLength: Int = FeedLineReader.defaultMaxLineLength,
                            chunkSize: Int = 1 << 20, encoding: FeedEncoding = .utf8) throws(FeedFileError) {
        self.init(source: .bytes(bytes, position: 0), maxLineLength: maxLineLength, chunkSize: chunkSize,
                  encoding: encoding, transcoder: encoding == .gbk ? try GB18030Transcoder() : nil)
    }

    private init(source: Source, maxLineLength: Int, chunkSize: Int, encoding: FeedEncoding,
                 transcoder: GB18030Transcoder?) {
        precondition(maxLineLength > 0 && chunkSize > 0)
        self.maxLineLength = maxLineLength
        self.encoding = encoding
        self.transcoder = transcoder
        self.chunkSize = chunkSize
        self.source = source
        self.capacity = chunkSize + maxLineLength + FeedLineReader.lineEndAndBOMSlack
        self.buffer = .allocate(capacity: capacity)
    }

    deinit {
        if case .descriptor(let fd, close: true) = source { _ = close(fd) }
        buffer.deallocate()
    }

    /// Reads up to `count` bytes of UTF-8 (transcoded, with `.gbk`) into `into`; 0 at the end.
    private func fill(_ into: UnsafeMutablePointer<UInt8>, _ count: Int) throws(FeedFileError) -> Int {
        guard let transcoder else { return try fillRaw(into, count) }
        return try transcoder.read(into: into, count) { (p, n) throws(FeedFileError) -> Int in try fillRaw(p, n) }
    }

    /// Reads up to `count` bytes of the input as it is into `into`; 0 at the end.
    private func fillRaw(_ into: UnsafeMutablePointer<UInt8>, _ count: Int) throws(FeedFileError) -> Int {
        switch source {
        case .descriptor(let fd, _):
            while true {
                let n = read(fd, into, count)
                if n >= 0 { return n }
                let code = errno
                if code == EINTR { continue }
                throw FeedFileError(code: .readFailed, message: "reading the feed failed: \(String(cString: strerror(code)))")
            }
        case .bytes(let bytes, let position):
            let n = min(count, bytes.count - position)
            if n > 0 {
                bytes.withUnsafeBufferPointer { b in into.update(from: b.baseAddress! + position, count: n) }
            }
            source = .bytes(bytes, position: position + n)
            return n
        }
    }

    /// Calls `body` for every physical line, in order, until the end of the input. Call it once: the
    /// input is consumed (a second call sees nothing more).
    public func forEachLine(_ body: (Line) throws -> Void) throws {
        var lineNumber = 0
        var lo = 0, hi = 0
        var scanFrom = 0
        var atEnd = false
        // Overlong line being skipped: its prefix and length so far, and whether its last byte so far
        // is a `\r` (which is not counted when the `\n` comes at the start of the next chunk).
        var skipping = false
        var skippedLength = 0
        var skippedEndsInCR = false
        // Room for a BOM on line 1 on top of the prefix.
        let prefix = UnsafeMutablePointer<UInt8>.allocate(capacity: FeedLineReader.overlongPrefixLength + 3)
        defer { prefix.deallocate() }
        var prefixCount = 0

        func emit(_ start: UnsafePointer<UInt8>, _ rawCount: Int) throws {
            lineNumber += 1
            var p = start
            var count = rawCount
            let endsWithCR = count > 0 && p[count - 1] == 0x0D
            if endsWithCR { count -= 1 }
            if lineNumber == 1 && count >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF {
                p += 3
                count -= 3
            }
            if count > maxLineLength {
                try body(Line(number: lineNumber,
                              bytes: UnsafeBufferPointer(start: p, count: min(count, FeedLineReader.overlongPrefixLength)),
                              fault: .tooLong(length: count, limit: maxLineLength)))
                return
            }
            var fault: Fault?
            switch firstByteFault(p, count) {
            case nil: fault = nil
            case .nul(let offset): fault = .containsNUL(offset: offset)
            case .invalidUTF8(let offset) where encoding == .gbk: fault = .invalidGB18030(offset: offset)
            case .invalidUTF8(let offset):
                if refusesGBK && !sawCJKUTF8 && gbkDetector.looksGBK(UnsafeBufferPointer(start: p, count: count), invalidAt: offset) {
                    throw FeedFileError(code: .notUTF8, message: """
                        \(sourceName ?? "the feed") looks GBK-encoded at line \(lineNumber) byte \(offset + 1); feeds are \
                        UTF-8: re-send it as UTF-8, or set TIERGUARD_FEED_ENCODING=gbk (tierguard-ingest load|watch \
                        --encoding gbk) to transcode it; nothing of it was applied
                        """)
                }
                fault = .invalidUTF8(offset: offset)
            }
            if fault == nil && refusesGBK && !sawCJKUTF8 && GBKDetector.hasMultibyteUTF8(p, count) { sawCJKUTF8 = true }
            try body(Line(number: lineNumber, bytes: UnsafeBufferPointer(start: p, count: count), fault: fault, endsWithCR: endsWithCR))
        }

        // Keeps the first bytes of the line being skipped, up to the prefix length.
        func keepPrefix(_ from: UnsafePointer<UInt8>, _ count: Int) {
            let n = min(count, FeedLineReader.overlongPrefixLength + 3 - prefixCount)
            guard n > 0 else { return }
            (prefix + prefixCount).update(from: from, count: n)
            prefixCount += n
        }

        func emitSkipped() throws {
            lineNumber += 1
            // The same BOM rule as `emit`: dropped from line 1, in its text and its length.
            var p = UnsafePointer(prefix)
            var count = prefixCount
            if lineNumber == 1 && count >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF {
                p += 3
                count -= 3
                skippedLength -= 3
            }
            // `skippedLength` leaves out the `\r` the prefix may end with.
            try body(Line(number: lineNumber,
                          bytes: UnsafeBufferPointer(start: p, count: min(count, skippedLength, FeedLineReader.overlongPrefixLength)),
                          fault: .tooLong(length: skippedLength, limit: maxLineLength)))
            skipping = false
            skippedLength = 0
            prefixCount = 0
        }

        while true {
            if scanFrom < hi, let found = memchr(buffer + scanFrom, 0x0A, hi - scanFrom) {
                let nl = buffer.distance(to: found.assumingMemoryBound(to: UInt8.self))
                if skipping {
                    skippedLength += nl - lo
                    keepPrefix(buffer + lo, nl - lo)
                    if nl > lo ? buffer[nl - 1] == 0x0D : skippedEndsInCR { skippedLength -= 1 }
                    try emitSkipped()
                } else {
                    try emit(buffer + lo, nl - lo)
                }
                lo = nl + 1
                scanFrom = lo
                continue
            }
            // No line end in [lo, hi).
            if skipping {
                skippedLength += hi - lo
                keepPrefix(buffer + lo, hi - lo)
                if hi > lo { skippedEndsInCR = buffer[hi - 1] == 0x0D }
                lo = hi
            } else if hi - lo > maxLineLength + (lineNumber == 0 ? FeedLineReader.lineEndAndBOMSlack : 1) {
                // +1: a line of exactly the limit may still be waiting for its "\r\n"; line 1 may
                // also start with a 3-byte BOM that does not count.
                skipping = true
                prefixCount = 0
                keepPrefix(buffer + lo, hi - lo)
                skippedLength = hi - lo
                skippedEndsInCR = buffer[hi - 1] == 0x0D
                lo = hi
            }
            if atEnd { break }
            if lo > 0 {
                let kept = hi - lo
                if kept > 0 { memmove(buffer, buffer + lo, kept) }
                lo = 0
                hi = kept
            }
            scanFrom = hi
            let n = try fill(buffer + hi, min(chunkSize, capacity - hi))
            if n == 0 { atEnd = true } else { hi += n }
        }
        if skipping {
            try emitSkipped()
        } else if hi > lo {
            try emit(buffer + lo, hi - lo)
        }
    }
}
