import FeedContract
import Foundation
import TierGuardModel

/// Builds one sample feed: RMs, customers with their accounts, daily balances and transactions,
/// invalid lines, and the expectations of `scenarios.json`.
///
/// Customers are generated one at a time (memory is one customer's daily series) from their own
/// random stream, so a customer's records depend only on the seed, its index and its scenario.
/// Balances and transactions agree: demand deposits, cards and loans move only by the transactions
/// generated for them; time deposits and insurance are constant; wealth and fund balances move with
/// a bounded daily valuation walk (±0.15% a day, within ±3%), as market values do, without transactions.
///
/// Why background customers are quiet: every `steady_*` customer is listed in `scenarios.json` with
/// "no signal, no downgrade", so the data keep clear of every threshold — monthly flows are at most
/// 8% of AUM (so no 30% drop), transfers to other banks stay far below 30% of AUM, card spend is at
/// most 0.3 × monthly salary against a limit of 2 × annual_income / 12, risk assessments are 10–330
/// days old, time deposits and wealth products mature 20 days or more after the business date, and
/// no birthday falls within 14 days (only `birthday_this_week` customers have one that close).
struct SampleGenerator {
    let options: SampleFeedOptions
    let output: FeedOutput
    let policy = ScoringPolicy.builtIn
    let bd: CalendarDate
    let days: Int
    let start: CalendarDate
    let dateBytes: [[UInt8]]
    let dateTexts: [String]
    let months: [MonthSlice]

    var counts = ScenarioManifest.RecordCounts()
    var invalid: [ScenarioManifest.InvalidLine] = []
    var expectations: [SampleScenario: [ScenarioManifest.CustomerExpectation]] = [:]
    var skipped: [ScenarioManifest.SkippedScenario] = []
    var rms: [RMPlan] = []
    var branchIds: [String] = []
    var customersOfInactiveRms: [String] = []
    var customersWithUnknownRm: [String] = []
    /// The last valid balance written, reused by invalid lines that need a real account.
    var lastBalance: (accountId: String, day: Int, fen: Int64)?
    var invalidWriter = InvalidLineWriter()
    /// One steady customer (from 20 customers up) carries an rm_id no RM record has.
    var unknownRmIndex: Int?

    static let competitorBanks = ["ICBC", "CCB", "ABC", "BOC", "CMB", "BOCOM", "CITIC", "SPDB", "CIB", "PAB"]
    static let unknownRmId = "RM9999"

    /// One calendar month of the balance window, by day index (0 = first balance day).
    struct MonthSlice {
        var month: YearMonth
        var first: Int
        var last: Int
        var coverage: Int { last - first + 1 }
        var isFull: Bool { coverage == month.days }
    }

    struct RMPlan {
        var rmId: String
        var name: String
        var branchId: String
        var managerRmId: String?
        var active: Bool
        var wecom: String?
        var email: String?
        var mobile: String?
    }

    /// The shape of an AUM drift: where its window starts and the downgrade it leads to.
    struct DriftDesign {
        var windowStart: Int
        var preMonths: [MonthSlice]
        var effectiveOn: CalendarDate
    }

    init(options: SampleFeedOptions, output: FeedOutput) {
        self.options = options
        self.output = output
        bd = options.businessDate
        days = options.days
        start = bd.adding(days: -(days - 1))
        var bytes: [[UInt8]] = []
        var texts: [String] = []
        bytes.reserveCapacity(days)
        for d in 0..<days {
            let text = start.adding(days: d).description
            texts.append(text)
            bytes.append(Array(text.utf8))
        }
        dateBytes = bytes
        dateTexts = texts
        var slices: [MonthSlice] = []
        var ym = start.yearMonth
        while ym <= bd.yearMonth {
            let first = max(0, start.days(until: ym.first))
            let last = min(days - 1, start.days(until: ym.last))
            slices.append(MonthSlice(month: ym, first: first, last: last))
            ym = ym.next
        }
        months = slices
    }

    func date(_ d: Int) -> CalendarDate { start.adding(days: d) }

    // MARK: Plan

    /// Which scenario (and tier) each customer index gets.
    struct Assignment {
        var scenario: SampleScenario
        var tier: Tier
    }

