-- Per account and calendar month balance rollups, so a whole-book rescore reads daily balances only for
-- the recent months and one row per account per older month (ScoringRollups.swift, ArchiveLoader).
--
-- A rollup row is MONTH-LOCAL: it depends only on the balances of one (customer_id, account_id) inside one
-- calendar month, never on an earlier month, the account record, or the business date. For the month's
-- balances b_1 < … < b_n (by as_of):
--   first_day / last_day   as_of of b_1 / b_n
--   last_fen               balance_fen of b_n, raw (may be negative): what carries into later months
--   sum_fen                Σ over the days first_day … the month's last day of max(latest balance on or
--                          before that day, 0), i.e. Σ max(b_i, 0) × (as_of(b_(i+1)) − as_of(b_i)), the last
--                          one running to the month's end
-- The days of the month before first_day (carried from an earlier month), the account's closed_on and the
-- asset/loan distinction are applied by the reader, so an account record change never makes a rollup stale.
-- Keyed by balances.customer_id (not the account's current customer) exactly as the raw load reads them.
--
-- Always exact: statement-level triggers with transition tables recompute every (customer, account, month)
-- touched by an INSERT, UPDATE (old and new keys) or DELETE on balances — ingest, pending records applied
-- later, late data for an old month, the retention purge — in the same transaction as the write. The
-- function is SECURITY DEFINER (owner: the migrating user) so a writer of balances needs no grant here.
-- Cost: one index range read per touched account-month (≤ 31 rows each); a daily feed touches each
-- account's current month once.
CREATE TABLE balance_month_rollups (
    customer_id text NOT NULL,                               -- C2
    account_id  text NOT NULL,                               -- C2
    month       date NOT NULL,                               -- C2 first day of the month
    first_day   date NOT NULL,                               -- C2
    last_day    date NOT NULL,                               -- C2
    last_fen    bigint NOT NULL,                             -- C2
    sum_fen     bigint NOT NULL,                             -- C2 fen·days
    PRIMARY KEY (customer_id, account_id, month),
    CHECK (month = date_trunc('month', month)::date AND first_day >= month AND last_day >= first_day
           AND last_day < (month + interval '1 month')::date AND sum_fen >= 0)
);

-- Recomputes the rollups of the keys in the session's temp table tg_rollup_keys (filled by the trigger).
CREATE FUNCTION tierguard_refresh_balance_rollups() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    DELETE FROM balance_month_rollups r USING tg_rollup_keys k
    WHERE r.customer_id = k.customer_id AND r.account_id = k.account_id AND r.month = k.month;
    INSERT INTO balance_month_rollups (customer_id, account_id, month, first_day, last_day, last_fen, sum_fen)
    SELECT customer_id, account_id, month, min(as_of), max(as_of),
           (array_agg(balance_fen ORDER BY as_of DESC))[1],
           sum(greatest(balance_fen, 0)::numeric * (next_day - as_of))::bigint
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
REVOKE ALL ON FUNCTION tierguard_refresh_balance_rollups() FROM PUBLIC;

-- Transition tables are visible only inside the trigger function itself, so it copies the touched keys
-- into a session temp table (created once per session, emptied after use) for the shared refresh.
CREATE FUNCTION tierguard_balances_rollup_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF to_regclass('pg_temp.tg_rollup_keys') IS NULL THEN
        CREATE TEMP TABLE tg_rollup_keys (customer_id text, account_id text, month date) ON COMMIT DELETE ROWS;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO tg_rollup_keys SELECT DISTINCT customer_id, account_id, date_trunc('month', as_of)::date FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO tg_rollup_keys SELECT DISTINCT customer_id, account_id, date_trunc('month', as_of)::date FROM old_rows;
    ELSE
        INSERT INTO tg_rollup_keys
        SELECT customer_id, account_id, date_trunc('month', as_of)::date FROM new_rows
        UNION SELECT customer_id, account_id, date_trunc('month', as_of)::date FROM old_rows;
    END IF;
    PERFORM tierguard_refresh_balance_rollups();
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION tierguard_balances_rollup_trigger() FROM PUBLIC;

CREATE TRIGGER balances_rollups_insert AFTER INSERT ON balances
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tierguard_balances_rollup_trigger();
CREATE TRIGGER balances_rollups_update AFTER UPDATE ON balances
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tierguard_balances_rollup_trigger();
CREATE TRIGGER balances_rollups_delete AFTER DELETE ON balances
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tierguard_balances_rollup_trigger();

-- Rows already in the archive when this migration runs.
INSERT INTO balance_month_rollups (customer_id, account_id, month, first_day, last_day, last_fen, sum_fen)
SELECT customer_id, account_id, month, min(as_of), max(as_of), (array_agg(balance_fen ORDER BY as_of DESC))[1],
       sum(greatest(balance_fen, 0)::numeric * (next_day - as_of))::bigint
FROM (
    SELECT customer_id, account_id, date_trunc('month', as_of)::date AS month, as_of, balance_fen,
           coalesce(lead(as_of) OVER (PARTITION BY customer_id, account_id, date_trunc('month', as_of) ORDER BY as_of),
                    (date_trunc('month', as_of) + interval '1 month')::date) AS next_day
    FROM balances
) x
GROUP BY customer_id, account_id, month;

GRANT SELECT ON balance_month_rollups TO tierguard_scorer, tierguard_operator;
