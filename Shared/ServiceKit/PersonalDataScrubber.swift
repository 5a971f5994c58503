/// Masks identifiers that look like personal data in free text before it reaches a log line.
///
/// The scrubber scans UTF-8 bytes for maximal runs of ASCII digits (a run ends at any non-digit) and masks
/// a run by its shape, keeping its length so columns still line up:
/// - 18 characters, 17 digits then a digit or `X`/`x` (resident ID): first 6, 8 `*`, last 4
///   (`110105199001010021` → `110105********0021`);
/// - exactly 11 digits starting `1[3-9]` (mainland mobile): first 3, `****`, last 4 (`138****5678`);
/// - 13 to 19 digits passing the Luhn check (card number): first 6 and last 4 kept, the rest `*`.
///
/// It is deliberately a byte scanner and not a regular expression: it runs on every log line, and this
/// module cannot import `TierGuardModel`'s validators. It over-masks rather than under-masks (an 18-digit
/// run is masked whether or not its date and check digit are valid); names are not detected in free text,
/// so callers mask names before logging them.
public enum PersonalDataScrubber {
    /// The text with every identifier-shaped run masked; returns the input unchanged when none is found.
    public static func scrub(_ text: String) -> String {
        var utf8 = Array(text.utf8)
        guard maskInPlace(&utf8) else { return text }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// Masks in place; returns whether anything was masked.
    @discardableResult
    public static func maskInPlace(_ bytes: inout [UInt8]) -> Bool {
        let star = UInt8(ascii: "*")
        var changed = false
        var index = 0
        let count = bytes.count
        while index < count {
            guard isDigit(bytes[index]) else {
                index += 1
                continue
            }
            let start = index
            while index < count, isDigit(bytes[index]) { index += 1 }
            var end = index  // exclusive
            let digitCount = end - start
            // 17 digits followed by X/x form a resident ID; the X belongs to the run.
            if digitCount == 17, end < count, bytes[end] == UInt8(ascii: "X") || bytes[end] == UInt8(ascii: "x") {
                end += 1
                index = end
            }
            let length = end - start
            if length == 18 {
                for position in (start + 6)..<(end - 4) { bytes[position] = star }
                changed = true
            } else if length == 11, bytes[start] == UInt8(ascii: "1"),
                (UInt8(ascii: "3")...UInt8(ascii: "9")).contains(bytes[start + 1])
            {
                for position in (start + 3)..<(start + 7) { bytes[position] = star }
                changed = true
            } else if (13...19).contains(length), isLuhnValid(bytes[start..<end]) {
                for position in (start + 6)..<(end - 4) { bytes[position] = star }
                changed = true
            }
        }
        return changed
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// The Luhn mod-10 check over ASCII digits (the rightmost digit is the check digit).
    public static func isLuhnValid(_ digits: some BidirectionalCollection<UInt8>) -> Bool {
        var sum = 0
        var doubled = false
        for byte in digits.reversed() {
            guard isDigit(byte) else { return false }
            var value = Int(byte - UInt8(ascii: "0"))
            if doubled {
                value *= 2
                if value > 9 { value -= 9 }
            }
            sum += value
            doubled.toggle()
        }
        return sum % 10 == 0
    }
}