    func driftDesign() -> DriftDesign? {
        let mb = months.count - 1
        func usable(_ pre: ArraySlice<MonthSlice>) -> Bool { pre.contains { $0.coverage * 10 >= $0.month.days * 3 } }
        if mb >= 3, usable(months[0..<(mb - 2)]) {
            return DriftDesign(windowStart: months[mb - 2].first, preMonths: Array(months[0..<(mb - 2)]),
                               effectiveOn: bd.yearMonth.next.first)
        }
        let later = bd.yearMonth.next.next.first
        if mb >= 2, usable(months[0..<(mb - 1)]), later <= bd.adding(days: policy.horizonDays) {
            return DriftDesign(windowStart: months[mb - 1].first, preMonths: Array(months[0..<(mb - 1)]),
                               effectiveOn: later)
        }
        return nil
    }

    mutating func assignments(drift: DriftDesign?) -> [Assignment] {
        var r = SampleRandom(seed: SampleRandom.derive(options.seed, 0xA551_6E00))
        let n = options.customers
        var specials: [SampleScenario] = [.aumDrift, .competitorTransfer, .maturitySoon, .inactive, .birthdaySoon,
                                          .newHighValue, .marketingOptOut, .riskAssessmentExpired, .cardSpendOverIncome]
        if drift == nil {
            specials.removeAll { $0 == .aumDrift }
            skipped.append(.init(name: SampleScenario.aumDrift.rawValue,
                                 reason: "the balance window (\(days) days to \(bd)) has no complete month before the "
                                     + "three-month grace window; use more --days"))
        }
        let perSpecial = max(1, n / 500)
        var list: [Assignment] = []
        // Priority for tiny feeds: one steady customer of each tier, then one of each special scenario.
        for tier in Tier.allCases where list.count < n { list.append(Assignment(scenario: .steady(tier), tier: tier)) }
        var occurrence: [SampleScenario: Int] = [:]
        for round in 0..<perSpecial {
            for scenario in specials where list.count < n {
                let k = occurrence[scenario, default: 0]
                occurrence[scenario] = k + 1
                list.append(Assignment(scenario: scenario, tier: SampleGenerator.tier(for: scenario, occurrence: k)))
            }
            if list.count >= n && round == 0 { break }
        }
        for scenario in specials where occurrence[scenario] == nil {
            skipped.append(.init(name: scenario.rawValue, reason: "too few customers (\(n)); give at least 14"))
        }
        while list.count < n {
            let roll = r.below(1000)
            let tier: Tier = roll < 600 ? .standard : roll < 850 ? .gold : roll < 950 ? .platinum : roll < 990 ? .diamond : .privateBanking
            list.append(Assignment(scenario: .steady(tier), tier: tier))
        }
        r.shuffle(&list)
        return list
    }

    static func tier(for scenario: SampleScenario, occurrence k: Int) -> Tier {
        switch scenario {
        case .aumDrift: [Tier.platinum, .diamond, .gold][k % 3]
        case .competitorTransfer: [Tier.diamond, .platinum][k % 2]
        case .maturitySoon: [Tier.platinum, .diamond][k % 2]
        case .inactive: [Tier.gold, .platinum, .diamond][k % 3]
        case .birthdaySoon: [Tier.gold, .platinum, .diamond, .privateBanking][k % 4]
        case .newHighValue: .diamond
        case .marketingOptOut: [Tier.gold, .platinum, .diamond][k % 3]
        case .riskAssessmentExpired: [Tier.gold, .standard, .platinum][k % 3]
        case .cardSpendOverIncome: [Tier.standard, .gold][k % 2]
        case .steadyStandard: .standard
        case .steadyGold: .gold
        case .steadyPlatinum: .platinum
        case .steadyDiamond: .diamond
        case .steadyPrivate: .privateBanking
        }
    }

    // MARK: Run

