#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The character encoding a feed is read in. Feeds are UTF-8; GBK is accepted only when configured.
///
/// - `utf8` (the contract): invalid UTF-8 is a line fault (that line rejected, the rest read). A reader
///   that `refusesGBK` (every feed `FeedIngestor` reads) instead refuses the whole file when a line
///   looks GBK-encoded (`GBKDetector`): a GBK export is an upstream mistake, and applying its ASCII-only
///   lines while rejecting every line with a Chinese name would half-apply it.
/// - `gbk`: the bytes are GB18030 (a superset of GBK and GB2312) and are transcoded to UTF-8 while
///   streaming, by Glibc's iconv (`iconv_open("UTF-8", "GB18030")`), in fixed buffers (`GB18030Transcoder`),
///   before lines are split. A byte sequence that is not GB18030 becomes one 0xFF byte, which the line's
///   UTF-8 check then reports (`Fault.invalidGB18030`): that line is rejected, the rest read.
///   Configured per process (`TIERGUARD_FEED_ENCODING=gbk`) or per `tierguard-ingest load|watch --encoding gbk`;
///   a UTF-8 file read as GBK turns into mojibake rather than an error, so the setting belongs to a
///   source known to send GBK.
public enum FeedEncoding: String, Sendable, Hashable, CaseIterable {
    case utf8
    case gbk

    /// Parses a setting value: `utf8`/`utf-8` or `gbk`/`gb18030` (any case).
    public init?(setting: String) {
        switch setting.lowercased() {
        case "utf8", "utf-8": self = .utf8
        case "gbk", "gb18030", "gb2312": self = .gbk
        default: return nil
        }
    }
}

/// Tells a GBK-encoded file from a UTF-8 file with a few stray invalid bytes, for
/// `FeedLineReader.refusesGBK`.
///
/// The rule: the file is refused as a whole at the first line that is not valid UTF-8 and "looks GBK":
/// 1. its first invalid UTF-8 byte and the one after it are both in 0xA1–0xFE, the GB2312 double-byte
///    block where every Chinese character of GB2312 lies (张 D5 C5, 三 C8 FD, 中 D6 D0), and
/// 2. the whole line converts cleanly from GB18030 (iconv: no invalid and no unfinished sequence), and
/// 3. no earlier line was valid UTF-8 with a 3- or 4-byte sequence (Chinese text in UTF-8): once the
///    file has shown UTF-8 Chinese it is a UTF-8 file, and one GBK line in it (a name pasted from a
///    legacy system, as the sample feeds carry) is that line's reject.
/// Anything else keeps the per-line reject: a stray 0xFF, 0x80 or a lone lead byte before ASCII (not
/// GB18030), or Latin-1 text (é before an ASCII letter is a valid GBK pair but not in the GB2312
/// block). The misjudgment left is safe: a UTF-8 file whose first non-ASCII text is a stray byte in
/// 0xA1–0xFE right before Chinese may look GBK, and then it is refused with the reason, nothing
/// applied, rather than stored wrongly.
final class GBKDetector {
    private let cd: iconv_t?
    private let scratch: UnsafeMutablePointer<UInt8>
    private static let scratchSize = 4096

    init() {
        let opened = iconv_open("UTF-8", "GB18030")
        cd = Int(bitPattern: opened) == -1 ? nil : opened
        scratch = .allocate(capacity: GBKDetector.scratchSize)
    }

    deinit {
        if let cd { _ = iconv_close(cd) }
        scratch.deallocate()
    }

    /// Whether valid UTF-8 `p[0..<count]` holds a 3- or 4-byte sequence (a lead byte ≥ 0xE0); ASCII is
    /// skipped eight bytes at a time.
    static func hasMultibyteUTF8(_ p: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i + 8 <= count {
            if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { break }
            i += 8
        }
        while i < count {
            if p[i] >= 0xE0 { return true }
            i += 1
        }
        return false
    }

    /// Whether `line`, whose first invalid UTF-8 sequence starts at `invalidAt`, looks GBK-encoded
    /// (conditions 1 and 2; the reader keeps condition 3).
    func looksGBK(_ line: UnsafeBufferPointer<UInt8>, invalidAt: Int) -> Bool {
        guard let cd, let base = line.baseAddress, invalidAt + 1 < line.count,
              (0xA1...0xFE).contains(line[invalidAt]), (0xA1...0xFE).contains(line[invalidAt + 1]) else { return false }
        _ = iconv(cd, nil, nil, nil, nil)  // reset the (stateless) converter
        var input: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(mutating: base).assumingMemoryBound(to: CChar.self)
        var inputLeft = line.count
        while inputLeft > 0 {
            var output: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(scratch).assumingMemoryBound(to: CChar.self)
            var outputLeft = GBKDetector.scratchSize
            if iconv(cd, &input, &inputLeft, &output, &outputLeft) == -1 && errno != E2BIG { return false }
        }
        return true
    }
}

