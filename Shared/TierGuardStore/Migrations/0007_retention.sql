-- PIPL arts. 55–56 retention (issue 11): scores, tier history, alerts, suitability decisions (kept inside
-- customer_scores.suitability) and pii_access_audit rows are kept at least 3 years; the scorer's periodic
-- `retention_purge` job (RetentionPurge.swift) deletes what is older than TIERGUARD_RETENTION_YEARS
-- (default 3, never less), 1,000 rows per transaction, and records each table's total here.

-- What each retention purge deleted: one row per table per run that deleted anything (C1).
CREATE TABLE retention_purges (
    id          bigserial PRIMARY KEY,                 -- C1
    table_name  text NOT NULL,                         -- C1 customer_scores, customer_tier_history, alerts, pii_access_audit
    rows_purged bigint NOT NULL CHECK (rows_purged > 0), -- C1
    cutoff      timestamptz NOT NULL,                  -- C1 rows older than this were deleted
    purged_at   timestamptz NOT NULL DEFAULT now(),    -- C1
    db_user     text NOT NULL DEFAULT session_user     -- C1 the PostgreSQL login that ran the purge
);
CREATE INDEX retention_purges_time ON retention_purges (purged_at);

-- The one exception to pii_access_audit's append-only rule (0005_security.sql). The row trigger now lets a
-- DELETE through only when BOTH hold:
--   (1) the row is older than 3 years by the database clock (accessed_at < now() - interval '3 years'),
--       so no row inside the legal minimum can ever be deleted, by anyone, owner included;
--   (2) the transaction-local setting tierguard.audit_purge is 'on', which pii_access_audit_purge() sets.
-- UPDATE and TRUNCATE stay refused to everyone; no tierguard_* role has DELETE on the table at all.
-- (The owner could set the flag by hand, but could then only delete what the purge would delete anyway.)
CREATE OR REPLACE FUNCTION pii_access_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_LEVEL = 'ROW'
       AND current_setting('tierguard.audit_purge', true) = 'on'
       AND OLD.accessed_at < now() - interval '3 years' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'pii_access_audit is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

-- Deletes at most batch_size audit rows older than cutoff (oldest first) and records the count in
-- retention_purges. Refuses a cutoff later than now() - 3 years (22023) and a batch outside 1…10000.
-- SECURITY DEFINER so that a service role may call it without holding DELETE on the table; the
-- search_path is fixed to the migration's (pg_temp last) so that a caller cannot substitute its own objects.
CREATE FUNCTION pii_access_audit_purge(cutoff timestamptz, batch_size integer) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    n bigint;
BEGIN
    IF cutoff IS NULL OR cutoff > now() - interval '3 years' THEN
        RAISE EXCEPTION 'pii_access_audit rows are kept at least 3 years (PIPL arts. 55-56): cutoff % is too recent', cutoff
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF batch_size IS NULL OR batch_size < 1 OR batch_size > 10000 THEN
        RAISE EXCEPTION 'batch_size must be 1..10000, not %', batch_size USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM set_config('tierguard.audit_purge', 'on', true);
    DELETE FROM pii_access_audit WHERE id IN (
        SELECT id FROM pii_access_audit WHERE accessed_at < cutoff ORDER BY accessed_at, id LIMIT batch_size);
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('tierguard.audit_purge', 'off', true);
    IF n > 0 THEN
        INSERT INTO retention_purges (table_name, rows_purged, cutoff) VALUES ('pii_access_audit', n, cutoff);
    END IF;
    RETURN n;
END $$;
DO $$ BEGIN
    EXECUTE format('ALTER FUNCTION pii_access_audit_purge(timestamptz, integer) SET search_path = %I, pg_temp',
                   current_schema());
END $$;
REVOKE ALL ON FUNCTION pii_access_audit_purge(timestamptz, integer) FROM PUBLIC;

-- Grants. Only EXECUTE on the audit purge is granted here (function grants are outside the checked-in
-- grant snapshot, SecurityTests). The services still connect as the migrating owner (deploy/SECURITY.md,
-- "Not done yet" 6); when the scorer moves to tierguard_scorer it also needs DELETE on customer_scores,
-- customer_tier_history (held already) and alerts, and SELECT, INSERT on retention_purges: add them with
-- that switch, together with the snapshot.
GRANT EXECUTE ON FUNCTION pii_access_audit_purge(timestamptz, integer) TO tierguard_scorer;

-- PIPL art. 24: `tierguardctl profiling ID --refuse|--allow --reason TEXT` records the customer's request
-- through the feedback service's preference path (preference_events, customer_preferences); the operator's
-- reason is kept beside the event. NULL for preferences that arrive from calling systems.
ALTER TABLE preference_events ADD COLUMN reason text;   -- C1 operator's reason for a request taken by tierguardctl
