import FeedContract
public import Foundation
public import TierGuardModel

extension SampleFeed {
    /// The ingest benchmark's feed: `customers` customer lines, one demand-deposit account and one
    /// balance (on `businessDate`) per customer, then `count` transaction lines spread over those
    /// accounts and the 30 days up to `businessDate`, all NDJSON.
    ///
    /// Lines are assembled as bytes into a 1 MiB buffer that is written to `handle` whenever it
    /// fills, so memory stays flat whatever `count` is (about 240 bytes a transaction line: ids,
    /// an RFC 3339 time with milliseconds, counterparty bank and a Chinese description). Every line is
    /// valid; the same arguments give the same bytes. Account ids are `A` + 8-digit customer number
    /// + `01`, transaction ids `B` + 12 digits.
    @discardableResult
    public static func writeTransactionsOnly(count: Int, customers: Int, seed: UInt64,
                                             businessDate: CalendarDate = defaultBusinessDate, bankCode: String = "TGBK",
                                             to handle: FileHandle) throws -> TransactionsOnlySummary {
        precondition(count >= 0 && customers >= 1)
        var r = SampleRandom(seed: SampleRandom.derive(seed, 0x7E57_0000))
        var buffer: [UInt8] = []
        let chunk = 1 << 20
        buffer.reserveCapacity(chunk + 4096)
        var bytesWritten = 0
        func flushIfFull(_ force: Bool = false) throws {
            if buffer.count >= chunk || (force && !buffer.isEmpty) {
                try handle.write(contentsOf: buffer)
                bytesWritten += buffer.count
                buffer.removeAll(keepingCapacity: true)
            }
        }
        let bd = businessDate
        let branch = "BJ001"
        var accountIds: [[UInt8]] = []
        accountIds.reserveCapacity(customers)
        for i in 0..<customers {
            let id = "C" + ChineseIdentity.pad(i + 1, 8)
            let female = r.chance(perMille: 500)
            let birth = CalendarDate(dayNumber: CalendarDate(year: bd.year - r.int(25...70), month: 1, day: 1)!.dayNumber + r.int(0...364))
            FeedOutput.encode(csv: false, .customer, [
                ("customer_id", .text(id)), ("name", .text(ChineseIdentity.name(&r))),
                ("id_number", .text(ChineseIdentity.residentID(region: r.pick(ChineseIdentity.regions).code, birth: birth, female: female, &r))),
                ("phone", .text(ChineseIdentity.mobile(&r))), ("birth_date", .text(birth.description)),
                ("risk_level", .text("C3")), ("risk_assessed_on", .text(bd.adding(days: -r.int(10...300)).description)),
                ("rm_id", .text("RM" + ChineseIdentity.pad(i / 50 + 1, 4))), ("branch_id", .text(branch)),
                ("opened_on", .text(bd.adding(days: -r.int(100...3000)).description)), ("status", .text("active")),
            ], into: &buffer)
            buffer.append(0x0A)
            let account = "A" + ChineseIdentity.pad(i + 1, 8) + "01"
            FeedOutput.encode(csv: false, .account, [
                ("account_id", .text(account)), ("customer_id", .text(id)), ("product", .text("demand_deposit")),
                ("product_code", .text("DD01")), ("currency", .text("CNY")),
                ("opened_on", .text(bd.adding(days: -r.int(100...3000)).description)),
            ], into: &buffer)
            buffer.append(0x0A)
            let accountBytes = Array(account.utf8)
            buffer.append(contentsOf: FeedOutput.balancePrefix)
            buffer.append(contentsOf: accountBytes)
            buffer.append(contentsOf: FeedOutput.asOfKey)
            buffer.append(contentsOf: bd.description.utf8)
            buffer.append(contentsOf: FeedOutput.balanceKey)
            FeedOutput.appendMoney(&buffer, r.int64(100_000...500_000_000))
            buffer.append(contentsOf: FeedOutput.closeString)
            buffer.append(0x0A)
            accountIds.append(accountBytes)
            try flushIfFull()
        }

        let dates = (0..<30).map { Array(bd.adding(days: $0 - 29).description.utf8) }
        let outgoing: [(category: [UInt8], channel: [UInt8], text: [UInt8])] = [
            (Array("card_spend".utf8), Array("pos".utf8), Array("超市购物".utf8)),
            (Array("transfer_out".utf8), Array("mobile".utf8), Array("转账".utf8)),
            (Array("withdrawal".utf8), Array("atm".utf8), Array("ATM取款".utf8)),
            (Array("purchase".utf8), Array("online".utf8), Array("购买理财产品".utf8)),
        ]
        let incoming: [(category: [UInt8], channel: [UInt8], text: [UInt8])] = [
            (Array("transfer_in".utf8), Array("online".utf8), Array("代发工资".utf8)),
            (Array("deposit".utf8), Array("branch".utf8), Array("现金存款".utf8)),
            (Array("redemption".utf8), Array("mobile".utf8), Array("理财赎回".utf8)),
        ]
        let banks = ([bankCode] + SampleGenerator.competitorBanks).map { Array($0.utf8) }
        let p1 = Array("{\"type\":\"transaction\",\"txn_id\":\"B".utf8)
        let p2 = Array("\",\"account_id\":\"".utf8)
        let p3 = Array("\",\"booked_at\":\"".utf8)
        let p4 = Array("+08:00\",\"amount\":\"".utf8)
        let p5 = Array("\",\"category\":\"".utf8)
        let p6 = Array("\",\"channel\":\"".utf8)
        let p7 = Array("\",\"counterparty_bank\":\"".utf8)
        let p8 = Array("\",\"description\":\"".utf8)
        for k in 0..<count {
            buffer.append(contentsOf: p1)
            appendPadded(&buffer, UInt64(k + 1), 12)
            buffer.append(contentsOf: p2)
            buffer.append(contentsOf: accountIds[Int(r.below(UInt64(customers)))])
            buffer.append(contentsOf: p3)
            buffer.append(contentsOf: dates[Int(r.below(30))])
            buffer.append(0x54)
            let second = 28_800 + Int(r.below(50_400))
            appendPadded(&buffer, UInt64(second / 3600), 2)
            buffer.append(0x3A)
            appendPadded(&buffer, UInt64(second / 60 % 60), 2)
            buffer.append(0x3A)
            appendPadded(&buffer, UInt64(second % 60), 2)
            buffer.append(0x2E)
            appendPadded(&buffer, r.below(1000), 3)
            buffer.append(contentsOf: p4)
            let amount = Int64(r.below(2_000_000)) + 1
            let out = r.below(10) < 7
            FeedOutput.appendMoney(&buffer, out ? -amount : amount)
            let kind = out ? outgoing[Int(r.below(UInt64(outgoing.count)))] : incoming[Int(r.below(UInt64(incoming.count)))]
            buffer.append(contentsOf: p5)
            buffer.append(contentsOf: kind.category)
            buffer.append(contentsOf: p6)
            buffer.append(contentsOf: kind.channel)
            buffer.append(contentsOf: p7)
            buffer.append(contentsOf: banks[Int(r.below(UInt64(banks.count)))])
            buffer.append(contentsOf: p8)
            buffer.append(contentsOf: kind.text)
            buffer.append(contentsOf: FeedOutput.closeString)
            buffer.append(0x0A)
            if buffer.count >= chunk { try flushIfFull() }
        }
        try flushIfFull(true)
        return TransactionsOnlySummary(customers: customers, accounts: customers, balances: customers, transactions: count,
                                       bytes: bytesWritten)
    }

    @inline(__always)
    static func appendPadded(_ buffer: inout [UInt8], _ value: UInt64, _ width: Int) {
        var divisor: UInt64 = 1
        for _ in 1..<width { divisor *= 10 }
        var v = value
        while divisor > 0 {
            buffer.append(UInt8(48 + v / divisor % 10))
            v %= divisor
            divisor /= 10
        }
    }
}

/// What `writeTransactionsOnly` wrote: lines = customers + accounts + balances + transactions.
public struct TransactionsOnlySummary: Sendable, Hashable {
    public var customers: Int
    public var accounts: Int
    public var balances: Int
    public var transactions: Int
    public var bytes: Int
    public var lines: Int { customers + accounts + balances + transactions }
}
