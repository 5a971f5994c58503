extension Masking {
    /// Feed fields whose values are personal data, with the mask each gets in a raw feed line.
    static let personalFeedFields: [(key: String, mask: @Sendable (String) -> String)] = [
        ("name", Masking.name), ("id_number", Masking.idNumber), ("phone", Masking.phone),
        ("mobile", Masking.phone), ("email", Masking.email), ("description", { _ in "***" }),
        ("comment", { _ in "***" }),
    ]

    /// `zhang.san@bank.cn` → `z********@bank.cn`: the first character and the domain stay.
    public static func email(_ email: String) -> String {
        guard let at = email.firstIndex(of: "@"), at > email.startIndex else { return String(repeating: "*", count: email.count) }
        let local = email[..<at]
        return String(local.prefix(1)) + String(repeating: "*", count: max(0, local.count - 1)) + email[at...]
    }

    /// A raw NDJSON feed line (as kept with a reject) with every personal field masked, for screens
    /// and logs: the string values of `name`, `id_number`, `phone`, `mobile`, `email`, `description`
    /// and `comment` are masked wherever `"key": "value"` appears, even in a line that is not valid
    /// JSON, and `scrub` then masks identifiers anywhere else. A CSV line has no keys: only `scrub` applies.
    public static func feedLine(_ raw: String) -> String {
        var text = raw
        for (key, mask) in personalFeedFields {
            text = maskStringValues(of: key, in: text, with: mask)
        }
        return scrub(text)
    }

    /// Replaces the string value after each `"key"` followed by optional spaces, `:`, optional spaces.
    static func maskStringValues(of key: String, in text: String, with mask: (String) -> String) -> String {
        let chars = Array(text)
        let needle = Array("\"\(key)\"")
        var out: [Character] = []
        out.reserveCapacity(chars.count)
        var i = 0
        while i < chars.count {
            guard i + needle.count <= chars.count, Array(chars[i..<(i + needle.count)]) == needle else {
                out.append(chars[i]); i += 1; continue
            }
            out.append(contentsOf: needle)
            var j = i + needle.count
            while j < chars.count, chars[j] == " " { out.append(chars[j]); j += 1 }
            guard j < chars.count, chars[j] == ":" else { i = j; continue }
            out.append(":"); j += 1
            while j < chars.count, chars[j] == " " { out.append(chars[j]); j += 1 }
            guard j < chars.count, chars[j] == "\"" else { i = j; continue }
            var k = j + 1
            var value: [Character] = []
            while k < chars.count, chars[k] != "\"" {
                if chars[k] == "\\", k + 1 < chars.count { value.append(chars[k]); k += 1 }
                value.append(chars[k]); k += 1
            }
            out.append("\"")
            out.append(contentsOf: mask(String(value)))
            if k < chars.count { out.append("\"") }
            i = k + 1
        }
        return String(out)
    }
}
