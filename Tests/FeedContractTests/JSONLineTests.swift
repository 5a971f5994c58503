@testable import FeedContract
import Testing
import TierGuardModel

@Suite struct JSONLineTests {
    func parse(_ text: String, fallback: Bool) -> FeedItem {
        var parser = NDJSONLineParser()
        parser.forceFallback = fallback
        return parser.parse(Array(text.utf8), lineNumber: 1)
    }

    @Test func rejectsDuplicateKeysKnownOrUnknownEqualOrNot() throws {
        #expect(try reason(Sample.balance.text.dropLast() + ",\"balance\":\"2.00\"}") == "line 1: duplicate key balance")
        #expect(try reason(Sample.balance.text.dropLast() + ",\"balance\":\"1234567.89\"}") == "line 1: duplicate key balance")
        #expect(try reason(Sample.balance.text.dropLast() + ",\"note\":1,\"note\":1}") == "line 1: duplicate key note")
        #expect(try reason("{\"type\":\"balance\",\"type\":\"balance\"}") == "line 1: duplicate key type")
    }

    @Test func aKeySpelledWithEscapesIsTheSameKey() throws {
        // "b\u0061lance" is "balance": a duplicate, found through the fallback.
        #expect(try reason(Sample.balance.text.dropLast() + ",\"b\\u0061lance\":\"2.00\"}") == "line 1: duplicate key balance")
        let line = "{\"type\":\"balance\",\"account_id\":\"A001\",\"as_of\":\"2026-03-31\",\"b\\u0061lance\":\"2.00\"}"
        guard case .balance(let b) = try decode(line)[0].record else { Issue.record("not accepted"); return }
        #expect(b.balance == Fen(200))
    }

    @Test func manyUnknownKeysAreStillCheckedForDuplicates() throws {
        var text = String(Sample.balance.text.dropLast())
        for i in 0..<300 { text += ",\"k\(i)\":\(i)" }
        #expect(try reason(text + "}") == nil)
        #expect(try reason(text + ",\"k17\":0}") == "line 1: duplicate key k17")
    }

