-- Least privilege, row-level security for RM reads, and the append-only PII access audit (issue 11).
-- deploy/SECURITY.md maps each rule to this file and to Tests/TierGuardStoreTests/SecurityTests.swift.
--
-- Roles (NOLOGIN; a login user is made a member: `CREATE ROLE ingest_svc LOGIN IN ROLE tierguard_ingest`):
--   tierguard_ingest, tierguard_scorer, tierguard_notifier, tierguard_feedback — one per service;
--   tierguard_operator — tierguardctl; tierguard_rm — RM-facing reads, filtered by RLS.
-- None owns a table (the migrating user does), none has BYPASSRLS; services get full row access through
-- `USING (true)` policies instead, so RLS can never be switched off by a role attribute.
--
-- Roles and their settings are CLUSTER-global while this file runs once per database, possibly in several
-- databases at the same moment (the test suite migrates databases in parallel). So: CREATE ROLE tolerates
-- duplicate_object (already there) and unique_violation (created by a concurrent transaction that committed
-- while we waited on pg_authid); ALTER ROLE … SET tolerates the "tuple concurrently updated" internal error
-- of a concurrent identical ALTER (it set the same values). GRANTs and policies are per database.
-- Production: the migrating user needs CREATEROLE (or the roles are created beforehand by a DBA; then this
-- block does nothing but the settings).
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM (VALUES
        -- role, statement_timeout, lock_timeout, idle_in_transaction_session_timeout
        ('tierguard_ingest',   '15min', '10s', '60s'),   -- a 1M-row feed applies in one transaction
        ('tierguard_scorer',   '10min', '10s', '60s'),   -- whole-book rescore chunks
        ('tierguard_notifier', '30s',   '5s',  '30s'),
        ('tierguard_feedback', '30s',   '5s',  '30s'),
        ('tierguard_operator', '5min',  '10s', '5min'),  -- a person typing in psql
        ('tierguard_rm',       '10s',   '2s',  '10s')     -- interactive reads only
    ) AS v (role, st, lt, it)
    LOOP
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS', r.role);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
        BEGIN
            EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', r.role, r.st);
            EXECUTE format('ALTER ROLE %I SET lock_timeout = %L', r.role, r.lt);
            EXECUTE format('ALTER ROLE %I SET idle_in_transaction_session_timeout = %L', r.role, r.it);
        EXCEPTION WHEN internal_error OR unique_violation THEN
            NULL;
        END;
    END LOOP;
END $$;

GRANT USAGE ON SCHEMA public TO tierguard_ingest, tierguard_scorer, tierguard_notifier, tierguard_feedback,
    tierguard_operator, tierguard_rm;

-- Job queue (Shared/JobQueue/JobSQL.swift): every service enqueues, claims, heartbeats and finishes jobs.
-- Operator actions are written by tierguardctl only.
GRANT SELECT, INSERT, UPDATE, DELETE ON tg_jobs, tg_workers, tg_queues, tg_periodic_ticks, tg_job_kind_stats
    TO tierguard_ingest, tierguard_scorer, tierguard_notifier, tierguard_feedback, tierguard_operator;
GRANT SELECT ON tg_job_counts TO tierguard_ingest, tierguard_scorer, tierguard_notifier, tierguard_feedback,
    tierguard_operator;
GRANT SELECT, INSERT ON tg_job_operator_actions TO tierguard_operator;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public
    TO tierguard_ingest, tierguard_scorer, tierguard_notifier, tierguard_feedback, tierguard_operator;

-- tierguard-ingest (Shared/TierGuardStore/Ingest): writes the archive and its bookkeeping.
GRANT SELECT, INSERT, UPDATE, DELETE ON ingest_batches, ingest_rejects, customers, accounts, balances,
    transactions, relationship_managers, archive_changes, pending_records TO tierguard_ingest;

-- tierguard-scorer (Shared/TierGuardStore/Scoring): reads the archive — customers WITHOUT id_number and
-- phone (ScoringSQL.customers names exactly these columns) — and writes scores, history, alerts.
GRANT SELECT (customer_id, name, id_type, risk_level, risk_assessed_on, annual_income_fen, rm_id, branch_id,
              opened_on, status, marketing_opt_out) ON customers TO tierguard_scorer;
GRANT SELECT ON accounts, balances, transactions, feedback_surveys, complaints, customer_preferences,
    preference_events, customer_effective_preferences, rm_visits, alert_feedback TO tierguard_scorer;
GRANT SELECT, INSERT, UPDATE ON scoring_policies, customer_scores, alerts TO tierguard_scorer;
GRANT SELECT, INSERT, UPDATE, DELETE ON customer_tier_history TO tierguard_scorer;

-- tierguard-notifier (Shared/TierGuardStore/Notify): no identifier at all — customers without id_number,
-- id_type and phone. (AlertNotifier.sendBirthdaySMS selects phone: under this role that path is refused,
-- see deploy/SECURITY.md "Not done yet".)
GRANT SELECT (customer_id, name, rm_id, branch_id, birth_date, status, marketing_opt_out) ON customers
    TO tierguard_notifier;
GRANT SELECT ON accounts, balances, relationship_managers, customer_scores, alerts, complaints,
    customer_effective_preferences, customer_preferences TO tierguard_notifier;
GRANT SELECT, INSERT, UPDATE ON notifications, notification_deliveries, notify_rate_windows, wecom_tokens,
    rm_tasks TO tierguard_notifier;

-- tierguard-feedback (Shared/TierGuardStore/Feedback): only whether a customer exists.
GRANT SELECT (customer_id) ON customers TO tierguard_feedback;
GRANT SELECT, INSERT, UPDATE ON ingest_batches, alerts, rm_tasks TO tierguard_feedback;
GRANT SELECT, INSERT ON ingest_rejects TO tierguard_feedback;
GRANT SELECT, INSERT, UPDATE, DELETE ON feedback_receipts, feedback_pending, feedback_surveys, complaints,
    complaint_events, rm_visits, alert_feedback, customer_preferences, preference_events, feedback_purges
    TO tierguard_feedback;
