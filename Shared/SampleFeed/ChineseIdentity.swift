import FeedContract
import TierGuardModel

/// Realistic mainland identities for sample customers and RMs: names, resident ID numbers, mobiles.
///
/// - Names: a common single-character surname (the 100 most frequent) and one or two given
///   characters; about 3% compound surnames (欧阳, 司马, 上官, 诸葛…); about 1.5% names of the form
///   `阿依古丽·买买提` (given name · father's name, as Uyghur and other names are written), so masking
///   and display handle `·`.
/// - Resident ID (GB 11643-1999): a real region code of the customer's city, the birth date, a
///   sequence whose last digit is odd for men and even for women, and the check character computed by
///   `ResidentIDNumber.checkCharacter(forFirst17:)`, the same code that validates the feed.
/// - Mobiles: `1` and a prefix of the three carriers (138, 186, 133, 199…), then 8 digits.
enum ChineseIdentity {
    static let surnames: [String] = Array("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤").map(String.init)
    static let compoundSurnames = ["欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "慕容", "令狐", "夏侯", "尉迟"]
    static let givenCharacters: [String] = Array("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红文辉建国志鹏晓宇浩然子轩梓涵欣怡雨萱俊思远婉清嘉佳慧琳博瑞泽楠晨阳雪梅海燕春秋冬雷鑫淑珍凤云飞鸿").map(String.init)
    static let dottedGiven = ["阿依古丽", "迪丽娜尔", "买买提", "古丽娜扎", "热合曼", "帕尔哈提", "努尔", "阿卜杜拉", "米热古丽", "艾尔肯"]
    static let dottedFamily = ["买买提", "阿不都", "吐尔逊", "艾力", "阿不力孜", "热合曼", "库尔班", "依明"]

    /// Region codes (characters 1–6) with the branch city they belong to.
    static let regions: [(code: String, city: String)] = [
        ("110105", "BJ"), ("110108", "BJ"), ("310115", "SH"), ("310104", "SH"), ("440106", "GZ"),
        ("440305", "SZ"), ("330106", "HZ"), ("510107", "CD"), ("320102", "NJ"), ("420106", "WH"),
        ("650102", "WL"), ("370202", "QD"),
    ]

    static let mobilePrefixes = ["138", "139", "135", "136", "137", "150", "151", "152", "158", "159", "182", "187", "188",
                                 "130", "131", "132", "155", "156", "185", "186", "133", "153", "180", "181", "189", "177", "199", "166"]

    static func name(_ r: inout SampleRandom) -> String {
        let roll = r.below(1000)
        if roll < 15 {
            return r.pick(dottedGiven) + "·" + r.pick(dottedFamily)
        }
        let surname = roll < 45 ? r.pick(compoundSurnames) : r.pick(surnames)
        let given = r.chance(perMille: 600) ? r.pick(givenCharacters) + r.pick(givenCharacters) : r.pick(givenCharacters)
        return surname + given
    }

    static func mobile(_ r: inout SampleRandom) -> String {
        var text = r.pick(mobilePrefixes)
        for _ in 0..<8 { text.append(Character(UnicodeScalar(UInt8(48 + r.below(10))))) }
        return text
    }

    /// 17 digits (region, birth date, sequence with gender parity) and the check character.
    static func residentID(region: String, birth: CalendarDate, female: Bool, _ r: inout SampleRandom) -> String {
        let first17 = first17Digits(region: region, birth: birth, female: female, &r)
        return first17 + String(ResidentIDNumber.checkCharacter(forFirst17: first17)!)
    }

    static func first17Digits(region: String, birth: CalendarDate, female: Bool, _ r: inout SampleRandom) -> String {
        let date = birth.description.replacingDashes()
        let sequence = Int(r.below(50)) * 10 + Int(r.below(5)) * 2 + (female ? 0 : 1)
        return region + date + pad(sequence, 3)
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}

extension String {
    /// `2026-11-30` → `20261130`.
    func replacingDashes() -> String { String(filter { $0 != "-" }) }
}
