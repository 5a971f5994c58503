import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Test feeds in GB18030 (a superset of GBK), made from UTF-8 text written in the tests with Glibc's
/// iconv — the converter `FeedLineReader` uses to transcode, so a test's bytes are exactly what an
/// upstream GBK system would send.
public enum GB18030Text {
    public struct ConversionFailure: Error, CustomStringConvertible {
        public var description: String
    }

    /// `text` in GB18030 (UTF-8 → GB18030 through iconv).
    public static func bytes(_ text: String) throws -> [UInt8] {
        let cd = iconv_open("GB18030", "UTF-8")
        guard Int(bitPattern: cd) != -1 else { throw ConversionFailure(description: "iconv cannot convert to GB18030 here") }
        defer { _ = iconv_close(cd) }
        var input = Array(text.utf8)
        // GB18030 takes at most 4 bytes per character, UTF-8 at least 1: twice the UTF-8 length is
        // enough for every character of 2–4 UTF-8 bytes, and ASCII stays one byte.
        var output = [UInt8](repeating: 0, count: input.count * 2 + 16)
        let written = input.withUnsafeMutableBytes { inRaw in
            output.withUnsafeMutableBytes { outRaw -> Int in
                var inPointer: UnsafeMutablePointer<CChar>? = inRaw.baseAddress?.assumingMemoryBound(to: CChar.self)
                var inLeft = inRaw.count
                var outPointer: UnsafeMutablePointer<CChar>? = outRaw.baseAddress?.assumingMemoryBound(to: CChar.self)
                var outLeft = outRaw.count
                return iconv(cd, &inPointer, &inLeft, &outPointer, &outLeft) == -1 ? -1 : outRaw.count - outLeft
            }
        }
        guard written >= 0 else { throw ConversionFailure(description: "iconv could not convert \(text.debugDescription) to GB18030") }
        return Array(output.prefix(written))
    }
}
