/// Comparison whose running time does not depend on where two byte strings differ.
///
/// For comparing a presented bearer token's hash with a stored one: an early-exit `==` would tell an
/// attacker, through timing, how many leading bytes were right. The length is not secret (hashes have a
/// fixed length), so different lengths return `false` at once.
public enum ConstantTime {
    public static func equals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (left, right) in zip(lhs, rhs) { difference |= left ^ right }
        return difference == 0
    }

    /// Compares the UTF-8 bytes of two strings.
    public static func equals(_ lhs: String, _ rhs: String) -> Bool {
        equals(Array(lhs.utf8), Array(rhs.utf8))
    }
}
