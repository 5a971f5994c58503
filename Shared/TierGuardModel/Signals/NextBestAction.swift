/// The downgrade early warning as the next best action needs it (the scorer maps its assessment to this).
public struct DowngradeOutlook: Codable, Sendable, Hashable {
    /// The first of the month on which the downgrade would fire.
    public var effectiveOn: CalendarDate
    public var from: Tier
    public var to: Tier
    /// The smallest one-off deposit from BD+1 that stops it, in fen; nil when none can any more.
    public var gap: Fen?
    /// The extra average daily balance the current month needs (0 or more).
    public var monthShortfall: Fen

    public init(effectiveOn: CalendarDate, from: Tier, to: Tier, gap: Fen?, monthShortfall: Fen) {
        self.effectiveOn = effectiveOn
        self.from = from
        self.to = to
        self.gap = gap
        self.monthShortfall = monthShortfall
    }

    /// The early warning of `TierAssessment.warning`, as the next best action reads it.
    public init(_ warning: DowngradeWarning) {
        self.init(effectiveOn: warning.date, from: warning.fromTier, to: warning.toTier, gap: warning.gap,
                  monthShortfall: warning.extraDailyAverageNeeded)
    }

    enum CodingKeys: String, CodingKey {
        case effectiveOn = "effective_on", from, to, gap, monthShortfall = "month_shortfall"
    }
}

/// Service actions: things an RM does for the customer, never a sale, so they are offered whatever
/// the customer's consent, complaints or risk level.
public enum ServiceAction: String, Codable, Sendable, CaseIterable {
    /// 回访: the customer is dissatisfied (low CSAT/NPS or an open complaint).
    case satisfactionCallback = "satisfaction_callback"
    /// 补足日均: a downgrade is projected; tell the customer the gap.
    case topUpAverageBalance = "top_up_average_balance"
    /// 挽留沟通: a sudden drop or an outflow to another bank.
    case retentionCall = "retention_call"
    /// 到期提醒: money matures and no product can be recommended for it.
    case maturityReminder = "maturity_reminder"
    /// 激活联系: no customer-initiated transaction for a long time.
    case reactivationContact = "reactivation_contact"
    /// 重新风险测评: the assessment expired, so only R1 can be offered.
    case riskReassessment = "risk_reassessment"
    /// 信用风险关注: card spend above the income rule, for the RM's attention, not a sale.
    case creditReview = "credit_review"
}

/// One next best action.
public struct Recommendation: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable { case product, service }

    /// 1 is the first thing the RM should do.
    public var rank: Int
    public var kind: Kind
    /// The catalog code for a product, the `ServiceAction` raw value for a service.
    public var code: String
    /// The signals (and `downgrade_risk`) that led to it.
    public var because: [String]
    /// In Chinese, with the figures.
    public var reason: String
    public var figures: [String: SignalFigure]

    public init(rank: Int, kind: Kind, code: String, because: [String], reason: String, figures: [String: SignalFigure]) {
        self.rank = rank
        self.kind = kind
        self.code = code
        self.because = because
        self.reason = reason
        self.figures = figures
    }
}

/// The recommendations and every suitability decision taken on the way (one per catalog product),
/// so the caller can log the levels compared.
public struct NextBestActionResult: Codable, Sendable, Hashable {
    public var recommendations: [Recommendation]
    public var suitability: [SuitabilityDecision]

    public init(recommendations: [Recommendation], suitability: [SuitabilityDecision]) {
        self.recommendations = recommendations
        self.suitability = suitability
    }
}

