/// Everything the signals of one customer are judged on, for one business date (BD).
public struct SignalInput: Sendable, Hashable {
    public var businessDate: CalendarDate
    /// Daily AUM of the customer by day; at least BD−7 … BD (BD−`sudden_drop_lookback_days` and
    /// BD−`outflow_days` with other policies). A missing day counts as 0, as days before the first
    /// balance do.
    public var dailyAUM: [CalendarDate: Fen]
    /// Every account of the customer with its AUM contribution on BD.
    public var holdings: [AccountHolding]
    /// The customer's transactions on any of its accounts; those booked after BD are ignored.
    public var transactions: [Transaction]
    public var customer: Customer
    /// The tier in force on BD, provisional included.
    public var tier: Tier
    public var feedback: FeedbackSummary

    public init(businessDate: CalendarDate, dailyAUM: [CalendarDate: Fen], holdings: [AccountHolding],
                transactions: [Transaction], customer: Customer, tier: Tier, feedback: FeedbackSummary = .none) {
        self.businessDate = businessDate
        self.dailyAUM = dailyAUM
        self.holdings = holdings
        self.transactions = transactions
        self.customer = customer
        self.tier = tier
        self.feedback = feedback
    }
}

/// The signal rules (RULES.md "Signals"), pure: the same input always gives the same signals.
///
/// Common to every rule: a transaction's day is its `booked_at` in Asia/Shanghai
/// (`Transaction.bookedOnShanghai`); transactions after BD are ignored; a window "over BD−n … BD"
/// includes both ends; "money leaving" is −amount, so a positive amount in a spending category is a
/// reversal and reduces the total. Percentages are compared in integers (100 × a ≤ 70 × b), never
/// as rounded decimals. Thresholds come from `ScoringPolicy.SignalThresholds`:
/// - `sudden_drop`: AUM(BD) ≤ 70% of the highest AUM over BD−7 … BD−1, that high ≥ 50,000 yuan.
/// - `outflow_to_competitor`: Σ −amount of `transfer_out` over BD−6 … BD whose counterparty bank is
///   present (an empty string is absent) and differs from the policy's `bank_code` (exact,
///   case-sensitive), on any account, ≥ 30% of AUM(BD−7) and ≥ 100,000 yuan.
/// - `maturity_upcoming`: `time_deposit` or `wealth` accounts with 0 ≤ maturity_on − BD ≤ 14 and an
///   AUM contribution on BD ≥ 100,000 yuan; one signal listing them all.
/// - `inactive`: tier in force (provisional included) 金卡 or above, and BD − the day of the last
///   customer-initiated transaction (not `interest`, not `fee`) ≥ 60, or with none ever,
///   BD − the customer's `opened_on` ≥ 60.
/// - `dissatisfied`: a CSAT ≤ 2 or an NPS ≤ 6 answered in BD−29 … BD, or an open complaint.
/// - `credit_risk`: Σ −amount of `card_spend` over BD−29 … BD with 12 × spend > 2 × annual_income;
///   no income on file (nil), no signal; an income of 0 on file is an income of 0. Repayments do
///   not offset spend.
/// - `risk_assessment_expired`: BD − risk_assessed_on > 365.
///
/// Figures and reasons state amounts, dates and the policy's day counts (windows, thresholds), never a
/// number of days counted to or from BD and never BD itself: BD is on the score row the signal belongs
/// to, and a window "over BD−n … BD" is written "近 n 日". So a signal whose facts do not change reads
/// the same, byte for byte, from one business date to the next: its stored document and its alert's
/// payload are not rewritten every day (most of the daily rescore's writes, README "Speed"), and a
/// stored explanation stays true on every later day it is shown. The days themselves follow from the
/// dates (`inactive`: BD − `last_activity_on` or `opened_on`; `risk_assessment_expired`:
/// BD − `risk_assessed_on`; `maturity_upcoming`: each `maturity_on:` − BD).
public enum SignalEvaluator {
    /// The signals raised on BD, in `SignalCode` order.
    public static func evaluate(_ input: SignalInput, policy: ScoringPolicy) -> [Signal] {
        let bd = input.businessDate
        let transactions = input.transactions.map { (day: $0.bookedOnShanghai, txn: $0) }.filter { $0.day <= bd }
        let t = policy.signals
        var signals: [Signal] = []
        if let s = suddenDrop(input, t) { signals.append(s) }
        if let s = outflowToCompetitor(input, transactions, t, bankCode: policy.bankCode) { signals.append(s) }
        if let s = maturityUpcoming(input, t) { signals.append(s) }
        if let s = inactive(input, transactions, t) { signals.append(s) }
        if let s = dissatisfied(input, t) { signals.append(s) }
        if let s = creditRisk(input, transactions, t) { signals.append(s) }
        if let s = riskAssessmentExpired(input, t) { signals.append(s) }
        return signals
    }

    typealias Dated = (day: CalendarDate, txn: Transaction)

    static func aum(_ input: SignalInput, _ day: CalendarDate) -> Fen { input.dailyAUM[day] ?? .zero }

