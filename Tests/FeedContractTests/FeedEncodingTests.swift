import FeedContract
import Foundation
import TestSupport
import Testing

/// GBK feeds (issue 10, "Ingest: encodings"): refused as a whole when the reader `refusesGBK`, or
/// transcoded with `FeedEncoding.gbk`; stray invalid bytes keep the per-line reject. GBK bytes come
/// from Glibc's iconv, the same converter the reader uses, from UTF-8 text written here.
@Suite struct FeedEncodingTests {
    /// `text` in GB18030 (`TestSupport.GB18030Text`).
    static func gbk(_ text: String) throws -> [UInt8] { try GB18030Text.bytes(text) }

    static let customer = #"{"type":"customer","customer_id":"C1","name":"张三","id_type":"passport","id_number":"E1234567","risk_level":"C3","risk_assessed_on":"2026-01-05","rm_id":"RM1","branch_id":"B1","opened_on":"2020-01-01","status":"active"}"#
    static let account = #"{"type":"account","account_id":"A1","customer_id":"C1","product":"demand_deposit","currency":"CNY","opened_on":"2020-01-01"}"#

    func read(_ bytes: [UInt8], encoding: FeedEncoding = .utf8, refusesGBK: Bool = true,
              chunkSize: Int = 1 << 20) throws -> [(Int, String, FeedLineReader.Fault?)] {
        let reader = try FeedLineReader(bytes: bytes, chunkSize: chunkSize, encoding: encoding)
        reader.refusesGBK = refusesGBK
        reader.sourceName = "feed.ndjson"
        var out: [(Int, String, FeedLineReader.Fault?)] = []
        try reader.forEachLine { line in out.append((line.number, String(decoding: line.bytes, as: UTF8.self), line.fault)) }
        return out
    }

    @Test func theGBKSampleIsNotUTF8() throws {
        #expect(try Self.gbk("张三") == [0xD5, 0xC5, 0xC8, 0xFD])
    }

    @Test func aGBKFileIsRefusedAsAWholeNamingFileLineAndByte() throws {
        let bytes = try Array((Self.account + "\n" + Self.account + "\n").utf8) + Self.gbk(Self.customer + "\n")
        let byte = Array(#"{"type":"customer","customer_id":"C1","name":""#.utf8).count + 1
        let error = #expect(throws: FeedFileError.self) { try read(bytes) }
        #expect(error?.code == .notUTF8)
        #expect(error?.message == "feed.ndjson looks GBK-encoded at line 3 byte \(byte); feeds are UTF-8: re-send it as UTF-8, or set TIERGUARD_FEED_ENCODING=gbk (tierguard-ingest load|watch --encoding gbk) to transcode it; nothing of it was applied")
    }

    @Test func withoutRefusesGBKTheReaderStillReportsTheLine() throws {
        let got = try read(Self.gbk(Self.customer), refusesGBK: false)
        #expect(got.count == 1)
        if case .invalidUTF8 = got[0].2 {} else { Issue.record("fault \(String(describing: got[0].2))") }
    }

    /// Stray bytes that are not GB2312 pairs, or not GB18030 at all, stay per-line rejects.
    @Test func strayInvalidBytesAndLatin1KeepThePerLineReject() throws {
        let lines: [[UInt8]] = [
            [0x61, 0xFF, 0x62],                // 0xFF: never GB18030
            [0x61, 0xC3, 0x28],                // a UTF-8 lead before ASCII '(' : not a GBK pair
            Array("Ren".utf8) + [0xE9, 0x65],  // Latin-1 "Renée": E9 65 is GBK but outside GB2312
            [0x61, 0x80, 0x62],                // 0x80 alone
            [0x61, 0xD5],                      // a GBK lead byte at the end of the line
        ]
        let got = try read(lines.flatMap { $0 + [0x0A] })
        #expect(got.count == lines.count)
        for (index, line) in got.enumerated() {
            if case .invalidUTF8 = line.2 {} else { Issue.record("line \(index + 1): fault \(String(describing: line.2))") }
        }
    }

    /// A UTF-8 file that has shown Chinese in UTF-8 is UTF-8: one GBK line after that (a name pasted
    /// from a legacy system, as the sample feeds carry) is that line's reject, not the file's.
    @Test func oneGBKLineAfterUTF8ChineseIsALineReject() throws {
        let bytes = try Array((Self.customer + "\n").utf8) + Self.gbk(Self.customer + "\n") + Array(Self.account.utf8)
        let got = try read(bytes)
        #expect(got.map(\.0) == [1, 2, 3])
        #expect(got[0].2 == nil && got[2].2 == nil)
        if case .invalidUTF8 = got[1].2 {} else { Issue.record("fault \(String(describing: got[1].2))") }
        // An accented Latin name in UTF-8 (2-byte sequences) is no such evidence.
        let latin = try Array(#"{"name":"Renée"}"#.utf8) + [0x0A] + Self.gbk(Self.customer)
        #expect(throws: FeedFileError.self) { try read(latin) }
    }

    /// With `.gbk` the same file reads as UTF-8 text, whatever the chunk boundaries (a pair split
    /// across reads included), with a BOM, CRLF and no final line end.
    @Test func aGBKFileIsTranscodedWhenConfigured() throws {
        let text = Self.customer + "\r\n" + Self.account + "\n中文 ✓ 𝄞 é\n" + Self.customer
        let bytes = try Self.gbk("\u{FEFF}" + text)
        for chunkSize in [1, 2, 3, 5, 7, 64, 1 << 20] {
            let got = try read(bytes, encoding: .gbk, chunkSize: chunkSize)
            #expect(got.map(\.1) == [Self.customer, Self.account, "中文 ✓ 𝄞 é", Self.customer], "chunk \(chunkSize)")
            #expect(got.allSatisfy { $0.2 == nil }, "chunk \(chunkSize)")
        }
    }

    /// A line with a byte that is not GB18030 is that line's reject; the lines around it are read.
    @Test func aByteThatIsNotGB18030IsALineFaultWhenTranscoding() throws {
        let bytes = try Self.gbk("张三\n") + [0x61, 0xFF, 0x62, 0x0A] + Self.gbk("李四\n") + [0xD5]
        let got = try read(bytes, encoding: .gbk, chunkSize: 3)
        #expect(got.map(\.0) == [1, 2, 3, 4])
        #expect(got[0].1 == "张三" && got[0].2 == nil)
        #expect(got[1].2 == .invalidGB18030(offset: 1))
        #expect(got[2].1 == "李四" && got[2].2 == nil)
        #expect(got[3].2 == .invalidGB18030(offset: 0))  // an unfinished pair at the end of the file
    }

    @Test func settingsParse() {
        #expect(FeedEncoding(setting: "GBK") == .gbk)
        #expect(FeedEncoding(setting: "gb18030") == .gbk)
        #expect(FeedEncoding(setting: "UTF-8") == .utf8)
        #expect(FeedEncoding(setting: "latin1") == nil)
    }
}
