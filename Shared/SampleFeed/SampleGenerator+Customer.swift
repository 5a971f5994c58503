import FeedContract
import TierGuardModel

extension SampleGenerator {
    /// One account of the customer being generated, with its end-of-day balance per day index.
    struct AccountPlan {
        var id: String
        var product: Product
        var productCode: String?
        var openedOn: CalendarDate
        var maturityOn: CalendarDate?
        var closedOn: CalendarDate?
        /// First and last day index with a balance.
        var firstDay: Int
        var lastDay: Int
        var daily: [Int64]
    }

    /// A transaction by day index (negative: before the balance window) and second of the
    /// Asia/Shanghai day.
    struct TxnPlan {
        var day: Int
        var second: Int
        var account: Int
        var amount: Int64
        var category: TransactionCategory
        var channel: Channel
        var bank: String?
        var text: String?
    }

    enum Mode { case flows, drift, newcomer, dormant }

    static let merchants = ["超市购物", "餐饮消费", "京东商城", "加油站", "航空机票", "酒店住宿", "医院缴费", "商场购物", "网上购物,含运费"]

    // swiftlint:disable:next function_body_length cyclomatic_complexity
    mutating func generateCustomer(index: Int, _ a: Assignment, drift: DriftDesign?) throws {
        var r = SampleRandom(seed: SampleRandom.derive(options.seed, UInt64(index) + 1))
        let customerId = "C" + ChineseIdentity.pad(index + 1, 8)
        let scenario = a.scenario
        let tier = a.tier
        let floor = policy.floors[tier].value
        let mode: Mode = switch scenario {
        case .aumDrift: .drift
        case .newHighValue: .newcomer
        case .inactive: .dormant
        default: .flows
        }

        // Base AUM inside the tier's band, in whole yuan.
        var base: Int64
        switch tier {
        case .standard: base = r.int64(800_000...3_000_000)
        case .privateBanking: base = r.int64(floor * 135 / 100...floor * 3)
        default: base = r.int64(floor * 135 / 100...policy.floors[Tier(rawValue: tier.rawValue + 1)!].value * 70 / 100)
        }
        base = base / 100 * 100
        var salary = tier == .standard ? base * Int64(r.int(100...300)) / 1000 : min(base * Int64(r.int(20...80)) / 1000, 15_000_000)
        salary = max(100_000, salary / 100 * 100)

        // New customer: first balance up to 10 days before BD, inside BD's month; month-to-date 月日均 ≈ 3.5M yuan.
        var firstDay = 0
        if mode == .newcomer {
            firstDay = max(days - bd.day, days - 10)
            let covered = Int64(days - firstDay)
            base = (350_000_000 * Int64(bd.day) / covered) / 1_000_000 * 1_000_000
        }

        // Identity.
        let region = r.pick(ChineseIdentity.regions)
        let female = r.chance(perMille: 500)
        var birth = CalendarDate(dayNumber: CalendarDate(year: bd.year - r.int(25...75), month: 1, day: 1)!.dayNumber + r.int(0...364))
        var birthdayOn: CalendarDate?
        if scenario == .birthdaySoon {
            var k = r.int(1...7)
            if bd.adding(days: k).month == 2 && bd.adding(days: k).day == 29 { k = k == 7 ? 6 : k + 1 }
            let target = bd.adding(days: k)
            birth = CalendarDate(year: target.year - r.int(30...70), month: target.month, day: target.day)!
            birthdayOn = target
        } else {
            let until = bd.days(until: nextBirthday(birth))
            if until <= 14 { birth = birth.adding(days: 30) }
        }
        let idRoll = r.below(1000)
        let idType: IdType = idRoll < 20 ? .passport : idRoll < 30 ? .other : .residentId
        let idNumber: String = switch idType {
        case .residentId: ChineseIdentity.residentID(region: region.code, birth: birth, female: female, &r)
        case .passport: "E" + ChineseIdentity.pad(Int(r.below(100_000_000)), 8)
        case .other: "H" + ChineseIdentity.pad(Int(r.below(100_000_000)), 8)
        }
        let writeBirth = scenario == .birthdaySoon || r.chance(perMille: 800)
        let writeGender = r.chance(perMille: 900)
        let phone: String? = r.chance(perMille: 950) ? ChineseIdentity.mobile(&r) : nil
        let name = ChineseIdentity.name(&r)
        let risk = RiskLevel(rawValue: r.int(1...5))!
        let assessedOn: CalendarDate = switch scenario {
        case .riskAssessmentExpired: bd.adding(days: -r.int(400...900))
        case .newHighValue: date(firstDay)
        default: bd.adding(days: -r.int(10...330))
        }
        let hasIncome = scenario == .cardSpendOverIncome || r.chance(perMille: 850)
        let income: Int64? = hasIncome ? salary * 12 * Int64(r.int(900...1200)) / 1000 / 100 * 100 : nil
        let rm = rms[1 + Int(r.below(UInt64(rms.count - 1)))]
        var rmId = rm.rmId
        var branchId = rm.branchId
        if index == unknownRmIndex {
            rmId = SampleGenerator.unknownRmId
            branchId = branchIds[0]
            customersWithUnknownRm.append(customerId)
        } else if !rm.active {
            customersOfInactiveRms.append(customerId)
        }
        let customerOpened = mode == .newcomer ? date(firstDay) : start.adding(days: -r.int(60...4000))
        let optOut = scenario == .marketingOptOut

        // Accounts.
        var accounts: [AccountPlan] = []
        func addAccount(_ product: Product, code: String?, opened: CalendarDate, maturity: CalendarDate? = nil,
                        firstDay: Int = 0) -> Int {
            let id = "A" + ChineseIdentity.pad(index + 1, 8) + ChineseIdentity.pad(accounts.count + 1, 2)
            accounts.append(AccountPlan(id: id, product: product, productCode: code, openedOn: opened, maturityOn: maturity,
                                        firstDay: firstDay, lastDay: days - 1, daily: [Int64](repeating: 0, count: days)))
            return accounts.count - 1
        }
        func openedBefore(_ r: inout SampleRandom) -> CalendarDate {
            max(customerOpened, start.adding(days: -r.int(5...900)))
        }
        let demand = addAccount(.demandDeposit, code: "DD01", opened: mode == .newcomer ? date(firstDay) : customerOpened,
                                firstDay: firstDay)
        var demandOpening = base
        var constants: [(account: Int, value: Int64)] = []
        var valued: [(account: Int, value: Int64)] = []
        var maturing: [String] = []
        var card: Int?
        var loan: Int?
        var oldAccount: Int?
        var oldOpening: Int64 = 0

        func timeDeposit(_ amount: Int64, maturity: CalendarDate, _ r: inout SampleRandom) -> Int {
            let term = r.int(1...3)
            let opened = min(maturity.adding(days: -365 * term), start.adding(days: -r.int(5...60)))
            let i = addAccount(.timeDeposit, code: "TD\(term)Y", opened: max(opened, customerOpened), maturity: maturity)
            constants.append((i, amount))
            return i
        }

        switch mode {
        case .drift:
            // Total AUM follows the design path; a time deposit of 0.25 × floor stays put.
            let td = floor / 4 / 100 * 100
            _ = timeDeposit(td, maturity: bd.adding(days: r.int(60...700)), &r)
            demandOpening = 0
        case .newcomer:
            demandOpening = 0
        case .dormant:
            demandOpening = base * Int64(r.int(300...450)) / 1000 / 100 * 100
            _ = timeDeposit(base - demandOpening, maturity: bd.adding(days: r.int(60...700)), &r)
        case .flows:
            var demandShare = tier == .standard ? base : max(base / 4, salary * 4)
            if scenario == .competitorTransfer { demandShare = base * 70 / 100 }
            demandShare = min(base, demandShare) / 100 * 100
            var rest = base - demandShare
            if scenario == .maturitySoon {
                let amount = min(rest, max(15_000_000, base * 40 / 100 / 1_000_000 * 1_000_000))
                let i = timeDeposit(amount, maturity: bd.adding(days: r.int(2...12)), &r)
                maturing.append(accounts[i].id)
                rest -= amount
            }
            if rest > 0 {
                var products: [Product] = []
                if r.chance(perMille: 600) { products.append(.timeDeposit) }
                if r.chance(perMille: tier >= .platinum ? 700 : 300) { products.append(.wealth) }
                if r.chance(perMille: 250) { products.append(.fund) }
                if r.chance(perMille: 150) { products.append(.insurance) }
                if products.isEmpty { products.append(.timeDeposit) }
                let weights = products.map { _ in Int64(r.int(1...10)) }
                let total = weights.reduce(0, +)
                var left = rest
                for (k, product) in products.enumerated() {
                    let amount = k == products.count - 1 ? left : rest * weights[k] / total / 100 * 100
                    left -= amount
                    switch product {
                    case .timeDeposit: _ = timeDeposit(amount, maturity: bd.adding(days: r.int(20...720)), &r)
                    case .wealth:
                        let maturity: CalendarDate? = r.chance(perMille: 600) ? bd.adding(days: r.int(20...400)) : nil
                        valued.append((addAccount(.wealth, code: "WM" + String(r.int(100...999)), opened: openedBefore(&r), maturity: maturity), amount))
                    case .fund:
                        valued.append((addAccount(.fund, code: "FD" + String(r.int(100_000...999_999)), opened: openedBefore(&r)), amount))
                    default:
                        constants.append((addAccount(.insurance, code: "INS" + String(r.int(10...99)), opened: openedBefore(&r)), amount))
                    }
                }
            }
            demandOpening = demandShare
            if scenario == .cardSpendOverIncome || r.chance(perMille: 700) {
                card = addAccount(.creditCard, code: tier >= .platinum ? "CCPLAT" : "CCGOLD", opened: openedBefore(&r))
            }
            if r.chance(perMille: tier == .standard ? 100 : 200) {
                loan = addAccount(.loan, code: r.chance(perMille: 500) ? "ML30" : "CL05", opened: openedBefore(&r),
                                  maturity: bd.adding(days: r.int(400...9000)))
            }
            if r.chance(perMille: 50) {
                oldOpening = max(10_000, base * Int64(r.int(5...20)) / 1000 / 100 * 100)
                oldAccount = addAccount(.demandDeposit, code: "DD01", opened: customerOpened)
            }
        }

        // Daily simulation.
        var txns: [TxnPlan] = []
        var bal = demandOpening
        let livingBank = r.pick(SampleGenerator.competitorBanks)
        let payrollBank = r.chance(perMille: 600) ? options.bankCode : r.pick(SampleGenerator.competitorBanks)
        var cardBal: Int64 = card == nil ? 0 : -(salary * Int64(r.int(50...250)) / 1000)
        var repayDue = -cardBal
        var monthSpend: Int64 = 0
        var loanBal: Int64 = loan == nil ? 0 : -r.int64(5_000_000...200_000_000) / 100 * 100
        let loanPayment = loan == nil ? 0 : min(salary / 5, -loanBal / 120) / 100 * 100
        var oldBal = oldOpening
        let closeDay = oldAccount == nil ? -1 : r.int(days / 3...days - 10)
        if let oldAccount { accounts[oldAccount].closedOn = date(closeDay); accounts[oldAccount].lastDay = closeDay }
        var livingDay = 0, atmDay = -1
        var atmAmount: Int64 = 0, savings: Int64 = 0, repaid: Int64 = 0
        let transferDay = scenario == .competitorTransfer ? days - 3 : -1
        let transferAmount = base * 55 / 100 / 1_000_000 * 1_000_000
        var bigSpends: [(day: Int, amount: Int64)] = []
        if scenario == .cardSpendOverIncome, let income {
            let total = income / 12 * 2 * Int64(r.int(1250...1600)) / 1000
            let parts = r.int(3...6)
            for k in 0..<parts {
                let amount = k == parts - 1 ? total - bigSpends.reduce(0) { $0 + $1.amount } : total / Int64(parts)
                bigSpends.append((days - 1 - r.int(0...25), amount))
            }
        }
        var dormantDay = Int.min
        var dormantAmount: Int64 = 0
        if mode == .dormant {
            dormantDay = days - 1 - r.int(65...85)
            dormantAmount = r.int64(500_000...5_000_000) / 100 * 100
            if dormantDay >= 0 { bal -= dormantAmount }
            txns.append(TxnPlan(day: dormantDay, second: r.int(33_000...55_000), account: demand, amount: dormantAmount,
                                category: .deposit, channel: .branch, bank: nil, text: "现金存款"))
        }
        // Drift path, in fen of total AUM on day d.
        let tdPart = constants.first?.value ?? 0
        func driftTarget(_ d: Int) -> Int64 {
            guard let drift else { return 0 }
            if d >= drift.windowStart {
                let span = Int64(max(1, days - 1 - drift.windowStart))
                return floor * (980_000 - 120_000 * Int64(d - drift.windowStart) / span) / 1_000_000
            }
            let month = drift.preMonths.first { d >= $0.first && d <= $0.last }!
            if month.isFull && month.month == drift.preMonths.last!.month {
                return floor * (1_300_000 - 250_000 * Int64(d - month.first) / Int64(max(1, month.coverage - 1))) / 1_000_000
            }
            if month.coverage * 10 >= month.month.days * 3 {
                return floor * 1300 * Int64(month.month.days) / Int64(month.coverage) / 1000
            }
            return floor * 1300 / 1000
        }

        for d in 0..<days {
            let day = date(d)
            func post(_ account: Int, _ amount: Int64, _ category: TransactionCategory, _ channel: Channel,
                      _ second: Int, bank: String? = nil, _ text: String?) {
                txns.append(TxnPlan(day: d, second: second, account: account, amount: amount, category: category,
                                    channel: channel, bank: bank, text: text))
            }
            if d < firstDay { continue }
            if mode == .newcomer && d == firstDay {
                bal = base
                post(demand, base, .transferIn, .branch, r.int(34_000...40_000), bank: r.pick(SampleGenerator.competitorBanks), "他行转入")
            }
            if mode == .drift {
                let target = driftTarget(d) - tdPart
                if d == 0 {
                    bal = target / 10_000 * 10_000
                } else if d % 7 == 0 || day.day == 1 {
                    let delta = (target - bal) / 10_000 * 10_000
                    if delta <= -10_000 {
                        bal += delta
                        post(demand, delta, .transferOut, .mobile, r.int(32_400...75_600), bank: livingBank, "转账")
                    } else if delta >= 10_000 {
                        bal += delta
                        post(demand, delta, .transferIn, .online, r.int(32_400...75_600), bank: livingBank, "转入")
                    }
                }
            }
            if day.day == 1 && d > firstDay {
                bal -= 200
                post(demand, -200, .fee, .online, 10_800, "短信服务费")
            }
            if d == dormantDay { bal += dormantAmount }
            if day.day == 21 && day.month % 3 == 0 {
                let interest = max(1, bal * 35 / 40_000)
                bal += interest
                post(demand, interest, .interest, .online, 3_600, "结息")
            }
            if mode == .flows {
                if d == 0 || day.day == 1 {
                    if d > 0 { repayDue = monthSpend }
                    monthSpend = 0
                    repaid = 0
                    livingDay = r.int(15...25)
                    atmDay = r.chance(perMille: 300) ? r.int(1...28) : -1
                    atmAmount = max(10_000, salary * Int64(r.int(20...100)) / 1000 / 10_000 * 10_000)
                    savings = salary * Int64(r.int(0...150)) / 1000
                }
                if day.day == 5, let card, repayDue > 0 {
                    let second = r.int(32_400...36_000)
                    bal -= repayDue
                    cardBal += repayDue
                    post(demand, -repayDue, .transferOut, .mobile, second, bank: options.bankCode, "信用卡还款")
                    post(card, repayDue, .repayment, .mobile, second, "信用卡还款")
                    repaid = repayDue
                    repayDue = 0
                }
                if day.day == 10 {
                    bal += salary
                    post(demand, salary, .transferIn, .online, 36_000, bank: payrollBank, "代发工资")
                }
                if day.day == 20, let loan {
                    bal -= loanPayment
                    loanBal += loanPayment
                    post(demand, -loanPayment, .transferOut, .online, 30_600, bank: options.bankCode, "贷款还款")
                    post(loan, loanPayment, .repayment, .online, 30_600, "贷款还款")
                }
                if day.day == atmDay {
                    bal -= atmAmount
                    post(demand, -atmAmount, .withdrawal, .atm, r.int(43_200...50_400), "ATM取款")
                }
                if day.day == livingDay {
                    let atm = atmDay > 0 ? atmAmount : 0
                    let living = (salary - repaid - loanPayment - atm - savings) / 100 * 100
                    if living >= 10_000 {
                        bal -= living
                        post(demand, -living, .transferOut, .mobile, r.int(68_400...75_600), bank: livingBank, "转账")
                    }
                }
                if let card, r.chance(perMille: 140) {
                    let amount = max(100, salary * Int64(r.int(10...80)) / 1000)
                    if monthSpend + amount <= salary * 3 / 10 {
                        monthSpend += amount
                        cardBal -= amount
                        post(card, -amount, .cardSpend, r.chance(perMille: 600) ? .pos : .online, r.int(32_400...79_200),
                             r.pick(SampleGenerator.merchants))
                    }
                }
                if let card {
                    for spend in bigSpends where spend.day == d {
                        cardBal -= spend.amount
                        post(card, -spend.amount, .cardSpend, .pos, r.int(36_000...75_600), "珠宝首饰")
                    }
                }
                if d == transferDay {
                    bal -= transferAmount
                    post(demand, -transferAmount, .transferOut, .mobile, 51_780, bank: r.pick(SampleGenerator.competitorBanks), "转账至他行")
                }
                if let oldAccount, d == closeDay {
                    let second = r.int(36_000...57_600)
                    post(oldAccount, -oldBal, .transferOut, .branch, second, bank: options.bankCode, "销户转出")
                    post(demand, oldBal, .transferIn, .branch, second, bank: options.bankCode, "销户转入")
                    bal += oldBal
                    oldBal = 0
                }
            }
            accounts[demand].daily[d] = bal
            if let card { accounts[card].daily[d] = cardBal }
            if let loan { accounts[loan].daily[d] = loanBal }
            if let oldAccount { accounts[oldAccount].daily[d] = oldBal }
        }
        for (account, value) in constants {
            for d in 0..<days { accounts[account].daily[d] = value }
        }
        for (account, value) in valued {
            var nav: Int64 = 1_000_000
            for d in 0..<days {
                nav += nav * Int64(r.int(-15...15)) / 10_000
                nav = min(1_030_000, max(970_000, nav))
                accounts[account].daily[d] = value * nav / 1_000_000
            }
        }

        // Records.
        let customerFields: [(String, FeedOutput.Value)] = [
            ("customer_id", .text(customerId)), ("name", .text(name)),
            ("id_type", idType == .residentId && r.chance(perMille: 500) ? .absent : .text(idType.rawValue)),
            ("id_number", .text(idNumber)), ("phone", phone.map { .text($0) } ?? .absent),
            ("birth_date", writeBirth ? .text(birth.description) : .absent),
            ("gender", writeGender ? .text(female ? "F" : "M") : .absent),
            ("risk_level", .text(risk.code)), ("risk_assessed_on", .text(assessedOn.description)),
            ("annual_income", income.map { .money(Fen($0)) } ?? .absent), ("rm_id", .text(rmId)),
            ("branch_id", .text(branchId)), ("opened_on", .text(customerOpened.description)), ("status", .text("active")),
            ("marketing_opt_out", optOut ? .bool(true) : r.chance(perMille: 500) ? .bool(false) : .absent),
        ]
        try output.emit(.customer, customerFields)
        counts.customer += 1

        txns.sort { ($0.account, $0.day, $0.second) < ($1.account, $1.day, $1.second) }
        var seq = 0
        var t = 0
        for (k, account) in accounts.enumerated() {
            let idBytes = Array(account.id.utf8)
            let balanceDays = account.firstDay...account.lastDay
            let early = balanceDays.count > 4 && r.chance(perMille: 100) ? r.int(1...3) : 0
            var d = account.firstDay
            while d < account.firstDay + early {
                try output.emitBalance(accountId: idBytes, date: dateBytes[d], fen: account.daily[d])
                d += 1
            }
            try output.emit(.account, [
                ("account_id", .text(account.id)), ("customer_id", .text(customerId)),
                ("product", .text(account.product.rawValue)), ("product_code", account.productCode.map { .text($0) } ?? .absent),
                ("currency", .text("CNY")), ("opened_on", .text(account.openedOn.description)),
                ("maturity_on", account.maturityOn.map { .text($0.description) } ?? .absent),
                ("closed_on", account.closedOn.map { .text($0.description) } ?? .absent),
            ])
            counts.account += 1
            while d <= account.lastDay {
                try output.emitBalance(accountId: idBytes, date: dateBytes[d], fen: account.daily[d])
                d += 1
            }
            counts.balance += balanceDays.count
            while t < txns.count && txns[t].account == k {
                let txn = txns[t]
                seq += 1
                try output.emit(.transaction, [
                    ("txn_id", .text("T" + ChineseIdentity.pad(index + 1, 8) + ChineseIdentity.pad(seq, 5))),
                    ("account_id", .text(account.id)), ("booked_at", .text(bookedAt(day: txn.day, second: txn.second, &r))),
                    ("amount", .money(Fen(txn.amount))), ("category", .text(txn.category.rawValue)),
                    ("channel", .text(txn.channel.rawValue)), ("counterparty_bank", txn.bank.map { .text($0) } ?? .absent),
                    ("description", txn.text.map { .text($0) } ?? .absent),
                ])
                counts.transaction += 1
                t += 1
            }
        }
        lastBalance = (accounts[demand].id, days - 1, accounts[demand].daily[days - 1])

        // Expectations.
        var signals: [SignalCode] = []
        switch scenario {
        case .competitorTransfer: signals = [.suddenDrop, .outflowToCompetitor]
        case .maturitySoon: signals = [.maturityUpcoming]
        case .inactive: signals = [.inactive]
        case .riskAssessmentExpired: signals = [.riskAssessmentExpired]
        case .cardSpendOverIncome: signals = [.creditRisk]
        default: break
        }
        var downgrade: ScenarioManifest.ExpectedDowngrade?
        if scenario == .aumDrift, let drift {
            downgrade = .init(effectiveOn: drift.effectiveOn.description, fromTier: tier.code, toTier: tier.below!.code)
        }
        expectations[scenario, default: []].append(.init(
            customerId: customerId, tier: tier.code, provisional: mode == .newcomer, downgradeRisk: downgrade != nil,
            downgrade: downgrade, signals: signals.sorted().map(\.rawValue), birthdayOn: birthdayOn?.description,
            maturingAccounts: maturing.isEmpty ? nil : maturing, marketingOptOut: optOut, rmId: rmId))
    }

