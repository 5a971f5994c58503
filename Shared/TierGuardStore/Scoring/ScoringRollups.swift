import Postgres
import TierGuardModel

/// One row of `balance_month_rollups` (migration 0009): one account's balances inside one calendar
/// month, reduced to what the tier rules need.
///
/// Month-local: the row depends only on that month's balances of the account (never on an earlier
/// month, the account record or the business date), so late data for an old month, an account
/// record change or a purge never leaves another row stale. Statement triggers on `balances`
/// recompute the touched rows in the writer's transaction, so rollups are always exact.
public struct BalanceMonthRollup: Sendable, Hashable {
    public var month: YearMonth
    /// The month's first and last balance days.
    public var firstDay: CalendarDate
    public var lastDay: CalendarDate
    /// The raw balance on `lastDay` (may be negative): it carries into the following months.
    public var lastFen: Int64
    /// Σ over `firstDay` … the month's last day of max(latest balance on or before the day, 0), in fen·days.
    public var sumFen: Int64

    public init(month: YearMonth, firstDay: CalendarDate, lastDay: CalendarDate, lastFen: Int64, sumFen: Int64) {
        self.month = month; self.firstDay = firstDay; self.lastDay = lastDay; self.lastFen = lastFen; self.sumFen = sumFen
    }
}

/// How the scorer reads balances through the monthly rollups: daily balances only from the
/// window start, one rollup row per account per older month. The window's daily balances come from
/// the rollup rows too — each row also stores its month's balances as two arrays (migration 0019,
/// `ScoringSQL.monthBalancesFrom`) — so a chunk reads one row per account and month either way.
///
/// Window start W: the first day of the month holding the earlier of BD's 1st and BD − lookback
/// (lookback = the longest daily look-back of the model: 7 days for `recent_daily_aum`, or the
/// policy's `sudden_drop_lookback_days` / `outflow_days` when longer). Every day the model reads one
/// by one — month-to-date, the early warning's known days of BD's month, BD−7 … BD, the signals'
/// look-back — is on or after W; every month before W is read only as a whole-month sum.
///
/// The rollups are turned back into balances (`syntheticBalances`) that `DailyAum` sums to exactly
/// the same month totals, the same first balance date and the same carried value on W, so the model
/// is untouched and both paths run the very same code after loading. Per account and rollup month
/// (sorted) it emits: on `firstDay` the value v = ⌊sum / n⌋ with n the days from `firstDay` to the
/// month's end, on the month's last day `sum − v × (n − 1)` (when n > 1) — so the month sums to
/// exactly `sum`, with both values ≥ 0 — and on the next month's 1st the raw `lastFen`, which
/// carries across months without balances and into W exactly as the raw balance does (a real
/// balance on the same day comes later in the input and wins, as in `DailyAum`). Days before the
/// account's first balance stay 0, and the customer's first balance date is the first rollup's
/// `firstDay`, as in the raw data. Daily values before W are not the real ones, but nothing reads them.
///
/// An account closed before W (`closed_on < W`) is read raw over its whole history instead: the
/// closing day cuts a month in the middle, which a month sum cannot express. Such accounts are few,
/// and an account closed on or after W keeps its rollups (every rollup day is before the closing).
/// The golden test `ScorerRollupGoldenTests` compares both loads figure for figure.
public enum ScoringRollups {
    /// W for a business date and a look-back in days.
    public static func windowStart(businessDate: CalendarDate, lookbackDays: Int) -> CalendarDate {
        min(businessDate.firstOfMonth, businessDate.adding(days: -max(lookbackDays, 0))).firstOfMonth
    }

    /// The look-back the model needs for a policy (see the type's notes).
    public static func lookbackDays(_ policy: ScoringPolicy) -> Int {
        max(7, policy.signals.suddenDropLookbackDays, policy.signals.outflowDays)
    }

    /// Balances of one account that `DailyAum` turns into the rollups' exact month sums and carries
    /// (see the type's notes). `months` in any order; each must lie before the window.
    public static func syntheticBalances(accountId: String, months: [BalanceMonthRollup]) -> [Balance] {
        var out: [Balance] = []
        out.reserveCapacity(months.count * 3)
        for m in months.sorted(by: { $0.month < $1.month }) {
            let end = m.month.last
            let n = Int64(end.dayNumber - m.firstDay.dayNumber + 1)
            let v = m.sumFen / n
            out.append(Balance(accountId: accountId, asOf: m.firstDay, balance: Fen(v)))
            if n > 1 { out.append(Balance(accountId: accountId, asOf: end, balance: Fen(m.sumFen - v * (n - 1)))) }
            out.append(Balance(accountId: accountId, asOf: end.adding(days: 1), balance: Fen(m.lastFen)))
        }
        return out
    }

    /// Recomputes every rollup from `balances` (for an archive loaded around the triggers, e.g. with
    /// them disabled); the triggers keep them exact otherwise. Every (customer, account, month) key
    /// goes into the trigger's `tg_rollup_keys` and the migrations' `tierguard_refresh_balance_rollups()`
    /// recomputes them: one definition of a rollup, the triggers' own.
    public static func rebuild(_ session: PostgresSession) throws {
        try session.withTransaction { s in
            try s.executeScript(unsafeSQL: """
                CREATE TEMP TABLE IF NOT EXISTS tg_rollup_keys (customer_id text, account_id text, month date) ON COMMIT DELETE ROWS;
                TRUNCATE balance_month_rollups;
                INSERT INTO tg_rollup_keys SELECT DISTINCT customer_id, account_id, date_trunc('month', as_of)::date FROM balances;
                SELECT tierguard_refresh_balance_rollups();
                """, name: "ScoringRollups.rebuild")
        }
    }
}
