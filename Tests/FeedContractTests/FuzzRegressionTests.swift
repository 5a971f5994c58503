import Foundation
import Testing
import TierGuardModel
@testable import FeedContract

/// Replays the regression inputs in `Regressions/<target>/` (next to this file): crashers and
/// differential mismatches that `deploy/fuzz/run.sh` found (`crash-<sha1>`, copied there by the
/// script), and hand-written parser edge cases from issue 10 (`edge-*`). Each input goes through the
/// same checks as the fuzz entry `deploy/fuzz/FeedFuzz.swift`: the parser returns items or a clean
/// error, never traps, and gives the same answer however the reader's chunks fall.
///
/// Known, unfixed crashers would go in `Regressions/<target>/known-bugs/`, replayed by a disabled test;
/// there are none.
enum FeedRegressions {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Regressions")

    /// The file names directly in `Regressions/<target>/`, sorted.
    static func names(_ target: String) -> [String] {
        let directory = folder.appendingPathComponent(target)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return entries.filter { name in
            var isDirectory: ObjCBool = false
            return !name.hasPrefix(".")
                && FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path, isDirectory: &isDirectory)
                && !isDirectory.boolValue
        }.sorted()
    }

    static func bytes(_ target: String, _ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: folder.appendingPathComponent(target).appendingPathComponent(name)))
    }

    enum Decoded: Equatable {
        case items([FeedItem])
        case fileError(String)
    }

    static func decode(_ bytes: [UInt8], _ format: FeedFormat, maxLineLength: Int = FeedLineReader.defaultMaxLineLength,
                       chunkSize: Int = 1 << 20) -> Decoded {
        var items: [FeedItem] = []
        do {
            try FeedDecoder.decode(FeedLineReader(bytes: bytes, maxLineLength: maxLineLength, chunkSize: chunkSize),
                                   format: format) { items.append($0) }
            return .items(items)
        } catch {
            return .fileError(String(describing: error))
        }
    }

    /// Line numbers ascend and name a physical line of the input.
    static func expectLineNumbers(_ decoded: Decoded, _ bytes: [UInt8]) {
        guard case .items(let items) = decoded else { return }
        let lines = bytes.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
        var previous = 0
        for item in items {
            #expect(item.lineNumber >= max(1, previous) && item.lineNumber <= lines)
            previous = item.lineNumber
        }
    }
}

@Suite struct FuzzRegressionTests {
    @Test func everyTargetHasRegressionInputs() {
        for target in ["ndjson", "csv", "values"] {
            #expect(!FeedRegressions.names(target).isEmpty, "Regressions/\(target) is empty or missing")
        }
    }