    /// The next birthday strictly after BD (29 February counts as 1 March in other years).
    func nextBirthday(_ birth: CalendarDate) -> CalendarDate {
        for year in [bd.year, bd.year + 1] {
            let day = CalendarDate(year: year, month: birth.month, day: birth.day) ?? CalendarDate(year: year, month: 3, day: 1)!
            if day > bd { return day }
        }
        return CalendarDate(year: bd.year + 1, month: birth.month, day: min(birth.day, 28))!
    }

    /// RFC 3339 for an Asia/Shanghai wall time: mostly `+08:00`, a quarter as the same instant in
    /// UTC with `Z`, some with 3 or 6 fraction digits, as different upstream systems write them.
    func bookedAt(day: Int, second: Int, _ r: inout SampleRandom) -> String {
        let style = r.below(100)
        let fraction: String = switch r.below(10) {
        case 0, 1: "." + ChineseIdentity.pad(r.int(0...999), 3)
        case 2: "." + ChineseIdentity.pad(r.int(0...999_999), 6)
        default: ""
        }
        let local = start.adding(days: day)
        if style < 25 {
            let total = local.dayNumber * 86_400 + second - 8 * 3600
            let utcDay = total >= 0 ? total / 86_400 : (total - 86_399) / 86_400
            let s = total - utcDay * 86_400
            return CalendarDate(dayNumber: utcDay).description + "T" + clock(s) + fraction + "Z"
        }
        return local.description + "T" + clock(second) + fraction + "+08:00"
    }

    func clock(_ s: Int) -> String {
        ChineseIdentity.pad(s / 3600, 2) + ":" + ChineseIdentity.pad(s / 60 % 60, 2) + ":" + ChineseIdentity.pad(s % 60, 2)
    }
}

extension SampleScenario {
    var isSteady: Bool {
        switch self {
        case .steadyStandard, .steadyGold, .steadyPlatinum, .steadyDiamond, .steadyPrivate: true
        default: false
        }
    }
}
