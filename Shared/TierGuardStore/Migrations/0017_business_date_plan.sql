-- The business date function, planned once per session instead of once per call.
--
-- tierguard_business_date() (0002) was a SQL function whose body holds a sub-select, which PostgreSQL
-- never inlines: every call planned `SELECT max(as_of) FROM balances` afresh, over every month partition
-- of the archive (~1 ms to plan, ~0.1 ms to run on a 90-day archive; 0.53 ms a call on average in the
-- per-customer scoring path, where it was the most expensive statement, pg_stat_statements 2026-12-08).
-- PL/pgSQL keeps the plan of its statement for the session; a new partition (a new month) invalidates
-- it, as any DDL on `balances` does. The same rule, word for word: the session setting
-- `tierguard.business_date` when set, else the latest as_of of any accepted balance; null on an empty
-- archive. STABLE as before; owner and privileges are kept by CREATE OR REPLACE.
CREATE OR REPLACE FUNCTION tierguard_business_date() RETURNS date
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN coalesce(nullif(current_setting('tierguard.business_date', true), '')::date,
                    (SELECT max(as_of) FROM balances));
END
$$;
