@testable import FeedContract
import Testing

@Suite struct AuthenticationDataTests {
    static let c3Reason = "looks like authentication data (a password, PIN, card verification code or track data: JR/T 0171 class C3), which TierGuard never accepts; remove it from the feed"

    @Test(arguments: ["password", "passwd", "pin", "cvv", "cvv2", "cvc", "track2", "PIN", "card_pin", "pin_code", "loginPassword",
                      "card-cvv2", "track_2", "Track2Data", "pinBlock", "交易密码", "pwd"])
    func rejectsAFieldNamedLikeAuthenticationData(_ key: String) throws {
        let line = Sample.transaction.with(key, json("4321"))
        let reject = try #require(try decode(line.text)[0].reject)
        #expect(reject.reason == "line 1: field \(key) \(Self.c3Reason)")
        #expect(reject.field == key)
        // The value never reaches the reject's raw text.
        #expect(!reject.rawText.contains("4321"))
        #expect(reject.rawText.contains("\(json(key)):\"***\""))
    }

    @Test func redactsANonStringValueToo() throws {
        let line = Sample.balance.with("cvv", "123")
        let reject = try #require(try decode(line.text)[0].reject)
        #expect(reject.rawText == Sample.balance.with("cvv", "\"***\"").text)
    }

    @Test func anEscapedSpellingIsCaughtToo() throws {
        let text = Sample.balance.text.dropLast() + ",\"p\\u0069n\":\"0000\"}"
        let reject = try #require(try decode(String(text))[0].reject)
        #expect(reject.reason == "line 1: field pin \(Self.c3Reason)")
        #expect(!reject.rawText.contains("0000"))
    }

    @Test(arguments: ["shipping", "opinion", "spinner", "pinyin_name", "description", "cvv_hint_shown_to_user_x"])
    func leavesOrdinaryNamesAlone(_ key: String) {
        let expected = key == "cvv_hint_shown_to_user_x"  // contains the word cvv
        #expect(AuthenticationDataField.isAuthenticationData(key) == expected)
    }
}
