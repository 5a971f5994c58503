/// The retention and risk signals the scorer raises for a customer, judged on the business date.
public enum SignalCode: String, Codable, Sendable, CaseIterable, Comparable {
    case suddenDrop = "sudden_drop"
    case outflowToCompetitor = "outflow_to_competitor"
    case maturityUpcoming = "maturity_upcoming"
    case inactive
    case dissatisfied
    case creditRisk = "credit_risk"
    case riskAssessmentExpired = "risk_assessment_expired"

    /// What an RM reads on a task or screen.
    public var chineseName: String {
        switch self {
        case .suddenDrop: "资产骤降"
        case .outflowToCompetitor: "资金流向他行"
        case .maturityUpcoming: "产品即将到期"
        case .inactive: "长期不活跃"
        case .dissatisfied: "客户不满意"
        case .creditRisk: "信用风险"
        case .riskAssessmentExpired: "风险测评过期"
        }
    }

    /// Declaration order, the order signals are listed in.
    public static func < (lhs: SignalCode, rhs: SignalCode) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One figure behind a signal or a recommendation: an amount in fen, a whole number (days, a
/// count, a score), or text (a date `YYYY-MM-DD`, a bank code).
///
/// JSON: an amount is `{"fen": 12345}` so it can never be mistaken for a count; a number is a bare
/// integer; text is a bare string.
public enum SignalFigure: Codable, Sendable, Hashable, CustomStringConvertible {
    case fen(Fen)
    case number(Int64)
    case text(String)

    public static func date(_ date: CalendarDate) -> SignalFigure { .text(date.description) }
    public static func count(_ n: Int) -> SignalFigure { .number(Int64(n)) }

    private enum Key: String, CodingKey { case fen }

    public init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: Key.self), let fen = try? keyed.decode(Int64.self, forKey: .fen) {
            self = .fen(Fen(fen))
            return
        }
        let single = try decoder.singleValueContainer()
        if let n = try? single.decode(Int64.self) {
            self = .number(n)
        } else {
            self = .text(try single.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .fen(let amount):
            var keyed = encoder.container(keyedBy: Key.self)
            try keyed.encode(amount.value, forKey: .fen)
        case .number(let n):
            var single = encoder.singleValueContainer()
            try single.encode(n)
        case .text(let text):
            var single = encoder.singleValueContainer()
            try single.encode(text)
        }
    }

    public var description: String {
        switch self {
        case .fen(let amount): amount.displayText
        case .number(let n): String(n)
        case .text(let text): text
        }
    }
}

/// A raised signal: its code, the figures it was judged on (so an RM or an auditor can recompute it
/// by hand), the accounts it concerns, and a reason in Chinese that states those figures.
public struct Signal: Codable, Sendable, Hashable {
    public var code: SignalCode
    public var figures: [String: SignalFigure]
    /// Account ids the signal concerns, sorted; empty when it is about the customer as a whole.
    public var accounts: [String]
    public var reason: String

    public init(code: SignalCode, figures: [String: SignalFigure], accounts: [String] = [], reason: String) {
        self.code = code
        self.figures = figures
        self.accounts = accounts
        self.reason = reason
    }
}

/// One account of the customer with its AUM contribution on the business date: the latest
/// end-of-day balance on or before BD, 0 from `closed_on`, a negative asset balance counted as 0,
/// and 0 for loans and credit cards (they hold no AUM). The scorer computes it; signals and value
/// only read it.
public struct AccountHolding: Codable, Sendable, Hashable {
    public var account: Account
    public var aum: Fen

    public init(account: Account, aum: Fen) {
        self.account = account
        self.aum = aum
    }
}

/// What the feedback collector knows about the customer's voice, summarised for one business date.
///
/// The survey window is the `dissatisfied_window_days` (30) days BD−29 … BD, both ends included,
/// judged on the Asia/Shanghai day the survey was answered; answers after BD are ignored.
public struct FeedbackSummary: Codable, Sendable, Hashable {
    /// Lowest CSAT (1–5) answered in the window, nil when none.
    public var minCsat: Int?
    /// Lowest NPS (0–10) answered in the window, nil when none.
    public var minNps: Int?
    /// Complaints received and not yet `closed` on BD.
    public var openComplaints: Int

    public init(minCsat: Int? = nil, minNps: Int? = nil, openComplaints: Int = 0) {
        self.minCsat = minCsat
        self.minNps = minNps
        self.openComplaints = openComplaints
    }

    public static let none = FeedbackSummary()

    /// One survey answer as the feedback service stores it.
    public struct SurveyAnswer: Codable, Sendable, Hashable {
        public enum Kind: String, Codable, Sendable, CaseIterable { case csat, nps }
        public var kind: Kind
        public var score: Int
        /// The Asia/Shanghai day of `answered_at`.
        public var answeredOn: CalendarDate

        public init(kind: Kind, score: Int, answeredOn: CalendarDate) {
            self.kind = kind
            self.score = score
            self.answeredOn = answeredOn
        }
    }

    /// Summarises `surveys` answered in BD−(windowDays−1) … BD.
    public init(surveys: some Sequence<SurveyAnswer>, openComplaints: Int, businessDate: CalendarDate, windowDays: Int) {
        let from = businessDate.adding(days: -(windowDays - 1))
        var csat: Int?
        var nps: Int?
        for answer in surveys where answer.answeredOn >= from && answer.answeredOn <= businessDate {
            switch answer.kind {
            case .csat: csat = min(csat ?? answer.score, answer.score)
            case .nps: nps = min(nps ?? answer.score, answer.score)
            }
        }
        self.init(minCsat: csat, minNps: nps, openComplaints: openComplaints)
    }
}
