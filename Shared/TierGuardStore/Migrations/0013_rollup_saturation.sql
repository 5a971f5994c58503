-- A valid but enormous balance must not fail a whole feed (found by IngestFaultFileTests): a month's
-- Σ balance × days of one account can exceed bigint for a balance above Int64.max / 31 fen, and the
-- rollup trigger (0009) cast it to bigint inside the feed's transaction. The sum now saturates at the
-- bigint maximum; such a customer is beyond what the scorer models anyway (CustomerScorer.maxModelMoneyFen:
-- it is logged and not scored), so the saturated figure is never used for a tier.
CREATE OR REPLACE FUNCTION tierguard_refresh_balance_rollups() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    DELETE FROM balance_month_rollups r USING tg_rollup_keys k
    WHERE r.customer_id = k.customer_id AND r.account_id = k.account_id AND r.month = k.month;
    INSERT INTO balance_month_rollups (customer_id, account_id, month, first_day, last_day, last_fen, sum_fen)
    SELECT customer_id, account_id, month, min(as_of), max(as_of),
           (array_agg(balance_fen ORDER BY as_of DESC))[1],
           least(sum(greatest(balance_fen, 0)::numeric * (next_day - as_of)), 9223372036854775807)::bigint
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
