import FeedContract
import Foundation
import Testing

@Suite struct FeedLineReaderTests {
    func lines(_ bytes: [UInt8], maxLineLength: Int = 1 << 20, chunkSize: Int = 1 << 20) throws -> [(Int, String, FeedLineReader.Fault?)] {
        var out: [(Int, String, FeedLineReader.Fault?)] = []
        try FeedLineReader(bytes: bytes, maxLineLength: maxLineLength, chunkSize: chunkSize).forEachLine { line in
            out.append((line.number, String(decoding: line.bytes, as: UTF8.self), line.fault))
        }
        return out
    }

    @Test func stripsCRLFAndKeepsALastLineWithoutNewline() throws {
        let got = try lines(Array("a\r\nb\n\r\nc".utf8))
        #expect(got.map(\.0) == [1, 2, 3, 4])
        #expect(got.map(\.1) == ["a", "b", "", "c"])
    }

    @Test func stripsOnlyOneCarriageReturnAndOnlyBeforeNewline() throws {
        #expect(try lines(Array("a\r\r\nb\rc\n".utf8)).map(\.1) == ["a\r", "b\rc"])
    }

    @Test func dropsAByteOrderMarkOnlyAtTheStartOfTheFile() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let got = try lines(bom + Array("x\n".utf8) + bom + Array("y\n".utf8))
        #expect(got.map(\.1) == ["x", "\u{FEFF}y"])
    }

    @Test func aFeedWithBOMCRLFAndNoFinalNewlineDecodes() throws {
        let text = Sample.balance.text + "\r\n" + Sample.account.text
        let items = try decode(bytes: [0xEF, 0xBB, 0xBF] + Array(text.utf8))
        #expect(items.map { $0.record?.recordType } == [.balance, .account])
    }

    @Test func emptyInputHasNoLines() throws {
        #expect(try lines([]).isEmpty)
        #expect(try lines([0xEF, 0xBB, 0xBF]).map(\.1) == [""])
    }

    @Test func flagsNULAndInvalidUTF8WithTheirByte() throws {
        let got = try lines(Array("ok\n".utf8) + [0x61, 0x00, 0x62, 0x0A] + [0x61, 0x62, 0xC3, 0x28, 0x0A] + [0xD6, 0xD0, 0xCE, 0xC4])
        #expect(got[0].2 == nil)
        #expect(got[1].2 == .containsNUL(offset: 1))
        #expect(got[2].2 == .invalidUTF8(offset: 2))
        #expect(got[3].2 == .invalidUTF8(offset: 0))  // 中文 in GBK
    }

    @Test func refusesOverlongEncodingsSurrogatesAndTooHighCodePoints() throws {
        let bad: [[UInt8]] = [[0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF], [0xE4, 0xB8]]
        for bytes in bad {
            #expect(try lines(bytes).first?.2 == .invalidUTF8(offset: 0), "\(bytes)")
        }
        let good = Array("中文 ✓ 𝄞 é".utf8)
        #expect(try lines(good).first?.2 == nil)
    }

    @Test func lineFaultsBecomeRejectsAndTheRestOfTheFeedGoesOn() throws {
        let bytes = Array((Sample.balance.text + "\n").utf8) + [0x7B, 0x00, 0x7D, 0x0A] + [0x7B, 0xFF, 0x7D, 0x0A]
            + Array(Sample.balance.text.utf8)
        let items = try decode(bytes: bytes)
        #expect(items.count == 4)
        #expect(items[1].reject?.reason == "line 2: NUL byte at byte 2; a feed is UTF-8 text without NUL")
        #expect(items[1].reject?.rawText == "{\u{FFFD}}")
        #expect(items[2].reject?.reason == "line 3: not valid UTF-8 at byte 2 (is the file GBK or another encoding? feeds are UTF-8)")
        #expect(items[2].reject?.rawText == "{\u{FFFD}}")
        #expect(items[3].record != nil)
    }

    @Test func anOverlongLineIsRejectedWithoutBufferingIt() throws {
        // Limit 100 bytes, chunks of 16 bytes: the 10,000-byte line is skipped piece by piece.
        let long = String(repeating: "x", count: 10_000)
        let text = "short\n\(long)\nafter\n\(String(repeating: "y", count: 100))\n\(String(repeating: "z", count: 101))"
        let got = try lines(Array(text.utf8), maxLineLength: 100, chunkSize: 16)
        #expect(got.map(\.0) == [1, 2, 3, 4, 5])
        #expect(got[0].1 == "short" && got[2].1 == "after")
        #expect(got[1].2 == .tooLong(length: 10_000, limit: 100))
        #expect(got[1].1.count <= FeedLineReader.overlongPrefixLength)
        #expect(got[3].2 == nil)  // exactly the limit
        #expect(got[4].2 == .tooLong(length: 101, limit: 100))
    }

    @Test func anOverlongLineBecomesAReject() throws {
        let text = Sample.balance.text + "\n{\"type\":\"balance\",\"pad\":\"\(String(repeating: "p", count: 5000))\"}\n" + Sample.balance.text
        let items = try decode(bytes: Array(text.utf8), maxLineLength: 1000, chunkSize: 64)
        #expect(items.count == 3)
        let reject = try #require(items[1].reject)
        #expect(reject.reason == "line 2: line is 5027 bytes, longer than the limit of 1000 bytes")
        #expect(reject.rawText.hasSuffix("…"))
        #expect(items[2].record != nil)
    }

    @Test func chunkBoundariesDoNotChangeTheLines() throws {
        var text = ""
        for i in 0..<200 { text += String(repeating: "a", count: i % 37) + (i % 3 == 0 ? "\r\n" : "\n") }
        let reference = try lines(Array(text.utf8))
        for chunk in [1, 2, 3, 7, 64, 4096] {
            let got = try lines(Array(text.utf8), maxLineLength: 64, chunkSize: chunk)
            #expect(got.map(\.1) == reference.map(\.1), "chunk \(chunk)")
            #expect(got.map(\.0) == reference.map(\.0))
        }
    }

    @Test func readsAFileFromDisk() throws {
        let path = NSTemporaryDirectory() + "feed-reader-\(UInt32.random(in: 0...UInt32.max)).ndjson"
        let text = Sample.customer.text + "\n" + Sample.transaction.text + "\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var items: [FeedItem] = []
        try FeedDecoder.decode(FeedLineReader(path: path, chunkSize: 50), format: .ndjson) { items.append($0) }
        #expect(items.map { $0.record?.recordType } == [.customer, .transaction])
    }

    @Test func aMissingFileIsAFileError() {
        #expect(throws: FeedFileError.self) { try FeedLineReader(path: "/nonexistent/feed.ndjson") }
    }
}