GRANT SELECT ON customer_effective_preferences, retention_report TO tierguard_feedback;

-- Operators (tierguardctl): read everything (unmasked display is audited in pii_access_audit below).
GRANT SELECT ON ALL TABLES IN SCHEMA public TO tierguard_operator;

-- Row-level security for RM-facing reads. An RM session runs each transaction as
--   BEGIN; SET LOCAL ROLE tierguard_rm; SET LOCAL tierguard.rm_id = 'RM001'; …; COMMIT;
-- and sees only rows of customers whose rm_id is that id. Unset (NULL) or reset to '' by an earlier
-- SET LOCAL on the same pooled connection: nullif(…, '') is NULL, rm_id = NULL is never true, nothing shown.
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_scores ENABLE ROW LEVEL SECURITY;
ALTER TABLE alerts ENABLE ROW LEVEL SECURITY;

CREATE POLICY services_all ON customers
    TO tierguard_ingest, tierguard_scorer, tierguard_notifier, tierguard_feedback, tierguard_operator
    USING (true) WITH CHECK (true);
CREATE POLICY services_all ON customer_scores
    TO tierguard_ingest, tierguard_scorer, tierguard_notifier, tierguard_feedback, tierguard_operator
    USING (true) WITH CHECK (true);
CREATE POLICY services_all ON alerts
    TO tierguard_ingest, tierguard_scorer, tierguard_notifier, tierguard_feedback, tierguard_operator
    USING (true) WITH CHECK (true);

CREATE POLICY rm_own_customers ON customers FOR SELECT TO tierguard_rm
    USING (rm_id = nullif(current_setting('tierguard.rm_id', true), ''));
CREATE POLICY rm_own_scores ON customer_scores FOR SELECT TO tierguard_rm
    USING (EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = customer_scores.customer_id
                   AND c.rm_id = nullif(current_setting('tierguard.rm_id', true), '')));
CREATE POLICY rm_own_alerts ON alerts FOR SELECT TO tierguard_rm
    USING (EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = alerts.customer_id
                   AND c.rm_id = nullif(current_setting('tierguard.rm_id', true), '')));

-- customer_status runs as its owner (who bypasses RLS), so RMs never read it; customer_status_rm is the
-- same rows over the base tables with security_invoker = true, so the reader's policies apply.
CREATE VIEW customer_status_rm WITH (security_invoker = true) AS
SELECT c.customer_id,
       c.name,
       c.rm_id,
       c.branch_id,
       s.business_date,
       s.policy_version,
       s.tier,
       s.is_provisional,
       s.watch_months,
       s.aum_fen,
       s.warning_date            AS downgrade_date,
       s.warning_to_tier         AS downgrade_to_tier,
       s.warning_gap_fen         AS gap_fen,
       s.signal_codes            AS open_signals,
       s.retention_probability,
       s.scored_at
FROM customers c
LEFT JOIN LATERAL (
    SELECT * FROM customer_scores cs WHERE cs.customer_id = c.customer_id ORDER BY cs.id DESC LIMIT 1
) s ON true;
COMMENT ON VIEW customer_status_rm IS
    'customer_status for RM sessions (security_invoker: RLS of the reader applies; set tierguard.rm_id per transaction).';

GRANT SELECT (customer_id, name, rm_id, branch_id, status, marketing_opt_out) ON customers TO tierguard_rm;
GRANT SELECT ON customer_scores, alerts, customer_status_rm TO tierguard_rm;

-- Audited unmasking: one row per `tierguardctl … --unmask` (who, when, which customers, why, which command),
-- written before anything unmasked is printed. Append-only: no tierguard_* role nor PUBLIC may UPDATE,
-- DELETE or TRUNCATE, and triggers refuse those even to the owner (dropping the trigger is a DDL change
-- a review sees). Kept at least 3 years (PIPL arts. 55–56); the retention job is not written yet.
CREATE TABLE pii_access_audit (
    id           bigserial PRIMARY KEY,                       -- C1
    operator     text NOT NULL,                               -- C1 TIERGUARD_OPERATOR, else the OS login
    db_user      text NOT NULL DEFAULT session_user,          -- C1 the PostgreSQL login that wrote it
    accessed_at  timestamptz NOT NULL DEFAULT now(),          -- C1
    customer_ids text[] NOT NULL,                             -- C2 the customers whose data was shown
    reason       text NOT NULL CHECK (btrim(reason) <> ''),   -- C1 the operator's --reason
    command      text NOT NULL                                -- C1 'customer show', 'rejects' ...
);
CREATE INDEX pii_access_audit_time ON pii_access_audit (accessed_at);

CREATE FUNCTION pii_access_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'pii_access_audit is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER pii_access_audit_no_change BEFORE UPDATE OR DELETE ON pii_access_audit
    FOR EACH ROW EXECUTE FUNCTION pii_access_audit_append_only();
CREATE TRIGGER pii_access_audit_no_truncate BEFORE TRUNCATE ON pii_access_audit
    FOR EACH STATEMENT EXECUTE FUNCTION pii_access_audit_append_only();

REVOKE ALL ON pii_access_audit FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON pii_access_audit FROM tierguard_ingest, tierguard_scorer, tierguard_notifier,
    tierguard_feedback, tierguard_operator, tierguard_rm;
GRANT SELECT, INSERT ON pii_access_audit TO tierguard_operator;
GRANT USAGE ON SEQUENCE pii_access_audit_id_seq TO tierguard_operator;
