-- Each rollup row (0009) also holds its month's balances, so the scorer reads the months it needs day by
-- day — from the window start W (ScoringRollups) to the business date, usually just the current month —
-- as one row per account instead of one row per account per day.
--
-- as_of_days    as_of − 1970-01-01 of each of the month's balances, ascending
-- balance_fens  their balance_fen, raw (may be negative), in the same order
-- Month-local like the other columns, and kept exact by the same statement triggers in the writer's
-- transaction. The scorer's loads of a 1,000-customer chunk (10,000 customers × 3 accounts, mid-month):
-- the balances of W … BD 15 ms as ~42,000 rows aggregated per account, 6 ms as 3,000 stored arrays
-- (psql, 2026-12-08); PostgreSQL's part of the daily rescore was ~0.2 CPU-seconds in that read.
-- A balance write now also rebuilds the arrays of its account-month (≤ 31 elements).
--
-- The migration fills the arrays only for the months the daily rescore reads: from two months before the
-- latest balance's month on (W is at most that far back with the built-in policy). Filling every month
-- would rewrite the whole rollup table, hours on a bank's years of history; older rows keep NULL arrays
-- until a balance of their month is written again, and a scoring whose window reaches one of them (a
-- business date replayed far back, or a policy with a longer look-back) reads that chunk's balances from
-- `balances` instead (ArchiveLoader), so every figure stays exact either way.
ALTER TABLE balance_month_rollups ADD COLUMN as_of_days integer[], ADD COLUMN balance_fens bigint[];

UPDATE balance_month_rollups r
SET as_of_days = m.days, balance_fens = m.fens
FROM (
    SELECT customer_id, account_id, date_trunc('month', as_of)::date AS month,
           array_agg(as_of - DATE '1970-01-01' ORDER BY as_of) AS days, array_agg(balance_fen ORDER BY as_of) AS fens
    FROM balances
    WHERE as_of >= (SELECT date_trunc('month', max(as_of))::date - interval '2 months' FROM balances)
    GROUP BY 1, 2, 3
) m
WHERE r.customer_id = m.customer_id AND r.account_id = m.account_id AND r.month = m.month;

ALTER TABLE balance_month_rollups ADD CONSTRAINT balance_month_rollups_daily_balances
    CHECK ((as_of_days IS NULL AND balance_fens IS NULL)
           OR (cardinality(as_of_days) >= 1 AND cardinality(as_of_days) = cardinality(balance_fens)));

-- 0013's definition with the two arrays.
CREATE OR REPLACE FUNCTION tierguard_refresh_balance_rollups() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    DELETE FROM balance_month_rollups r USING tg_rollup_keys k
    WHERE r.customer_id = k.customer_id AND r.account_id = k.account_id AND r.month = k.month;
    INSERT INTO balance_month_rollups (customer_id, account_id, month, first_day, last_day, last_fen, sum_fen,
                                       as_of_days, balance_fens)
    SELECT customer_id, account_id, month, min(as_of), max(as_of),
           (array_agg(balance_fen ORDER BY as_of DESC))[1],
           least(sum(greatest(balance_fen, 0)::numeric * (next_day - as_of)), 9223372036854775807)::bigint,
           array_agg(as_of - DATE '1970-01-01' ORDER BY as_of), array_agg(balance_fen ORDER BY as_of)
    FROM (
        SELECT k.customer_id, k.account_id, k.month, b.as_of, b.balance_fen,
               coalesce(lead(b.as_of) OVER (PARTITION BY k.customer_id, k.account_id, k.month ORDER BY b.as_of),
                        (k.month + interval '1 month')::date) AS next_day
        FROM tg_rollup_keys k
        JOIN balances b ON b.customer_id = k.customer_id AND b.account_id = k.account_id
                       AND b.as_of >= k.month AND b.as_of < (k.month + interval '1 month')::date
    ) x
    GROUP BY customer_id, account_id, month;
    DELETE FROM tg_rollup_keys;
END $$;
