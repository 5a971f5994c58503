/// The AUM figures of one calendar month: the sum of daily AUM over its days, in fen.
///
/// 月日均 is `sum / days`, but rules compare the sum (`sum < floor × days`), never a rounded
/// average, so a customer exactly at a floor is at it to the fen.
public struct MonthAum: Codable, Sendable, Hashable {
    public var month: YearMonth
    /// Σ daily AUM over the counted days, in fen (a fen·day total, not an amount held).
    public var sum: Int64
    /// The divisor: every day of the month for a complete or projected month (days before the
    /// customer's first balance count as 0), the days up to the business date for month-to-date.
    public var days: Int
    /// Days of `days` that are projected at the business date's AUM rather than known (0 for a
    /// known month).
    public var projectedDays: Int
    /// The projected part of `sum`: `projectedDays × AUM(BD)`.
    public var projectedSum: Int64
    /// True when the whole month lies before the month of the customer's first balance
    /// (the month then counts 0; shown as such in "last three months").
    public var isBeforeFirstBalance: Bool

    public init(month: YearMonth, sum: Int64, days: Int, projectedDays: Int = 0, projectedSum: Int64 = 0,
                isBeforeFirstBalance: Bool = false) {
        self.month = month
        self.sum = sum
        self.days = days
        self.projectedDays = projectedDays
        self.projectedSum = projectedSum
        self.isBeforeFirstBalance = isBeforeFirstBalance
    }

    /// The known part of `sum` (days up to the business date).
    public var knownSum: Int64 { sum - projectedSum }

    /// 月日均 rounded down to the fen, for display only; rules use `sum` and `days`.
    public var average: Fen { days > 0 ? Fen(Scoring.floorDivide(sum, Int64(days))) : .zero }

    /// Whether 月日均 is below `floor`: `sum < floor × days`.
    public func isBelow(_ floor: Fen) -> Bool { ScoringPolicy.isBelow(sum: sum, days: days, floor: floor) }

    /// Whether this month's 月日均 is strictly higher than `other`'s, compared as exact rationals
    /// (`sum × other.days > other.sum × days`, in 128 bits).
    public func hasHigherAverage(than other: MonthAum) -> Bool {
        Scoring.compareProducts(sum, Int64(other.days), other.sum, Int64(days)) > 0
    }

    enum CodingKeys: String, CodingKey {
        case month, sum, days
        case projectedDays = "projected_days"
        case projectedSum = "projected_sum"
        case isBeforeFirstBalance = "is_before_first_balance"
    }
}

/// Integer helpers for the scoring arithmetic.
enum Scoring {
    /// ⌈a / b⌉ for b > 0, correct for a negative `a` (Swift's `/` truncates toward zero, which is
    /// already the ceiling for a negative quotient).
    static func ceilDivide(_ a: Int64, _ b: Int64) -> Int64 {
        precondition(b > 0)
        let q = a / b
        return a % b > 0 ? q + 1 : q
    }

    /// ⌊a / b⌋ for b > 0.
    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        precondition(b > 0)
        let q = a / b
        return a % b < 0 ? q - 1 : q
    }

    /// Sign of a × b − c × d, without overflow.
    static func compareProducts(_ a: Int64, _ b: Int64, _ c: Int64, _ d: Int64) -> Int {
        let left = a.multipliedFullWidth(by: b)
        let right = c.multipliedFullWidth(by: d)
        if left.high != right.high { return left.high < right.high ? -1 : 1 }
        if left.low != right.low { return left.low < right.low ? -1 : 1 }
        return 0
    }
}
