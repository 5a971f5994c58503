import Foundation
import Testing
import TierGuardModel

/// `JSONTextWriter` writes the same bytes as `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]`
/// (the scorer's configuration) for strings, numbers, key order and the model's documents.
/// Real documents of generated books: `JSONTextDocumentsTests` (TierGuardStoreTests).
@Suite struct JSONTextWriterTests {
    static func encoderText(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func writerText(_ value: some JSONTextEncodable) throws -> String {
        try JSONTextWriter.text(of: value)
    }

    @Test func everyAsciiCharacterIsEscapedAsJSONEncoderEscapesIt() throws {
        for value in UInt32(0)...0x7F {
            let text = "a" + String(Character(Unicode.Scalar(value)!)) + "b"
            #expect(try Self.writerText(text) == Self.encoderText(text), "U+\(String(value, radix: 16))")
        }
        let all = String(String.UnicodeScalarView((UInt32(0)...0x7F).map { Unicode.Scalar($0)! }))
        #expect(try Self.writerText(all) == Self.encoderText(all))
        // The documented findings, spelled out.
        #expect(try Self.writerText("a/b\u{7F}\u{1F}\u{0}\u{8}\u{C}\"\\") == #""a/b\#u{7F}\u001f\u0000\b\f\"\\""#)
    }

    @Test func nonAsciiTextIsWrittenAsUTF8LikeJSONEncoder() throws {
        let samples = [
            "", "张三", "欧阳**", "资金流向他行：近 7 天转出 ¥1,234.56", "👨‍👩‍👧‍👦 emoji 😀 𝄞 non-BMP",
            "line\u{2028}sep\u{2029}par", "\u{FEFF}bom", "e\u{301} vs é", "\u{85}\u{A0}\u{AD}", "Ω≈ç√∫˜µ≤≥÷",
            "tab\tnew\nret\rquote\"back\\slash/", "\u{10FFFF}\u{E000}\u{FFFD}",
        ]
        for s in samples {
            #expect(try Self.writerText(s) == Self.encoderText(s), "\(s.debugDescription)")
        }
    }

    @Test func randomStringsMatchJSONEncoder() throws {
        var rng = SignalSplitMix64(seed: 2026)
        let pool: [Unicode.Scalar] = (0...0x7F).map { Unicode.Scalar(UInt8($0)) }
            + ["\u{80}", "\u{9F}", "\u{A0}", "é", "\u{301}", "中", "国", "银", "\u{2028}", "\u{2029}", "\u{FEFF}",
               "\u{FFFF}", "😀", "𝄞", "\u{10FFFF}", "\u{E000}"]
        for _ in 0..<3_000 {
            let length = Int.random(in: 0...24, using: &rng)
            let s = String(String.UnicodeScalarView((0..<length).map { _ in pool.randomElement(using: &rng)! }))
            #expect(try Self.writerText(s) == Self.encoderText(s), "\(s.debugDescription)")
        }
    }

    @Test func listedDoublesMatchJSONEncoder() throws {
        let values: [Double] = [
            0, -0.0, 1, -1, 0.1, 0.5, 1.5, 0.1 + 0.2, 1.0 / 3.0, 2.0 / 3.0, 100, 1e15, 1e16, 1e17, 123_456_789_012_345_680,
            1e20, 1e21, 1e22, 1e23, 1e-4, 1e-5, 1e-6, 1e-7, 1e-300, 1e300, .leastNonzeroMagnitude,
            .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .ulpOfOne, .pi, -.pi,
            9_007_199_254_740_992, 9_007_199_254_740_994, 1 / (1 + exp(3.0)), 1 / (1 + exp(1.0)), -3, -1.25,
            2.5e-8, 12_345.678_9, 0.047_425_873_177_566_78,
        ]
        for v in values {
            #expect(try Self.writerText(v) == Self.encoderText(v), "\(v)")
            #expect(try Self.writerText([v]) == Self.encoderText([v]), "[\(v)]")
            #expect(try Self.writerText(["x": v]) == Self.encoderText(["x": v]), "{x: \(v)}")
        }
        #expect(try Self.writerText(1.0) == "1")
        #expect(try Self.writerText(-0.0) == "-0")
        #expect(try Self.writerText(1e20) == "1e+20")
        #expect(try Self.writerText(1e-7) == "1e-07")
    }

    @Test func randomDoublesAndBitPatternsMatchJSONEncoder() throws {
        var rng = SignalSplitMix64(seed: 42)
        var checked = 0
        while checked < 6_000 {
            let v: Double
            switch checked % 4 {
            case 0: v = Double(bitPattern: rng.next())
            case 1: v = Double.random(in: 0...1, using: &rng)
            case 2: v = Double(Int64.random(in: -1 << 60 ... 1 << 60, using: &rng))
            default: v = Double.random(in: -1e6...1e6, using: &rng).rounded() / 100
            }
            guard v.isFinite else { continue }
            #expect(try Self.writerText(v) == Self.encoderText(v), "bits \(String(v.bitPattern, radix: 16))")
            checked += 1
        }
    }

    @Test func nonFiniteDoublesThrowLikeJSONEncoder() throws {
        for v in [Double.nan, .infinity, -.infinity, .signalingNaN] {
            #expect(throws: EncodingError.self) { try Self.encoderText(v) }
            #expect(throws: EncodingError.self) { try Self.writerText(v) }
        }
    }

    @Test func integersAndBoolsMatchJSONEncoder() throws {
        var rng = SignalSplitMix64(seed: 7)
        var values: [Int64] = [0, 1, -1, 9, 10, -9, -10, 99, 100, .max, .min, .max - 1, .min + 1]
        for _ in 0..<2_000 { values.append(Int64(bitPattern: rng.next()) >> Int64.random(in: 0...63, using: &rng)) }
        for v in values {
            #expect(try Self.writerText(v) == Self.encoderText(v))
            #expect(try Self.writerText(Int(v)) == Self.encoderText(Int(v)))
        }
        #expect(try Self.writerText([true, false]) == Self.encoderText([true, false]))
        #expect(try Self.writerText([[Int64]]()) == Self.encoderText([[Int64]]()))
    }

    /// `.sortedKeys` on Linux orders keys by UTF-8 bytes: not case-insensitive, not numeric, not
    /// by `String.<` (which compares canonically equivalent forms equal).
    @Test func dictionaryKeysAreSortedByUTF8BytesLikeJSONEncoder() throws {
        let keys = ["a", "B", "Z", "_", "gap", "gap_month", "a10", "a9", "a2", "é", "e\u{301}", "ä", "Ä", "中", "😀", "",
                    "aum_by_product", "aum_revenue", "frequency", "frequency_score", "A", "b", "~", " ", "\u{7F}",
                    "\u{1}", "\"q", "a/b", "\u{2028}"]
        var dictionary: [String: Int] = [:]
        for (i, k) in keys.enumerated() { dictionary[k] = i }
        #expect(try Self.writerText(dictionary) == Self.encoderText(dictionary))
        let nested: [String: [String: [Int64]]] = ["b": ["y": [1, 2], "x": []], "a": [:], "C": ["z": [-3]]]
        #expect(try Self.writerText(nested) == Self.encoderText(nested))
        #expect(try Self.writerText([String: Int]()) == Self.encoderText([String: Int]()))
        var rng = SignalSplitMix64(seed: 99)
        let keyPool: [Unicode.Scalar] = ["a", "A", "b", "_", "1", "0", "é", "中", "😀", "\u{1}"]
        for _ in 0..<300 {
            var d: [String: String] = [:]
            for _ in 0..<Int.random(in: 0...12, using: &rng) {
                let k = String(String.UnicodeScalarView((0..<Int.random(in: 0...4, using: &rng)).map { _ in
                    keyPool.randomElement(using: &rng)!
                }))
                d[k] = k
            }
            #expect(try Self.writerText(d) == Self.encoderText(d))
        }
    }

    @Test func modelValuesMatchJSONEncoder() throws {
        let date = CalendarDate(year: 2026, month: 11, day: 30)!
        #expect(try Self.writerText(date) == Self.encoderText(date))
        for d in [CalendarDate(year: 1, month: 1, day: 1)!, CalendarDate(year: 999, month: 12, day: 31)!,
                  CalendarDate(year: 9_999, month: 2, day: 28)!, CalendarDate(year: 9_999, month: 12, day: 31)!.adding(days: 40)] {
            #expect(try Self.writerText(d) == Self.encoderText(d), "\(d)")
        }
        #expect(try Self.writerText(YearMonth(year: 2026, month: 2)) == Self.encoderText(YearMonth(year: 2026, month: 2)))
        for tier in Tier.allCases { #expect(try Self.writerText(tier) == Self.encoderText(tier)) }
        #expect(try Self.writerText(Fen(-123)) == Self.encoderText(Fen(-123)))
        let month = MonthAum(month: YearMonth(year: 2026, month: 12), sum: 9_300_000, days: 31, projectedDays: 20,
                             projectedSum: 6_000_000, isBeforeFirstBalance: true)
        #expect(try Self.writerText(month) == Self.encoderText(month))

        let figures: [String: SignalFigure] = [
            "drop": .fen(Fen(-5_000_000)), "days": .count(14), "bank": .text("ICBC/\"x\"\n"), "on": .date(date),
            "Z": .number(.min), "a_b": .fen(.zero),
        ]
        let signal = Signal(code: .outflowToCompetitor, figures: figures, accounts: ["A2", "A1/x", "账户"],
                            reason: "近 7 天转出 ¥50,000.00 至他行（ICBC）。\t")
        #expect(try Self.writerText(signal) == Self.encoderText(signal))
        let empty = Signal(code: .inactive, figures: [:], reason: "")
        #expect(try Self.writerText([signal, empty]) == Self.encoderText([signal, empty]))
        #expect(try Self.writerText([Signal]()) == Self.encoderText([Signal]()))
        for code in SignalCode.allCases { #expect(try Self.writerText(code) == Self.encoderText(code)) }

        let recommendation = Recommendation(rank: 2, kind: .product, code: "WM-STEADY-90", because: ["maturity_upcoming"],
                                            reason: "到期资金可配置", figures: figures)
        let service = Recommendation(rank: 1, kind: .service, code: "retention_call", because: [], reason: "", figures: [:])
        #expect(try Self.writerText([service, recommendation]) == Self.encoderText([service, recommendation]))

        for reason in SuitabilityDecision.Reason.allCases {
            let decision = SuitabilityDecision(productCode: "WM-\(reason.rawValue)", allowed: reason.rawValue.hasPrefix("allowed"),
                                               customerLevel: .c2, productLevel: .r5, assessmentExpired: true, reason: reason)
            #expect(try Self.writerText([decision]) == Self.encoderText([decision]))
        }
    }

    /// Documents without a public memberwise initializer are built from JSON, with and without
    /// their optional members (which the synthesized encoder leaves out when nil).
    @Test func optionalMembersAreLeftOutWhenNilLikeJSONEncoder() throws {
        let window = #"[{"days":31,"is_before_first_balance":false,"month":{"month":10,"year":2026},"projected_days":0,"projected_sum":0,"sum":310000000},{"days":30,"is_before_first_balance":false,"month":{"month":11,"year":2026},"projected_days":12,"projected_sum":120000,"sum":150000000}]"#
        let withGap = #"{"best_month":{"month":10,"year":2026},"date":"2026-12-01","extra_daily_average_needed":5,"floor":1000000000,"from_tier":"diamond","gap":77,"gap_month":{"month":11,"year":2026},"to_tier":"platinum","window":\#(window)}"#
        let noGap = #"{"best_month":{"month":10,"year":2026},"date":"2026-12-01","extra_daily_average_needed":0,"floor":1000000000,"from_tier":"private","to_tier":"standard","window":[]}"#
        for text in [withGap, noGap] {
            let warning = try JSONDecoder().decode(DowngradeWarning.self, from: Data(text.utf8))
            #expect(try Self.writerText(warning) == Self.encoderText(warning))
            #expect(try Self.writerText(warning) == text)
        }
        let value = #"{"activity":{"frequency":3,"frequency_score":0.1%@,"monetary":12345},"contribution":{"aum_by_product":{"demand_deposit":100,"time_deposit":5,"wealth":0},"aum_revenue":7,"fee_income":-2,"revenue_by_product":{"demand_deposit":1,"time_deposit":0,"wealth":6},"total":5},"retention":{"codes":["downgrade_risk","sudden_drop"],"linear_score":-1.5,"probability":0.18242552380635635}}"#
        for recency in ["", #","last_activity_on":"2026-09-30""#] {
            let text = value.replacingOccurrences(of: "%@", with: recency)
            let decoded = try JSONDecoder().decode(CustomerValue.self, from: Data(text.utf8))
            #expect(try Self.writerText(decoded) == Self.encoderText(decoded))
            #expect(try Self.writerText(decoded) == text)
        }
    }

    @Test func aReusedWriterStartsEachDocumentAfresh() throws {
        var writer = JSONTextWriter(capacity: 16)
        writer.beginObject()
        writer.key("a")
        writer.int(1)
        writer.key("b")
        writer.beginArray()
        writer.null()
        writer.bool(false)
        writer.string("x")
        writer.beginObject()
        writer.endObject()
        writer.endArray()
        writer.endObject()
        #expect(writer.text == #"{"a":1,"b":[null,false,"x",{}]}"#)
        #expect(try writer.text(of: [Fen(1), Fen(2)]) == "[1,2]")
        #expect(writer.bytes == Array("[1,2]".utf8))
        writer.reset()
        writer.string("a")
        writer.int(1)
        #expect(writer.text == #""a",1"#, "a reset writer places no comma before its first value")
    }
}
