/// Recognises field names that carry authentication data (JR/T 0171-2020 class C3: passwords, PINs,
/// card verification codes, magnetic track data), which TierGuard never accepts.
///
/// A name is split into words at `_`, `-`, `.`, spaces, digits-to-letters and camelCase humps and
/// lowercased. It is C3 when a word is one of `password passwd pwd passcode pin pinblock cvv cvv2 cvc
/// cvc2 cvn cvn2 cav2 cid2 track1 track2 track3 trackdata`, or when the words run together contain
/// `password`, `passwd`, `passcode`, `pinblock`, `cvv2`, `cvc2`, `track1`, `track2`, `track3` or
/// `trackdata` (so `loginPassword`, `track_2` and `card_cvv2` are caught while `shipping` or
/// `opinion` are not), or when the raw name contains `密码` (password) or `口令`.
enum AuthenticationDataField {
    static let words: Set<String> = [
        "password", "passwd", "pwd", "passcode", "pin", "pinblock", "cvv", "cvv2", "cvc", "cvc2", "cvn", "cvn2",
        "cav2", "cid2", "track1", "track2", "track3", "trackdata",
    ]
    static let joinedFragments = ["password", "passwd", "passcode", "pinblock", "cvv2", "cvc2", "track1", "track2", "track3", "trackdata"]

    static func isAuthenticationData(_ name: String) -> Bool {
        if name.contains("密码") || name.contains("口令") { return true }
        var tokens: [String] = []
        var current = ""
        var previous: Character?
        for ch in name {
            if !(ch.isASCII && (ch.isLetter || ch.isNumber)) {
                if !current.isEmpty { tokens.append(current) }
                current = ""
                previous = nil
                continue
            }
            if let p = previous, (p.isLowercase && ch.isUppercase) || (p.isNumber && ch.isLetter) {
                tokens.append(current)
                current = ""
            }
            current.append(ch)
            previous = ch
        }
        if !current.isEmpty { tokens.append(current) }
        let lower = tokens.map { $0.lowercased() }
        if lower.contains(where: words.contains) { return true }
        let joined = lower.joined()
        return joinedFragments.contains { joined.contains($0) }
    }

    static func reason(_ name: String) -> String {
        "field \(ReasonText.clip(name)) looks like authentication data (a password, PIN, card verification code or track data: JR/T 0171 class C3), which TierGuard never accepts; remove it from the feed"
    }
}
