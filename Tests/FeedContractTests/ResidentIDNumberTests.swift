import FeedContract
import Testing
import TierGuardModel

@Suite struct ResidentIDNumberTests {
    /// The standard's own example and a few hand-computed numbers (check characters worked out by
    /// ISO 7064 in the test, not taken from the module).
    @Test(arguments: ["11010519491231002", "44030419900307123", "32010219800101001", "51010419751120452", "65010220091231999"])
    func acceptsNumbersWithTheRightCheckCharacter(_ first17: String) throws {
        let id = first17 + String(iso7064CheckCharacter(first17))
        #expect(ResidentIDNumber.checkCharacter(forFirst17: first17) == iso7064CheckCharacter(first17))
        let year = Int(first17.dropFirst(6).prefix(4))!, month = Int(first17.dropFirst(10).prefix(2))!
        let day = Int(first17.dropFirst(12).prefix(2))!
        #expect(try ResidentIDNumber.validate(id).get() == CalendarDate(year: year, month: month, day: day))
        let line = Sample.customer.with(string: "id_number", id).with("birth_date", nil)
        #expect(try reason(line) == nil)
    }

    @Test func theStandardsExampleEndsInX() {
        #expect(iso7064CheckCharacter("11010519491231002") == "X")
        #expect(ResidentIDNumber.checkCharacter(forFirst17: "11010519491231002") == "X")
        #expect(ResidentIDNumber.checkCharacter(forFirst17: "1101051949123100") == nil)
    }

    @Test func generatedIDsAllPassAndAgreeWithTheIndependentCheck() {
        var rng = SplitMix64(state: 7)
        for _ in 0..<10_000 {
            let id = randomResidentID(&rng)
            guard case .success = ResidentIDNumber.validate(id) else {
                Issue.record("valid id refused: \(id)")
                return
            }
        }
    }

    /// Any single digit changed (to each of the 9 other digits, check character included) is caught:
    /// the weights are all non-zero modulo 11, so the sum changes; a changed date digit may also give
    /// a day that does not exist. Either way the number is refused.
    @Test func everySingleDigitChangeOfTenThousandIDsIsCaught() {
        var rng = SplitMix64(state: 20_260_331)
        var tried = 0, missed: [String] = []
        for _ in 0..<10_000 {
            let id = Array(randomResidentID(&rng).utf8)
            for position in 0..<18 {
                for replacement in Array("0123456789X".utf8) where replacement != id[position] {
                    if position < 17 && replacement == UInt8(ascii: "X") { continue }
                    var flipped = id
                    flipped[position] = replacement
                    tried += 1
                    if case .success = ResidentIDNumber.validate(String(decoding: flipped, as: UTF8.self)) {
                        missed.append(String(decoding: flipped, as: UTF8.self))
                    }
                }
            }
        }
        #expect(tried == 10_000 * (17 * 9 + 10))
        #expect(missed.isEmpty)
    }

    @Test func aFlippedDigitIsReportedWithTheCorrectCheckDigit() throws {
        // 11010519491231002X with the sequence digit 2 → 3: the check character becomes the one for
        // 11010519491231003, which the independent computation gives.
        let first17 = "11010519491231003"
        let expected = iso7064CheckCharacter(first17)
        let wrong: Character = expected == "0" ? "1" : "0"
        let line = Sample.customer.with(string: "id_number", first17 + String(wrong))
        #expect(try reason(line) == "line 1: id_number 110105********003\(wrong): check digit should be \(expected)")
    }
}