    /// RULES.md: unknown extra fields are ignored (forward compatibility), whatever their value — an
    /// object or array too, checked and skipped without recursion; a known field refuses one.
    @Test func ignoresNestedValuesInUnknownFieldsAndRefusesThemInKnownOnes() throws {
        #expect(try reason(Sample.balance.with("address", "{\"city\":\"北京\",\"lines\":[1,2.5e3,true,null,\"a\\\"b\"]}")) == nil)
        #expect(try reason(Sample.balance.with("tags", "[]")) == nil)
        #expect(try reason(Sample.balance.with("x_future", "{\"a\":1}")) == nil)
        let deep = Sample.balance.with("x", String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000))
        #expect(try reason(deep) == nil)
        let deepObjects = Sample.balance.with("x", String(repeating: "{\"a\":", count: 10_000) + "1" + String(repeating: "}", count: 10_000))
        #expect(try reason(deepObjects) == nil)
        // Still JSON: unclosed, mismatched or malformed nested values are syntax errors naming the byte.
        #expect(try reason(Sample.balance.with("x", String(repeating: "[", count: 10_000)))?.hasPrefix("line 1: not valid JSON: expected a value at byte") == true)
        #expect(try reason(Sample.balance.with("x", "[1}"))?.hasPrefix("line 1: not valid JSON: expected ',' or ']' at byte") == true)
        #expect(try reason(Sample.balance.with("x", "{\"a\" 1}"))?.hasPrefix("line 1: not valid JSON: expected ':' after a key at byte") == true)
        #expect(try reason(Sample.balance.with("x", "[01]"))?.hasPrefix("line 1: not valid JSON: expected ',' or ']' at byte") == true)
        #expect(try reason(Sample.balance.with("x", "{\"a\":1,}"))?.hasPrefix("line 1: not valid JSON: expected a key in double quotes at byte") == true)
        #expect(try reason(String(repeating: "[", count: 10_000)) == "line 1: not a JSON object: a line must be one flat JSON object, not an array")
        // A known field: refused by its kind.
        #expect(try reason(Sample.balance.with("balance", "{\"yuan\":\"1.00\"}")) == "line 1: balance must be a JSON string, got a JSON object or array (records are flat)")
        #expect(try reason(Sample.balance.with("account_id", "[\"A1\"]")) == "line 1: account_id must be a JSON string, got a JSON object or array (records are flat)")
        #expect(try reason(Sample.customer.with("marketing_opt_out", "[]")) == "line 1: marketing_opt_out must be the JSON boolean true or false, not a JSON object or array")
    }

    /// "Value rules": `""` means absent for every field, a boolean too.
    @Test func anEmptyStringBooleanIsAbsent() throws {
        #expect(try reason(Sample.customer.with("marketing_opt_out", "\"\"")) == nil)
    }

    @Test(arguments: [
        ("{\"type\":\"balance\",}", "not valid JSON: expected a key in double quotes at byte 19"),
        ("{\"type\":\"balance\"} x", "not valid JSON: text after the end of the object at byte 20"),
        ("{\"type\":\"balance\"}{}", "not valid JSON: text after the end of the object at byte 19"),
        ("{\"type\" \"balance\"}", "not valid JSON: expected ':' after a key at byte 9"),
        ("{\"type\":\"balance\"", "not valid JSON: expected ',' or '}' at the end of the line"),
        ("{\"type\":\"balance", "not valid JSON: a string is not closed"),
        ("{\"type\":\"bal\\qance\"}", "not valid JSON: invalid escape at byte 13"),
        ("{\"type\":\"bal\\u12G4\"}", "not valid JSON: invalid escape at byte 13"),
        ("{\"type\":\"bal\tance\"}", "not valid JSON: control character U+0009 inside a string at byte 13 must be escaped"),
        ("{'type':'balance'}", "not valid JSON: expected a key in double quotes at byte 2"),
        ("{\"type\":balance}", "not valid JSON: expected a value at byte 9"),
        ("{\"type\":tru}", "not valid JSON: expected a value at byte 9"),
        ("{\"n\":01}", "not valid JSON: expected ',' or '}' at byte 7"),
        ("{\"n\":1.}", "not valid JSON: malformed number at byte 6"),
        ("{\"n\":-}", "not valid JSON: malformed number at byte 6"),
        ("{\"n\":1e}", "not valid JSON: malformed number at byte 6"),
        ("{\"n\":+1}", "not valid JSON: expected a value at byte 6"),
        ("{\"n\":NaN}", "not valid JSON: expected a value at byte 6"),
        ("\"just a string\"", "not valid JSON: expected '{' at byte 1"),
        ("garbage", "not valid JSON: expected '{' at byte 1"),
    ])
    func rejectsInvalidJSONWithThePlace(_ text: String, _ message: String) throws {
        #expect(try reason(text) == "line 1: \(message)")
    }

    @Test func acceptsHugeNumbersWhereTheyAreIgnored() throws {
        let line = Sample.transaction.with("score", "-0.5e-999999").with("count", String(repeating: "7", count: 10_000))
        #expect(try reason(line) == nil)
        #expect(try reason(Sample.balance.with("balance", String(repeating: "9", count: 10_000)))?.hasSuffix(
            "money must be a JSON string such as \"12345.67\"; a JSON number cannot be trusted to the fen") == true)
    }

    @Test func acceptsWhitespaceAroundTokens() throws {
        let text = " \t{ \"type\" : \"balance\" ,\"account_id\":\"A001\" , \"as_of\":\"2026-03-31\",\r\"balance\": \"1.00\" }\t "
        #expect(try decode(text)[0].record == .balance(Balance(accountId: "A001", asOf: CalendarDate(year: 2026, month: 3, day: 31)!, balance: Fen(100))))
    }

    @Test func decodesEscapesThroughTheFallback() throws {
        // name: 张"三\中<newline>/ written with \" \\ \u4e2d \n \/ escapes.
        let line = Sample.relationshipManager.with("name", "\"张\\\"三\\\\\\u4e2d\\n\\/\"").with("email", "\"li\\u0073i@bank.example.cn\"")
        guard case .relationshipManager(let rm) = try decode(line.text)[0].record else { Issue.record("not accepted"); return }
        #expect(rm.name == "张\"三\\中\n/")
        #expect(rm.email == "lisi@bank.example.cn")
        // A surrogate pair is one character.
        let clef = Sample.transaction.with("description", "\"\\ud834\\udd1e\"")
        guard case .transaction(let t) = try decode(clef.text)[0].record else { Issue.record("not accepted"); return }
        #expect(t.description == "𝄞")
    }

    @Test func escapedAndPlainSpellingsGiveTheSameRecord() throws {
        let plain = Sample.transaction.with(string: "description", "工资 salary/03").with(string: "txn_id", "T-9")
        let escaped = Sample.transaction.with("description", "\"\\u5de5\\u8d44 \\u0073alary\\/03\"").with("txn_id", "\"T\\u002d9\"")
        let a = try decode(plain.text)[0], b = try decode(escaped.text)[0]
        #expect(a.record != nil)
        #expect(a == b)
    }

    @Test func anEscapedNameEqualsTheSameNameReadWithoutEscapes() throws {
        // NDJSON with \" \\ \u4e2d \n escapes (fallback) against CSV, which has no escapes (fast path).
        let escaped = Sample.relationshipManager.with("name", "\"张\\\"三\\\\\\u4e2d\\n四\"")
        let csv = "rm_id,name,branch_id,active\nRM01,\"张\"\"三\\中\n四\",BJ001,true\n"
        let fromJSON = try decode(escaped.text)[0].record
        let fromCSV = try decode(csv, format: .csv(.relationshipManager))[0].record
        guard case .relationshipManager(let a) = fromJSON, case .relationshipManager(let b) = fromCSV else {
            Issue.record("not accepted")
            return
        }
        #expect(a.name == "张\"三\\中\n四")
        #expect(a.name == b.name)
    }

    /// The fallback run on every line gives exactly what the fast path gives, records and rejects alike.
    @Test func theFallbackAgreesWithTheFastPathOnEveryLine() {
        var lines = [Sample.customer, Sample.account, Sample.balance, Sample.transaction, Sample.relationshipManager].map(\.text)
        lines += [
            Sample.customer.with(string: "id_number", "110105194912310021").text,
            Sample.customer.with("annual_income", "12.5").text,
            Sample.balance.with(string: "balance", "1.234").text,
            Sample.balance.text.dropLast() + ",\"balance\":\"2.00\"}",
            Sample.transaction.with(string: "booked_at", "2026-03-31T09:30:00").text,
            Sample.relationshipManager.with("active", nil).text,
            Sample.balance.with("type", json("loan")).text,
            Sample.transaction.with("pin", json("1234")).text,
            "{}",
        ]
        for text in lines {
            #expect(parse(text, fallback: false) == parse(text, fallback: true), "\(text)")
        }
    }

    @Test func aLoneSurrogateEscapeIsRejected() throws {
        let line = Sample.transaction.with("description", "\"\\ud800x\"")
        // The backslash follows the opening quote, so its 0-based index is the quote's 1-based byte.
        let quote = Array(line.text.utf8).firstIndex(of: UInt8(ascii: "\\"))!
        #expect(try reason(line) == "line 1: not valid JSON: string at byte \(quote) has an escape that is not a Unicode character")
    }
}
