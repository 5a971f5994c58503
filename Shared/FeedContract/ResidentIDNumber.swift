public import TierGuardModel

/// The mainland resident identity number of GB 11643-1999 (公民身份号码), 18 characters.
///
/// Characters 1–6 are the region (not checked: codes change over the years), 7–14 the birth date
/// `YYYYMMDD` (must be a real date), 15–17 a sequence number, 18 the check character: the sum of the
/// first 17 digits times the weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, modulo 11, picks
/// `1 0 X 9 8 7 6 5 4 3 2` (ISO 7064 MOD 11-2). Only an uppercase `X` is accepted; the 15-digit
/// first-generation numbers are refused (they have no check character and a two-digit year).
public enum ResidentIDNumber {
    public static let weights: [Int] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    static let checkBytes: [UInt8] = Array("10X98765432".utf8)

    /// Why a number is not a valid resident ID.
    public enum Fault: Error, Hashable, Sendable {
        case firstGeneration
        case wrongLength(Int)
        /// 18 characters, but not all ASCII: a full-width `Ｘ` or `０` from an input method.
        case notASCII
        case notDigits
        case lowercaseX
        case badCheckCharacter
        case notARealDate
        case wrongCheckCharacter(expected: Character)

        /// The problem, in words, without the number itself.
        public var message: String {
            switch self {
            case .firstGeneration: "15-digit first-generation numbers are refused; give the 18-character number"
            case .wrongLength(let n): "must be 18 characters (17 digits and a check digit or X), got \(n)"
            case .notASCII: "must be ASCII digits and X; a full-width character (Ｘ, ０–９) is not accepted"
            case .notDigits: "characters 1–17 must be digits"
            case .lowercaseX: "check character is a lowercase x; only an uppercase X is accepted"
            case .badCheckCharacter: "the 18th character must be a digit or X"
            case .notARealDate: "characters 7–14 are not a real date (YYYYMMDD)"
            case .wrongCheckCharacter(let expected): "check digit should be \(expected)"
            }
        }
    }

    /// The check character (`0`–`9` or `X`) of 17 leading digits; nil unless exactly 17 ASCII digits.
    public static func checkCharacter(forFirst17 digits: some StringProtocol) -> Character? {
        let bytes = Array(digits.utf8)
        guard bytes.count == 17, bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return bytes.withUnsafeBufferPointer { Character(UnicodeScalar(checkByte($0.baseAddress!))) }
    }

    @inline(__always)
    static func checkByte(_ p: UnsafePointer<UInt8>) -> UInt8 {
        var sum = 0
        for i in 0..<17 { sum += Int(p[i] &- 48) * weights[i] }
        return checkBytes[sum % 11]
    }

    /// Checks a number; on success returns the birth date it carries.
    public static func validate(_ text: some StringProtocol) -> Result<CalendarDate, Fault> {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { validate(UnsafeBufferPointer($0)) }
    }

    static func validate(_ b: UnsafeBufferPointer<UInt8>) -> Result<CalendarDate, Fault> {
        @inline(__always) func isDigit(_ x: UInt8) -> Bool { x >= 48 && x <= 57 }
        if b.count == 15 && b.allSatisfy(isDigit) { return .failure(.firstGeneration) }
        guard b.count == 18 else {
            let characters = String(decoding: b, as: UTF8.self).count
            return .failure(characters == 18 ? .notASCII : .wrongLength(characters))
        }
        for i in 0..<17 where !isDigit(b[i]) { return .failure(.notDigits) }
        let last = b[17]
        if last == UInt8(ascii: "x") { return .failure(.lowercaseX) }
        guard isDigit(last) || last == UInt8(ascii: "X") else { return .failure(.badCheckCharacter) }
        func number(_ range: Range<Int>) -> Int { range.reduce(0) { $0 * 10 + Int(b[$1] - 48) } }
        guard let birth = CalendarDate(year: number(6..<10), month: number(10..<12), day: number(12..<14)) else {
            return .failure(.notARealDate)
        }
        let expected = checkByte(b.baseAddress!)
        guard expected == last else { return .failure(.wrongCheckCharacter(expected: Character(UnicodeScalar(expected)))) }
        return .success(birth)
    }
}
