import Postgres
import TierGuardModel

/// The scorer's named statements; each name is reused for the prepared statement and in errors.
///
/// Loads are set-based over a chunk of customers, so the per-customer path (a chunk of one) and
/// the whole-book path (chunks of 1,000) run the very same SQL. Dates travel as day numbers since
/// 1970-01-01 (`CalendarDate.dayNumber`) to avoid parsing date text per row.
///
/// The loads of many rows per customer (accounts, balances, rollups, transactions, alerts) select
/// a chunk by its id range — `customer_id BETWEEN $1 AND $2`, the bounds read once per chunk by
/// `ArchiveLoader` (`chunkBounds`, in the column's collation), or computed inside `currentAlerts`,
/// the writer's one read — not by `= ANY(ids)`: the whole book's chunks are consecutive ids (`customerIdsAfter`),
/// so the range is exactly the chunk and each load is one index range scan. `= ANY` over 1,000 ids
/// cost more than the scan it filtered: planning estimated the selectivity of every id against
/// every partition (13 ms a chunk for the transactions, more than their execution), and the
/// planner sometimes scanned a whole table per chunk (`balance_month_rollups`). Rows of a customer
/// inside the range but outside the chunk (a sparse list of ids) are dropped by `ArchiveLoader`
/// and `ScoreWriter`, so any list of ids stays correct; it only reads more.
public enum ScoringSQL {
    /// The smallest and largest id of `$1`, in the column's collation: the range the loads read.
    public static let chunkBounds = PostgresQuery(
        "SELECT min(c), max(c) FROM unnest($1::text[]) c", name: "ScoringSQL.chunkBounds")

    public static let businessDate = PostgresQuery(
        "SELECT tierguard_business_date() - DATE '1970-01-01'", name: "ScoringSQL.businessDate")

    public static let deactivateOtherPolicies = PostgresQuery(
        "UPDATE scoring_policies SET active = false WHERE active AND version <> $1",
        name: "ScoringSQL.deactivateOtherPolicies")

    public static let upsertPolicy = PostgresQuery("""
        INSERT INTO scoring_policies (version, policy, active) VALUES ($1, $2::jsonb, true)
        ON CONFLICT (version) DO UPDATE SET active = true, last_used = now(), policy = excluded.policy
        """, name: "ScoringSQL.upsertPolicy")

    /// Serialises scorings of the same customer (a job and a whole-book chunk): sorted, so two
    /// chunks never deadlock. The transaction-scoped form, for a scoring inside its caller's
    /// transaction (a `score_customer` job completes in its own).
    public static let lockCustomers = PostgresQuery("""
        SELECT pg_advisory_xact_lock(8243, hashtext(id))::text FROM (SELECT DISTINCT id FROM unnest($1::text[]) id ORDER BY id) t
        """, name: "ScoringSQL.lockCustomers")

    /// The same locks held by the session, taken before a scoring's own transaction begins, so that
    /// its snapshot is taken after any other scoring of these customers has committed
    /// (`CustomerScorer`); released by `unlockCustomersForSession` once it has ended. Same key space,
    /// so session and transaction locks of one customer exclude each other.
    public static let lockCustomersForSession = PostgresQuery("""
        SELECT pg_advisory_lock(8243, hashtext(id))::text FROM (SELECT DISTINCT id FROM unnest($1::text[]) id ORDER BY id) t
        """, name: "ScoringSQL.lockCustomersForSession")

    public static let unlockCustomersForSession = PostgresQuery("""
        SELECT pg_advisory_unlock(8243, hashtext(id))::text FROM (SELECT DISTINCT id FROM unnest($1::text[]) id) t
        """, name: "ScoringSQL.unlockCustomersForSession")

    /// The next chunk of customer ids after `$1` (keyset), at most `$2`.
    public static let customerIdsAfter = PostgresQuery(
        "SELECT customer_id FROM customers WHERE customer_id > $1 ORDER BY customer_id LIMIT $2",
        name: "ScoringSQL.customerIdsAfter")

    public static let customers = PostgresQuery("""
        SELECT customer_id, name, id_type, risk_level, risk_assessed_on - DATE '1970-01-01',
               annual_income_fen, rm_id, branch_id, opened_on - DATE '1970-01-01', status, marketing_opt_out
        FROM customers WHERE customer_id = ANY($1::text[])
        """, name: "ScoringSQL.customers")

    public static let accounts = PostgresQuery("""
        SELECT customer_id, account_id, product, product_code, currency, opened_on - DATE '1970-01-01',
               maturity_on - DATE '1970-01-01', closed_on - DATE '1970-01-01'
        FROM accounts WHERE customer_id BETWEEN $1 AND $2 ORDER BY customer_id, account_id
        """, name: "ScoringSQL.accounts")

    /// One row per account: its balances up to BD as two parallel arrays (aligned: both
    /// aggregates see the rows in the same order). Unordered on purpose: a per-group sort cost
    /// more than the whole model, and `DailyAum` orders each account's balances itself.
    public static let balances = PostgresQuery("""
        SELECT customer_id, account_id, array_agg(as_of - DATE '1970-01-01'), array_agg(balance_fen)
        FROM balances WHERE customer_id BETWEEN $1 AND $2 AND as_of <= $3::date
        GROUP BY customer_id, account_id
        """, name: "ScoringSQL.balances")

    /// `balances` from the rollup window start `$4` on (`ScoringRollups`): the fallback of
    /// `monthBalancesFrom` for a chunk with a rollup row whose arrays were never filled (migration 0019).
    public static let balancesFrom = PostgresQuery("""
        SELECT customer_id, account_id, array_agg(as_of - DATE '1970-01-01'), array_agg(balance_fen)
        FROM balances WHERE customer_id BETWEEN $1 AND $2 AND as_of <= $3::date AND as_of >= $4::date
        GROUP BY customer_id, account_id
        """, name: "ScoringSQL.balancesFrom")

