import FeedContract
import Foundation
import Testing

@Suite struct ThroughputTests {
    /// Parses 200,000 generated transaction lines (about 260 bytes each) and prints lines/s. No time
    /// is asserted: a debug build on a shared machine says little; the release figure is in the docs.
    @Test func parsesTwoHundredThousandTransactionLines() throws {
        let count = 200_000
        var text = ""
        text.reserveCapacity(count * 270)
        let categories = ["deposit", "withdrawal", "transfer_in", "transfer_out", "card_spend"]
        for i in 0..<count {
            let amount = "\(i % 2 == 0 ? "-" : "")\(i % 100_000).\(i % 90 + 10)"
            text += "{\"type\":\"transaction\",\"txn_id\":\"T\(i)\",\"account_id\":\"A\(i % 30_000)\","
            text += "\"booked_at\":\"2026-03-\(10 + i % 19)T10:15:30.123+08:00\",\"amount\":\"\(amount)\","
            text += "\"category\":\"\(categories[i % 5])\",\"channel\":\"mobile\",\"counterparty_bank\":\"ICBC\","
            text += "\"description\":\"monthly transfer to savings plan number \(i % 977)\"}\n"
        }
        let bytes = Array(text.utf8)
        var accepted = 0
        let start = Date()
        try FeedDecoder.decode(FeedLineReader(bytes: bytes), format: .ndjson) { item in
            if item.record != nil { accepted += 1 }
        }
        let seconds = Date().timeIntervalSince(start)
        #expect(accepted == count)
        print("FeedContract: \(count) transaction lines (\(bytes.count / count) bytes each) in \(String(format: "%.3f", seconds)) s = \(Int(Double(count) / seconds)) lines/s")
    }
}
