import Testing
import TierGuardModel

@Test func namesKeepTheirFirstCharacterAndMaskEachOtherCharacter() {
    #expect(Masking.name("张三") == "张*")
    #expect(Masking.name("欧阳娜娜") == "欧阳**")
        #expect(Masking.name("欧阳") == "欧*")
        #expect(Masking.name("司马光") == "司马*")
    #expect(Masking.name("李") == "李")
    #expect(Masking.name("") == "")
}

@Test func compoundNamesMaskEachPartAfterItsFirstCharacter() {
    #expect(Masking.name("阿依古丽·买买提") == "阿***·买**")
    #expect(Masking.name("John·Smith") == "J***·S****")
    // A separator typed as U+2022 masks the same way.
    #expect(Masking.name("阿依古丽•买买提") == "阿***•买**")
}

@Test func residentIdKeepsFirstSixAndLastFour() {
    #expect(Masking.idNumber("11010519900307002X") == "110105********002X")
    #expect(Masking.idNumber("110105199003070021") == "110105********0021")
}

@Test func shortIdsKeepOnlyTheLastTwo() {
    #expect(Masking.idNumber("E12345678") == "*******78")
    #expect(Masking.idNumber("AB") == "**")
}

@Test func phoneAndCardMasks() {
    #expect(Masking.phone("13812345678") == "138****5678")
    #expect(Masking.cardNumber("6222021234567890128") == "622202*********0128")
    #expect(Masking.cardNumber("4111 1111 1111 1111") == "4111 11** **** 1111")
}

@Test func scrubMasksIdentifiersInsideFreeText() {
    let line = "客户 110105199003070021 电话13812345678，卡号 4111111111111111 已核实"
    #expect(Masking.scrub(line) == "客户 110105********0021 电话138****5678，卡号 411111******1111 已核实")
}

@Test func scrubMasksAnIdEndingInX() {
    #expect(Masking.scrub("id=11010519900307002X;") == "id=110105********002X;")
    #expect(Masking.scrub("id=11010519900307002x") == "id=110105********002x")
}

@Test func scrubMasksAMobileWithCountryCode() {
    #expect(Masking.scrub("tel:+8613812345678") == "tel:+86138****5678")
}

@Test func scrubLeavesNonIdentifiersAlone() {
    // 12… is not a mobile prefix; 16 digits failing Luhn; an 18-digit run whose month is 13 (and
    // fails Luhn); a 20-digit reference containing an 11-digit mobile-looking part.
    let line = "ref 12812345678 n 4111111111111112 x 110105199013070021 order 20260401000012345678 amount 1234.56"
    #expect(Masking.scrub(line) == line)
}

@Test func scrubMasksALuhnValidNineteenDigitCard() {
    #expect(Masking.scrub("[6222021234567890128]") == "[622202*********0128]")
}