    /// `a × pa ≤ b × pb` without overflow.
    static func scaled(_ a: Fen, _ pa: Int, lessOrEqual b: Fen, _ pb: Int) -> Bool {
        Int128(a.value) * Int128(pa) <= Int128(b.value) * Int128(pb)
    }

    /// ⌊100 × part / whole⌋, nil when whole ≤ 0.
    static func percent(_ part: Fen, of whole: Fen) -> Int64? {
        guard whole > .zero else { return nil }
        let p = Int128(part.value) * 100 / Int128(whole.value)
        return Int64(clamping: p)
    }

    static func suddenDrop(_ input: SignalInput, _ t: ScoringPolicy.SignalThresholds) -> Signal? {
        let bd = input.businessDate
        var high = Fen.zero
        var highOn = bd.adding(days: -1)
        for back in stride(from: t.suddenDropLookbackDays, through: 1, by: -1) {
            let day = bd.adding(days: -back)
            let value = aum(input, day)
            if value >= high { high = value; highOn = day }  // the latest day of the high
        }
        let today = aum(input, bd)
        guard high >= t.suddenDropMinHigh, scaled(today, 100, lessOrEqual: high, t.suddenDropRatioPercent) else { return nil }
        let pct = percent(today, of: high) ?? 0
        return Signal(
            code: .suddenDrop,
            figures: [
                "aum": .fen(today), "high": .fen(high), "high_on": .date(highOn), "drop": .fen(high - today),
                "percent_of_high": .number(pct), "threshold_percent": .count(t.suddenDropRatioPercent),
                "min_high": .fen(t.suddenDropMinHigh),
            ],
            reason: "资产骤降：当日资产 \(today.displayText)，为前 \(t.suddenDropLookbackDays) 日最高 \(high.displayText)"
                + "（\(highOn)）的 \(pct)%，不高于 \(t.suddenDropRatioPercent)%，减少 \((high - today).displayText)。")
    }

    static func outflowToCompetitor(_ input: SignalInput, _ transactions: [Dated], _ t: ScoringPolicy.SignalThresholds,
                                    bankCode: String) -> Signal? {
        let bd = input.businessDate
        let from = bd.adding(days: -(t.outflowDays - 1))
        var total = Fen.zero
        var accounts = Set<String>()
        var banks = Set<String>()
        for (day, txn) in transactions where day >= from && txn.category == .transferOut {
            guard let bank = txn.counterpartyBank, !bank.isEmpty, bank != bankCode else { continue }
            total -= txn.amount
            accounts.insert(txn.accountId)
            banks.insert(bank)
        }
        let baseDay = bd.adding(days: -t.outflowDays)
        let base = aum(input, baseDay)
        guard total >= t.outflowMin, scaled(base, t.outflowRatioPercent, lessOrEqual: total, 100) else { return nil }
        let bankList = banks.sorted().joined(separator: ",")
        let share = percent(total, of: base).map { "占 \(t.outflowDays) 日前资产 \(base.displayText) 的 \($0)%" }
            ?? "\(t.outflowDays) 日前资产为 0"
        var figures: [String: SignalFigure] = [
            "outflow": .fen(total), "window_days": .count(t.outflowDays), "base_aum": .fen(base),
            "banks": .text(bankList), "threshold_percent": .count(t.outflowRatioPercent), "min_outflow": .fen(t.outflowMin),
        ]
        if let p = percent(total, of: base) { figures["percent_of_base"] = .number(p) }
        return Signal(
            code: .outflowToCompetitor, figures: figures, accounts: accounts.sorted(),
            reason: "资金流向他行：近 \(t.outflowDays) 日转出至他行（\(bankList)）合计 \(total.displayText)，\(share)，"
                + "达到 \(t.outflowRatioPercent)% 且不低于 \(t.outflowMin.displayText)。")
    }

    static func maturityUpcoming(_ input: SignalInput, _ t: ScoringPolicy.SignalThresholds) -> Signal? {
        let bd = input.businessDate
        let maturing = input.holdings.filter { holding in
            let account = holding.account
            guard account.product == .timeDeposit || account.product == .wealth, let maturity = account.maturityOn else { return false }
            let days = bd.days(until: maturity)
            return days >= 0 && days <= t.maturityWithinDays && holding.aum >= t.maturityMin
        }.sorted { ($0.account.maturityOn!, $0.account.accountId) < ($1.account.maturityOn!, $1.account.accountId) }
        guard let first = maturing.first else { return nil }
        let total = maturing.reduce(Fen.zero) { $0 + $1.aum }
        var figures: [String: SignalFigure] = [
            "total": .fen(total), "earliest_maturity_on": .date(first.account.maturityOn!), "accounts": .count(maturing.count),
            "within_days": .count(t.maturityWithinDays), "min_amount": .fen(t.maturityMin),
        ]
        var parts: [String] = []
        for holding in maturing {
            let a = holding.account
            figures["amount:\(a.accountId)"] = .fen(holding.aum)
            figures["maturity_on:\(a.accountId)"] = .date(a.maturityOn!)
            parts.append("\(a.product == .timeDeposit ? "定期存款" : "理财") \(a.accountId) \(holding.aum.displayText) 于 \(a.maturityOn!) 到期")
        }
        return Signal(
            code: .maturityUpcoming, figures: figures, accounts: maturing.map(\.account.accountId),
            reason: "产品即将到期：\(t.maturityWithinDays) 日内到期合计 \(total.displayText)（" + parts.joined(separator: "；") + "）。")
    }