    mutating func run() throws -> ScenarioManifest {
        planRMs()
        let drift = driftDesign()
        let plan = assignments(drift: drift)
        if plan.count >= 20 {
            unknownRmIndex = plan.indices.first { $0 >= plan.count / 2 && plan[$0].scenario.isSteady }
        }
        let schedule = invalidWriter.schedule(options: options, customers: plan.count)

        // RMs first, except the last one, which arrives after its customers (feeds are not ordered).
        for rm in rms.dropLast() { try emitRM(rm) }
        var nextInvalid = 0
        for (index, assignment) in plan.enumerated() {
            try generateCustomer(index: index, assignment, drift: drift)
            while nextInvalid < schedule.count, schedule[nextInvalid].afterCustomer == index {
                try writeInvalid(schedule[nextInvalid])
                nextInvalid += 1
            }
        }
        if let last = rms.last { try emitRM(last) }

        var scenarios: [ScenarioManifest.Scenario] = []
        for scenario in SampleScenario.allCases {
            guard let list = expectations[scenario], !list.isEmpty else { continue }
            scenarios.append(.init(name: scenario.rawValue, description: scenario.summary, customers: list))
        }
        let inactiveIds = rms.filter { !$0.active }.map(\.rmId)
        var branches: [ScenarioManifest.Branch] = []
        for branch in branchIds {
            let members = rms.filter { $0.branchId == branch && $0.rmId != "RM0000" }
            guard let lead = members.first else { continue }
            branches.append(.init(branchId: branch, leadRmId: lead.rmId, rmIds: members.map(\.rmId)))
        }
        return ScenarioManifest(
            format: ScenarioManifest.formatName, contractVersion: FeedContract.version, seed: options.seed,
            customerCount: options.customers, days: days, businessDate: bd.description,
            firstBalanceDate: start.description, bankCode: options.bankCode, feedFormat: options.format.rawValue,
            files: output.files.map(\.name), recordCounts: counts, scenarios: scenarios, skippedScenarios: skipped,
            invalidLines: invalid,
            routing: .init(inactiveRmIds: inactiveIds, customersOfInactiveRms: customersOfInactiveRms,
                           unknownRmIds: customersWithUnknownRm.isEmpty ? [] : [SampleGenerator.unknownRmId],
                           customersWithUnknownRm: customersWithUnknownRm, branches: branches))
    }

    // MARK: RMs

    /// About one RM per 50 customers (at least 2), eight RMs a branch; RM0000 heads them all. The
    /// first RM of each branch leads it and reports to RM0000; the others report to their lead. The
    /// last RM is inactive (left the bank) but keeps customers, for the notifier's fallback route.
    mutating func planRMs() {
        var r = SampleRandom(seed: SampleRandom.derive(options.seed, 0x524D_0000))
        let count = max(2, (options.customers + 49) / 50)
        let branchCount = max(1, (count + 7) / 8)
        let cities = ["BJ", "SH", "GZ", "SZ", "HZ", "CD", "NJ", "WH"]
        branchIds = (0..<branchCount).map { cities[$0 % cities.count] + ChineseIdentity.pad($0 / cities.count + 1, 3) }
        rms.append(makeRM("RM0000", branch: branchIds[0], manager: nil, active: true, &r))
        for k in 1...count {
            let branch = (k - 1) % branchCount
            let isLead = k <= branchCount
            rms.append(makeRM("RM" + ChineseIdentity.pad(k, 4), branch: branchIds[branch],
                              manager: isLead ? "RM0000" : "RM" + ChineseIdentity.pad(branch + 1, 4),
                              active: k != count, &r))
        }
    }

    func makeRM(_ id: String, branch: String, manager: String?, active: Bool, _ r: inout SampleRandom) -> RMPlan {
        RMPlan(rmId: id, name: ChineseIdentity.name(&r), branchId: branch, managerRmId: manager, active: active,
               wecom: r.chance(perMille: 850) ? "tg_" + id.lowercased() : nil,
               email: r.chance(perMille: 900) ? id.lowercased() + "@tgbank.example.cn" : nil,
               mobile: r.chance(perMille: 950) ? ChineseIdentity.mobile(&r) : nil)
    }

    mutating func emitRM(_ rm: RMPlan) throws {
        try output.emit(.relationshipManager, [
            ("rm_id", .text(rm.rmId)), ("name", .text(rm.name)), ("branch_id", .text(rm.branchId)),
            ("manager_rm_id", rm.managerRmId.map { .text($0) } ?? .absent), ("wecom_userid", rm.wecom.map { .text($0) } ?? .absent),
            ("email", rm.email.map { .text($0) } ?? .absent), ("mobile", rm.mobile.map { .text($0) } ?? .absent),
            ("active", .bool(rm.active)),
        ])
        counts.relationshipManager += 1
    }

    // MARK: Invalid lines

    mutating func writeInvalid(_ item: InvalidLineWriter.Item) throws {
        let context = InvalidLineWriter.Context(
            lastAccountId: lastBalance?.accountId ?? "A0000000101",
            lastDay: lastBalance.map { dateTexts[$0.day] } ?? bd.description,
            lastFen: lastBalance?.fen ?? 100, businessDate: bd, branchId: branchIds[0])
        guard let written = try invalidWriter.write(item, context: context, output: output) else { return }
        invalid.append(written.line)
        if let type = written.acceptedType {
            switch type {
            case .balance: counts.balance += 1
            default: break
            }
        }
    }
}