    @Test(arguments: FeedRegressions.names("ndjson"))
    func ndjsonInputDecodesTheSameWhateverTheChunking(name: String) throws {
        let bytes = try FeedRegressions.bytes("ndjson", name)
        let whole = FeedRegressions.decode(bytes, .ndjson)
        guard case .items = whole else {
            Issue.record("an in-memory NDJSON feed never fails as a whole: \(whole)")
            return
        }
        FeedRegressions.expectLineNumbers(whole, bytes)
        for chunk in [1, 2, 3, 5, 7, 13] {
            #expect(FeedRegressions.decode(bytes, .ndjson, chunkSize: chunk) == whole, "chunkSize \(chunk)")
            #expect(FeedRegressions.decode(bytes, .ndjson, maxLineLength: 48, chunkSize: chunk)
                    == FeedRegressions.decode(bytes, .ndjson, maxLineLength: 48), "chunkSize \(chunk), 48-byte lines")
        }
        var fast = NDJSONLineParser()
        var fallback = NDJSONLineParser()
        fallback.forceFallback = true
        try FeedLineReader(bytes: bytes).forEachLine { line in
            guard line.fault == nil, !line.isBlank else { return }
            #expect(fast.parse(line.bytes, lineNumber: line.number) == fallback.parse(line.bytes, lineNumber: line.number),
                    "line \(line.number): fast path and escape fallback differ")
        }
    }

    @Test(arguments: FeedRegressions.names("csv"))
    func csvInputDecodesTheSameWhateverTheChunking(name: String) throws {
        let bytes = try FeedRegressions.bytes("csv", name)
        for type in FeedRecordType.allCases {
            let whole = FeedRegressions.decode(bytes, .csv(type))
            FeedRegressions.expectLineNumbers(whole, bytes)
            for chunk in [1, 2, 3, 7, 11] {
                #expect(FeedRegressions.decode(bytes, .csv(type), chunkSize: chunk) == whole, "\(type), chunkSize \(chunk)")
                #expect(FeedRegressions.decode(bytes, .csv(type), maxLineLength: 64, chunkSize: chunk)
                        == FeedRegressions.decode(bytes, .csv(type), maxLineLength: 64), "\(type), chunkSize \(chunk), 64-byte lines")
            }
        }
    }

    @Test(arguments: FeedRegressions.names("values"))
    func valueInputParsesOrIsRefusedCleanly(name: String) throws {
        let text = String(decoding: try FeedRegressions.bytes("values", name), as: UTF8.self)
        if let fen = Fen(yuanText: text) { #expect(Fen(yuanText: fen.yuanText) == fen) }
        if let date = CalendarDate(text) {
            #expect(CalendarDate(date.description) == date)
            #expect(CalendarDate(dayNumber: date.dayNumber) == date)
        }
        if case .success(let t) = RFC3339Timestamp.parse(text) { #expect((0..<1_000_000_000).contains(t.nanoseconds)) }
        if case .success(let birth) = ResidentIDNumber.validate(text) {
            #expect(birth.description.filter(\.isNumber) == String(text.dropFirst(6).prefix(8)))
        }
    }

    // The edge cases' expected verdicts, worked out from FeedContract's rules.

    @Test func moneyAtTheInt64EdgeIsExactAndOneFenMoreIsRefused() throws {
        let max = String(decoding: try FeedRegressions.bytes("values", "edge-money-92233720368547758.07"), as: UTF8.self)
        #expect(Fen(yuanText: max)?.value == Int64.max)
        #expect(Fen(yuanText: "92233720368547758.08") == nil)
        // Int64.min fen fits Int64 (RULES.md: "must fit Int64 fen"); one fen less does not.
        #expect(Fen(yuanText: "-92233720368547758.08")?.value == Int64.min)
        #expect(Fen(yuanText: "-92233720368547758.09") == nil)
        #expect(Fen(yuanText: "-92233720368547758.07")?.value == -Int64.max)
        #expect(Fen(yuanText: "00000000000000000000000001.50")?.value == 150)
        for refused in ["1e5", ".5", "1.", "1.234"] { #expect(Fen(yuanText: refused) == nil, "\(refused)") }
    }

    @Test func timestampEdgeCasesAreRefusedForTheirReason() throws {
        #expect(RFC3339Timestamp.parse("2026-03-31T09:30:00-00:00") == .failure(.unknownOffset))
        #expect(RFC3339Timestamp.parse("2016-12-31T23:59:60Z") == .failure(.leapSecond))
        #expect(RFC3339Timestamp.parse("2026-03-31T09:30:00.1234567890Z") == .failure(.tooManyFractionDigits))
        // 0001-01-01 is day -719,162: its midnight in UTC is the first storable instant; +23:59 moves
        // it 86,340 s earlier, into year 0 in UTC. The last is 9999-12-31T23:59:59 in Shanghai (+08:00):
        // 9999-12-31T23:59:59Z is already 10000-01-01 there.
        #expect(RFC3339Timestamp.parse("0001-01-01T00:00:00Z")
                == .success(RFC3339Timestamp(epochSeconds: -719_162 * 86_400, nanoseconds: 0)))
        #expect(RFC3339Timestamp.parse("0001-01-01T00:00:00+23:59") == .failure(.outsideStorableYears))
        #expect(RFC3339Timestamp.parse("0001-01-01T00:00:00+08:00") == .failure(.outsideStorableYears))
        #expect(RFC3339Timestamp.parse("9999-12-31T23:59:59.999999999+08:00")
                == .success(RFC3339Timestamp(epochSeconds: 253_402_300_799 - 28_800, nanoseconds: 999_999_999)))
        #expect(RFC3339Timestamp.parse("9999-12-31T16:00:00Z") == .failure(.outsideStorableYears))
        #expect(RFC3339Timestamp.parse("9999-12-31T23:59:59-01:00") == .failure(.outsideStorableYears))
        // The archive's precision, truncated: 23:59:59.9999999 stays in its second.
        #expect(try RFC3339Timestamp.parse("2026-03-31T23:59:59.9999999+08:00").get().truncatedToMicroseconds.nanoseconds == 999_999_000)
        #expect(ResidentIDNumber.validate("11010519491231002x") == .failure(.lowercaseX))
        // 1900 is not a leap year.
        #expect(ResidentIDNumber.validate("110105190002290015") == .failure(.notARealDate))
    }

    @Test func deepNestingIsOneRejectPerLine() throws {
        let bytes = try FeedRegressions.bytes("ndjson", "edge-nesting-10000-deep.ndjson")
        guard case .items(let items) = FeedRegressions.decode(bytes, .ndjson) else {
            Issue.record("decode failed")
            return
        }
        #expect(items.map(\.lineNumber) == [1, 2])
        #expect(items.allSatisfy { if case .reject = $0 { true } else { false } })
    }

    @Test func anOverlongFirstLineWithBOMIsReportedAlikeForAnyChunking() throws {
        // Found by the fuzzer: the skipped-line path counted the BOM and a `\r` that ended a chunk.
        let bytes = try FeedRegressions.bytes("ndjson", "crash-8b947f105587d10b8e42fff41d24efb01418f9bd")
        guard case .items(let items) = FeedRegressions.decode(bytes, .ndjson, maxLineLength: 48, chunkSize: 6),
              case .reject(let first) = items.first else {
            Issue.record("expected a reject for line 1")
            return
        }
        // Line 1 is 3 BOM bytes, 76 bytes of JSON, then CRLF: 76 bytes count.
        #expect(first.reason == "line 1: line is 76 bytes, longer than the limit of 48 bytes")
        #expect(!first.rawText.contains("\u{FEFF}") && !first.rawText.contains("\r"))
    }

    @Test func gbkAndNULLinesAreRejectedAndTheRestRead() throws {
        guard case .items(let items) = FeedRegressions.decode(try FeedRegressions.bytes("ndjson", "edge-gbk-line.ndjson"), .ndjson) else {
            Issue.record("decode failed")
            return
        }
        #expect(items.count == 2)
        if case .reject(let r) = items[0] { #expect(r.reason.contains("not valid UTF-8")) } else { Issue.record("line 1 accepted") }
        if case .record = items[1] {} else { Issue.record("line 2 rejected: \(items[1])") }
    }
}