/// GB18030 → UTF-8 while streaming, through Glibc's iconv; memory stays at two fixed buffers
/// (`rawCapacity` in, three times that out) however large the file.
///
/// Not thread-safe: owned by one `FeedLineReader`.
final class GB18030Transcoder {
    static let rawCapacity = 64 * 1024
    private static let outCapacity = 3 * rawCapacity
    private let cd: iconv_t
    private let raw = UnsafeMutablePointer<UInt8>.allocate(capacity: GB18030Transcoder.rawCapacity)
    private var rawStart = 0, rawEnd = 0
    private var rawAtEnd = false
    /// The buffered input ends inside a sequence: read more before converting again.
    private var needsMore = false
    private let out = UnsafeMutablePointer<UInt8>.allocate(capacity: GB18030Transcoder.outCapacity)
    private var outStart = 0, outEnd = 0

    init() throws(FeedFileError) {
        let opened = iconv_open("UTF-8", "GB18030")
        guard Int(bitPattern: opened) != -1, let opened else {
            let code = errno
            raw.deallocate()
            out.deallocate()
            throw FeedFileError(code: .notUTF8, message: "cannot transcode GB18030 to UTF-8 (iconv_open: \(String(cString: strerror(code)))); is the glibc gconv module GB18030 installed?")
        }
        cd = opened
    }

    deinit {
        _ = iconv_close(cd)
        raw.deallocate()
        out.deallocate()
    }

    /// Writes up to `count` UTF-8 bytes into `into`, reading raw bytes through `source`; 0 only at the end.
    func read(into: UnsafeMutablePointer<UInt8>, _ count: Int,
              source: (UnsafeMutablePointer<UInt8>, Int) throws(FeedFileError) -> Int) throws(FeedFileError) -> Int {
        while outStart == outEnd {
            if rawAtEnd && rawStart == rawEnd { return 0 }
            try convert(source)
        }
        let n = min(count, outEnd - outStart)
        into.update(from: out + outStart, count: n)
        outStart += n
        return n
    }

    /// Refills `out` from the raw buffer, reading more raw bytes when it is empty or ends mid-sequence.
    private func convert(_ source: (UnsafeMutablePointer<UInt8>, Int) throws(FeedFileError) -> Int) throws(FeedFileError) {
        outStart = 0
        outEnd = 0
        if rawStart == rawEnd || needsMore {
            if rawStart > 0 {
                let kept = rawEnd - rawStart
                if kept > 0 { memmove(raw, raw + rawStart, kept) }
                rawStart = 0
                rawEnd = kept
            }
            if !rawAtEnd {
                let n = try source(raw + rawEnd, GB18030Transcoder.rawCapacity - rawEnd)
                if n == 0 { rawAtEnd = true } else { rawEnd += n }
            }
            needsMore = false
        }
        guard rawStart < rawEnd else { return }
        var input: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(raw + rawStart).assumingMemoryBound(to: CChar.self)
        var inputLeft = rawEnd - rawStart
        var output: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(out).assumingMemoryBound(to: CChar.self)
        var outputLeft = GB18030Transcoder.outCapacity
        let result = iconv(cd, &input, &inputLeft, &output, &outputLeft)
        let code = errno
        rawStart = rawEnd - inputLeft
        outEnd = GB18030Transcoder.outCapacity - outputLeft
        guard result == -1 else { return }
        switch code {
        case E2BIG:
            break  // `out` is full; the rest converts on the next call
        case EINVAL where !rawAtEnd:
            needsMore = true  // a sequence continues in bytes not read yet
        default:
            // EILSEQ (not GB18030), or EINVAL at the end of the input (an unfinished sequence): one
            // 0xFF byte (never valid UTF-8) in place of one raw byte, so the line is rejected.
            guard outEnd < GB18030Transcoder.outCapacity else { return }
            out[outEnd] = 0xFF
            outEnd += 1
            rawStart += 1
        }
    }
}