    /// The balances of the months from the rollup window start `$3` (a 1st) to BD's month `$4`, one
    /// row per account and month as its rollup row stores them (migration 0019: ascending, raw; NULL
    /// for a month last written before 0019 and older than what it filled), in index order;
    /// `ArchiveLoader` drops the days after BD. The same balances `balancesFrom` reads for those days,
    /// without aggregating ~14 rows per account a chunk (15 → 6 ms for 1,000 customers).
    public static let monthBalancesFrom = PostgresQuery("""
        SELECT customer_id, account_id, as_of_days, balance_fens
        FROM balance_month_rollups WHERE customer_id BETWEEN $1 AND $2 AND month >= $3::date AND month <= $4::date
        ORDER BY customer_id, account_id, month
        """, name: "ScoringSQL.monthBalancesFrom")

    /// The balances before the window start `$4` of the accounts `$3` (closed before it), read raw.
    public static let balancesBefore = PostgresQuery("""
        SELECT customer_id, account_id, array_agg(as_of - DATE '1970-01-01'), array_agg(balance_fen)
        FROM balances WHERE customer_id BETWEEN $1 AND $2 AND account_id = ANY($3::text[]) AND as_of < $4::date
        GROUP BY customer_id, account_id
        """, name: "ScoringSQL.balancesBefore")

    /// One row per account: its monthly rollups before the window start `$3`, as parallel arrays.
    public static let rollups = PostgresQuery("""
        SELECT customer_id, account_id, array_agg(month - DATE '1970-01-01'), array_agg(first_day - DATE '1970-01-01'),
               array_agg(last_day - DATE '1970-01-01'), array_agg(last_fen), array_agg(sum_fen)
        FROM balance_month_rollups WHERE customer_id BETWEEN $1 AND $2 AND month < $3::date
        GROUP BY customer_id, account_id
        """, name: "ScoringSQL.rollups")

    /// Transactions booked (Shanghai day) in BD−364 … BD: the longest window any rule reads is the
    /// 365 days of fee income; later ones are ignored by every rule.
    public static let transactions = PostgresQuery("""
        SELECT customer_id, txn_id, account_id, floor(extract(epoch FROM booked_at))::bigint,
               (extract(microseconds FROM booked_at)::bigint % 1000000) * 1000,
               amount_fen, category, channel, counterparty_bank
        FROM transactions
        WHERE customer_id BETWEEN $1 AND $2 AND booked_on BETWEEN $3::date - 364 AND $3::date
        """, name: "ScoringSQL.transactions")

    /// For each customer of `$1`, its latest customer-initiated transaction (`$3`: the categories that
    /// are, from `TransactionCategory.isCustomerInitiated`) booked before the window `transactions`
    /// reads (BD `$2` − 364): the last activity of a customer idle for over a year, which `inactive`'s
    /// days and the activity's recency count from. Same columns as `transactions`. One backward index
    /// probe per customer; the month partitions are scanned newest first and the first hit ends it.
    public static let lastActivityBeforeWindow = PostgresQuery("""
        SELECT c.id, t.txn_id, t.account_id, floor(extract(epoch FROM t.booked_at))::bigint,
               (extract(microseconds FROM t.booked_at)::bigint % 1000000) * 1000,
               t.amount_fen, t.category, t.channel, t.counterparty_bank
        FROM unnest($1::text[]) AS c(id)
        CROSS JOIN LATERAL (
            SELECT txn_id, account_id, booked_at, amount_fen, category, channel, counterparty_bank FROM transactions
            WHERE customer_id = c.id AND booked_on < $2::date - 364 AND category = ANY($3::text[])
            ORDER BY booked_on DESC, booked_at DESC, txn_id DESC LIMIT 1) t
        """, name: "ScoringSQL.lastActivityBeforeWindow")

    /// Per dedup key of the id range of the chunk `$1`: its open alert (at most one, `alerts_one_open`),
    /// else its newest alert resolved but still inside its cooldown on BD `$2`, with its payload's hash
    /// (`ScoreWriter`: an unchanged payload is not sent again). Open first, not newest
    /// first: business dates replayed out of order can leave a resolved alert newer than the open one,
    /// and reopening it would make a second open alert for the key. The range comes from the ids in the
    /// statement itself (one round trip); `ScoreWriter` drops the alerts of customers in the range but
    /// not in the chunk. Only the kinds `$3` the scorer raises (`scorerAlertKinds`): the alerts other
    /// services raise for the same customers (the complaint clock's `complaint_due_soon` and
    /// `complaint_breach`) are theirs to resolve, and no score condition stands behind them.
    public static let currentAlerts = PostgresQuery("""
        SELECT DISTINCT ON (a.dedup_key) a.id, a.customer_id, a.dedup_key, a.state, a.payload_hash
        FROM (SELECT min(c) AS lo, max(c) AS hi FROM unnest($1::text[]) c) chunk
        JOIN alerts a ON a.customer_id BETWEEN chunk.lo AND chunk.hi
        WHERE (a.state = 'open' OR a.cooldown_until >= $2::date) AND a.kind = ANY($3::text[])
        ORDER BY a.dedup_key, a.state = 'open' DESC, a.id DESC
        """, name: "ScoringSQL.currentAlerts")

    /// The alert kinds the scorer raises and resolves (`CustomerScore.alertConditions`): downgrade risk
    /// and one per signal.
    public static let scorerAlertKinds = ["downgrade_risk"] + SignalCode.allCases.map(\.rawValue)
}
