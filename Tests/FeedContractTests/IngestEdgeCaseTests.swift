import FeedContract
import Foundation
import Testing

/// Issue 10's ingest edge cases that the rule-by-rule suites leave to a whole feed: 10,000 resident
/// IDs with a flipped digit in one feed, a GBK CSV and a UTF-16 export. (The single rules:
/// `ResidentIDNumberTests`, `FeedLineReaderTests`, `CSVFeedTests`; through the process: ServiceTests'
/// `IngestFaultFileTests`.)
@Suite struct IngestEdgeCaseTests {
    /// 10,000 generated resident IDs, each with one digit changed at a random position to a random
    /// other digit (the check character to another digit or `X`), as customer lines of one feed: every
    /// line is refused on `id_number` (a wrong check character, or a changed date digit giving a day
    /// that does not exist), no reason shows the number in full, and the same IDs unchanged all pass.
    @Test func tenThousandResidentIDsWithOneDigitFlippedInOneFeedAreAllRefusedAndMasked() throws {
        var rng = SplitMix64(state: 10_010)
        var valid: [String] = [], flipped: [String] = []
        for _ in 0..<10_000 {
            let id = randomResidentID(&rng)
            var bytes = Array(id.utf8)
            let position = Int.random(in: 0..<18, using: &rng)
            let choices = Array((position == 17 ? "0123456789X" : "0123456789").utf8).filter { $0 != bytes[position] }
            bytes[position] = choices[Int.random(in: 0..<choices.count, using: &rng)]
            valid.append(id)
            flipped.append(String(decoding: bytes, as: UTF8.self))
        }
        func feed(_ ids: [String]) -> String {
            ids.enumerated().map { i, id in
                Sample.customer.with(string: "customer_id", "C\(i)").with(string: "id_number", id).with("birth_date", nil).text
            }.joined(separator: "\n")
        }

        let good = try decode(feed(valid))
        #expect(good.count == 10_000 && good.allSatisfy { $0.record != nil })

        let items = try decode(feed(flipped))
        let rejects = items.compactMap(\.reject)
        #expect(items.count == 10_000)
        #expect(rejects.count == 10_000, "\(10_000 - rejects.count) flipped IDs accepted")
        #expect(rejects.map(\.lineNumber) == Array(1...10_000))
        #expect(rejects.allSatisfy { $0.field == "id_number" }, "\(rejects.first { $0.field != "id_number" }?.reason ?? "")")
        let leaked = zip(rejects, flipped).filter { $0.0.reason.contains($0.1) }
        #expect(leaked.isEmpty, "reasons showing the full number: \(leaked.count)")
    }

    /// A CSV exported as GBK (an ASCII header, Chinese names): each row with a GBK byte is refused
    /// naming the byte and the likely encoding; ASCII-only and UTF-8 rows still read. The file is not
    /// refused as a whole (its header is readable), nor transcoded: feeds are UTF-8 (contract v1).
    @Test func aGBKCSVIsRefusedRowByRowNamingTheEncodingAndUTF8RowsStillRead() throws {
        let lines = Sample.customer.with(string: "customer_id", "C002").csv.split(separator: "\n").map(String.init)
        let header = lines[0], row = lines[1]
        let parts = row.components(separatedBy: "张三")
        try #require(parts.count == 2)
        var bytes = Array((header + "\n").utf8)
        bytes += Array(parts[0].utf8) + [0xD5, 0xC5, 0xC8, 0xFD] + Array((parts[1] + "\n").utf8)  // line 2: GBK
        bytes += Array((row.replacingOccurrences(of: "C002", with: "C003") + "\n").utf8)      // line 3: UTF-8
        let items = try decode(bytes: bytes, format: .csv(.customer))
        #expect(items.count == 2)
        let gbkByte = parts[0].utf8.count + 1
        #expect(items.first?.reject?.reason == "line 2: not valid UTF-8 at byte \(gbkByte) (is the file GBK or another encoding? feeds are UTF-8)")
        #expect(items.last?.lineNumber == 3 && items.last?.record != nil)
    }

    /// A UTF-16LE export (BOM FF FE, every ASCII character followed by a NUL byte): no line is read
    /// as a record; each non-blank line is refused for its NUL byte (or, on line 1, the FF FE bytes).
    @Test func aUTF16ExportIsRefusedLineByLine() throws {
        let text = Sample.balance.text + "\n" + Sample.balance.with(string: "as_of", "2026-03-30").text + "\n"
        var bytes: [UInt8] = [0xFF, 0xFE]
        for unit in text.utf16 { bytes += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        let items = try decode(bytes: bytes)
        #expect(!items.isEmpty)
        #expect(items.allSatisfy { $0.reject != nil })
        #expect(items.first?.reject?.reason.hasPrefix("line 1: not valid UTF-8 at byte 1") == true, "\(items.first?.reject?.reason ?? "")")
        #expect(items.dropFirst().allSatisfy { $0.reject?.reason.contains("NUL byte") == true },
                "\(items.dropFirst().compactMap(\.reject?.reason))")
    }
}
