import Testing
import TierGuardModel

@Suite struct MaskingFeedLineTests {
    @Test func personalFieldsOfARawFeedLineAreMasked() {
        let raw = #"{"type":"customer","customer_id":"C1","name":"胡慧燕","id_number":"330106680131284","phone": "18112349167","email":"hu.hy@bank.cn","rm_id":"RM1"}"#
        let masked = Masking.feedLine(raw)
        #expect(masked.contains(#""name":"胡**""#))
        #expect(masked.contains(#""id_number":"330106*****1284""#))
        #expect(!masked.contains("18112349167"))
        #expect(masked.contains(#""phone": "181****9167""#))
        #expect(masked.contains(#""email":"h****@bank.cn""#))
        #expect(masked.contains(#""customer_id":"C1""#) && masked.contains(#""rm_id":"RM1""#))
    }

    @Test func aLineThatIsNotValidJSONIsMaskedToo() {
        let raw = #"{"type":"customer","name":"上官玉","id_number":"11010519491231002X""#
        let masked = Masking.feedLine(raw)
        #expect(masked.contains("上官*"))
        #expect(!masked.contains("11010519491231002X"))
    }
}