    static func inactive(_ input: SignalInput, _ transactions: [Dated], _ t: ScoringPolicy.SignalThresholds) -> Signal? {
        guard input.tier >= .gold else { return nil }
        let bd = input.businessDate
        let last = transactions.lazy.filter { $0.txn.category.isCustomerInitiated }.map(\.day).max()
        let since = last ?? input.customer.openedOn
        let days = since.days(until: bd)
        guard days >= t.inactiveDays else { return nil }
        var figures: [String: SignalFigure] = ["threshold_days": .count(t.inactiveDays), "tier": .text(input.tier.code)]
        let reason: String
        if let last {
            figures["last_activity_on"] = .date(last)
            reason = "长期不活跃：最近一次客户主动交易在 \(last)，至今已满 \(t.inactiveDays) 天，当前等级\(input.tier.chineseName)。"
        } else {
            figures["opened_on"] = .date(input.customer.openedOn)
            reason = "长期不活跃：自 \(input.customer.openedOn) 开户以来没有客户主动交易，已满 \(t.inactiveDays) 天，当前等级\(input.tier.chineseName)。"
        }
        return Signal(code: .inactive, figures: figures, reason: reason)
    }

    static func dissatisfied(_ input: SignalInput, _ t: ScoringPolicy.SignalThresholds) -> Signal? {
        let f = input.feedback
        var parts: [String] = []
        var figures: [String: SignalFigure] = ["window_days": .count(t.dissatisfiedWindowDays)]
        if let csat = f.minCsat {
            figures["min_csat"] = .count(csat)
            if csat <= t.dissatisfiedCsatMax { parts.append("近 \(t.dissatisfiedWindowDays) 日满意度（CSAT）最低 \(csat) 分（≤ \(t.dissatisfiedCsatMax)）") }
        }
        if let nps = f.minNps {
            figures["min_nps"] = .count(nps)
            if nps <= t.dissatisfiedNpsMax { parts.append("近 \(t.dissatisfiedWindowDays) 日推荐度（NPS）最低 \(nps) 分（≤ \(t.dissatisfiedNpsMax)）") }
        }
        figures["open_complaints"] = .count(f.openComplaints)
        if f.openComplaints > 0 { parts.append("未结投诉 \(f.openComplaints) 件") }
        guard !parts.isEmpty else { return nil }
        return Signal(code: .dissatisfied, figures: figures, reason: "客户不满意：" + parts.joined(separator: "；") + "。")
    }

    static func creditRisk(_ input: SignalInput, _ transactions: [Dated], _ t: ScoringPolicy.SignalThresholds) -> Signal? {
        guard let income = input.customer.annualIncome else { return nil }
        let bd = input.businessDate
        let from = bd.adding(days: -(t.creditSpendDays - 1))
        var spend = Fen.zero
        var accounts = Set<String>()
        for (day, txn) in transactions where day >= from && txn.category == .cardSpend {
            spend -= txn.amount
            accounts.insert(txn.accountId)
        }
        let months = t.creditSpendIncomeMonths
        guard Int128(spend.value) * 12 > Int128(income.value) * Int128(months) else { return nil }
        let limit = Fen(Int64(clamping: Int128(income.value) * Int128(months) / 12))
        return Signal(
            code: .creditRisk,
            figures: [
                "card_spend": .fen(spend), "annual_income": .fen(income), "limit": .fen(limit),
                "income_months": .count(months), "window_days": .count(t.creditSpendDays),
            ],
            accounts: accounts.sorted(),
            reason: "信用风险：近 \(t.creditSpendDays) 日信用卡消费 \(spend.displayText)，超过年收入 \(income.displayText) 的 \(months)/12"
                + "（\(limit.displayText)）。")
    }

    static func riskAssessmentExpired(_ input: SignalInput, _ t: ScoringPolicy.SignalThresholds) -> Signal? {
        let assessed = input.customer.riskAssessedOn
        let days = assessed.days(until: input.businessDate)
        guard days > t.riskAssessmentValidDays else { return nil }
        return Signal(
            code: .riskAssessmentExpired,
            figures: ["risk_assessed_on": .date(assessed), "valid_days": .count(t.riskAssessmentValidDays),
                      "risk_level": .text(input.customer.riskLevel.code)],
            reason: "风险测评过期：上次测评于 \(assessed)（\(input.customer.riskLevel.code)），已超过 \(t.riskAssessmentValidDays) 天，仅可推荐 R1 产品。")
    }
}