/// Ranks the next best actions for one customer on the business date (BD).
///
/// Products: every catalog product is judged by `Suitability.decide` (each decision returned); a
/// product is recommended only when suitability allows it, the customer's tier in force is among its
/// eligible tiers, and its minimum is at most the money the customer can hold it with — the
/// `funding`: the AUM on BD of the accounts in `maturity_upcoming` plus the demand deposits' AUM
/// (money the customer can move without breaking a deposit). No funding, no product. Products are
/// ranked by margin (highest first), then code; at most `maxProducts` (default 3).
///
/// Order of the list: 回访 (dissatisfied), 补足日均 (downgrade warning), 挽留沟通 (sudden drop or
/// outflow), the products, 到期提醒 (maturing money and no product for it), 激活联系 (inactive),
/// 重新风险测评 (expired assessment), 信用风险关注 (credit risk).
public enum NextBestAction {
    public static func recommend(customer: Customer, tier: Tier, holdings: [AccountHolding], signals: [Signal],
                                 downgrade: DowngradeOutlook?, feedback: FeedbackSummary, consent: ConsentState = .none,
                                 catalog: ProductCatalog, businessDate: CalendarDate, policy: ScoringPolicy,
                                 maxProducts: Int = 3) -> NextBestActionResult {
        let byCode = Dictionary(signals.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
        var services: [(ServiceAction, [String], String, [String: SignalFigure])] = []

        if let s = byCode[.dissatisfied] {
            let text = feedback.openComplaints > 0
                ? "安排回访并跟进未结投诉（\(feedback.openComplaints) 件），投诉结案前不推荐产品。"
                : "安排客户经理回访，了解不满原因。"
            services.append((.satisfactionCallback, [s.code.rawValue], s.reason + text, s.figures))
        }
        if let d = downgrade {
            var figures: [String: SignalFigure] = [
                "effective_on": .date(d.effectiveOn), "from": .text(d.from.code), "to": .text(d.to.code),
                "month_shortfall": .fen(d.monthShortfall),
            ]
            let text: String
            if let gap = d.gap {
                figures["gap"] = .fen(gap)
                text = "补足日均：预计 \(d.effectiveOn) 由\(d.from.chineseName)降为\(d.to.chineseName)，"
                    + "自 \(businessDate.adding(days: 1)) 起一次性存入 \(gap.displayText) 可避免；本月日均还差 \(d.monthShortfall.displayText)。"
            } else {
                text = "补足日均：预计 \(d.effectiveOn) 由\(d.from.chineseName)降为\(d.to.chineseName)，已无法通过存入避免；"
                    + "本月日均差 \(d.monthShortfall.displayText)，请与客户沟通之后月份的日均安排。"
            }
            services.append((.topUpAverageBalance, ["downgrade_risk"], text, figures))
        }
        let flows = [byCode[.suddenDrop], byCode[.outflowToCompetitor]].compactMap { $0 }
        if !flows.isEmpty {
            var figures: [String: SignalFigure] = [:]
            for s in flows { for (k, v) in s.figures { figures["\(s.code.rawValue).\(k)"] = v } }
            services.append((.retentionCall, flows.map(\.code.rawValue),
                             flows.map(\.reason).joined() + "建议尽快联系客户了解资金去向。", figures))
        }

        // Products.
        let maturing = byCode[.maturityUpcoming]
        let maturingIds = Set(maturing?.accounts ?? [])
        let maturingAmount = holdings.filter { maturingIds.contains($0.account.accountId) }.reduce(Fen.zero) { $0 + max(.zero, $1.aum) }
        let demand = holdings.filter { $0.account.product == .demandDeposit }.reduce(Fen.zero) { $0 + max(.zero, $1.aum) }
        let funding = maturingAmount + demand
        var decisions: [SuitabilityDecision] = []
        var candidates: [CatalogProduct] = []
        for product in catalog.products {
            let decision = Suitability.decide(customer: customer, product: product, businessDate: businessDate, policy: policy,
                                              consent: consent, openComplaints: feedback.openComplaints)
            decisions.append(decision)
            if decision.allowed, product.eligibleTiers.contains(tier), funding > .zero, product.minimum <= funding {
                candidates.append(product)
            }
        }
        candidates.sort { ($0.marginBasisPoints, $1.code) > ($1.marginBasisPoints, $0.code) }
        let products = candidates.prefix(max(0, maxProducts)).map { product -> (String, [String], String, [String: SignalFigure]) in
            let source: String
            var because: [String] = []
            if maturingAmount > .zero, let maturing {
                because.append(maturing.code.rawValue)
                let on = maturing.figures["earliest_maturity_on"]?.description ?? ""
                source = "到期资金 \(maturingAmount.displayText)（最早 \(on) 到期）"
                    + (demand > .zero ? "及活期 \(demand.displayText)" : "")
            } else {
                source = "活期余额 \(demand.displayText)"
            }
            let revenue = ValueModel.revenue(aum: funding, basisPoints: product.marginBasisPoints)
            let reason = "\(source)可配置\(product.name)（\(product.code)，\(product.risk.code) ≤ 客户 \(customer.riskLevel.code)，"
                + "起购 \(product.minimum.displayText)，\(tier.chineseName)客户可购）。"
            return (product.code, because, reason, [
                "funding": .fen(funding), "maturing": .fen(maturingAmount), "demand": .fen(demand),
                "minimum": .fen(product.minimum), "product_risk": .text(product.risk.code),
                "customer_risk": .text(customer.riskLevel.code), "margin_bps": .count(product.marginBasisPoints),
                "annual_revenue_if_all_funding": .fen(revenue),
            ])
        }

        var tail: [(ServiceAction, [String], String, [String: SignalFigure])] = []
        if let maturing, products.isEmpty {
            tail.append((.maturityReminder, [maturing.code.rawValue], maturing.reason + "请提醒客户到期资金的续存或转存安排。", maturing.figures))
        }
        if let s = byCode[.inactive] {
            tail.append((.reactivationContact, [s.code.rawValue], s.reason + "建议联系客户，了解需求。", s.figures))
        }
        if let s = byCode[.riskAssessmentExpired] {
            tail.append((.riskReassessment, [s.code.rawValue], s.reason + "请邀请客户重新进行风险测评。", s.figures))
        }
        if let s = byCode[.creditRisk] {
            tail.append((.creditReview, [s.code.rawValue], s.reason + "请关注客户还款能力，不作营销。", s.figures))
        }

        var recommendations: [Recommendation] = []
        func add(_ kind: Recommendation.Kind, _ code: String, _ because: [String], _ reason: String, _ figures: [String: SignalFigure]) {
            recommendations.append(Recommendation(rank: recommendations.count + 1, kind: kind, code: code, because: because,
                                                  reason: reason, figures: figures))
        }
        for s in services { add(.service, s.0.rawValue, s.1, s.2, s.3) }
        for p in products { add(.product, p.0, p.1, p.2, p.3) }
        for s in tail { add(.service, s.0.rawValue, s.1, s.2, s.3) }
        return NextBestActionResult(recommendations: recommendations, suitability: decisions)
    }
}
