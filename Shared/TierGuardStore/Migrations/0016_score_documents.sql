-- Score documents stored once and referenced (README "Speed", ScoreWriter).
--
-- A score row explains itself with five JSON documents (warning, signals, value, recommendations,
-- suitability: ~3.5 KB together, against ~350 bytes of figures). Writing them into every daily row was
-- most of the database's work in the whole-book rescore (COPY of 10,000 full rows ~0.55–0.65 s, of the
-- figures alone ~0.07 s), although most documents do not change from one day to the next: suitability
-- changes with the customer's risk level or the catalog, recommendations and signals with balances and
-- events, only `value` (activity recency) moves daily.
--
-- So the figures stay in `customer_score_rows` (the former table, renamed: its indexes, RLS policies and
-- grants come with it) and each document lives once in `score_documents`, owned by one customer; a row
-- points at its documents by id (`<kind>_doc`) and records each document's hash (`<kind>_hash`, FNV-1a of
-- the document's JSON text, ScoreWriter). A new scoring reuses the customer's newest row's document when
-- its hash is the same, and writes a new one otherwise. Documents are never shared between customers, so
-- a customer's documents go with its rows (retention purge: RetentionPurge deletes the documents no
-- remaining row of the customer points at).
--
-- `customer_scores` is now a view with exactly the former table's columns, documents joined back, so
-- every reader (tierguardctl, the notifier, the oracle, psql users) reads what it read before. It runs
-- with the reader's rights (security_invoker), so RLS on the two tables applies to an RM session as it
-- did on the table. Writers insert into customer_score_rows and score_documents (ScoreWriter).
--
-- Bodies are text, parsed as jsonb by the view when read: a document is written once a day for many customers
-- and read when someone looks, and parsing ~20,000 documents per whole-book rescore into jsonb on the way in
-- cost the database more than the rest of the write (README "Speed"). The view gives readers the same jsonb.
--
-- No foreign keys from rows to documents: five index probes per inserted row would cost more than the
-- write they check, and one writer (ScoreWriter) creates both in one transaction. Rows written before
-- this migration get their documents moved here, with null hashes (their next scoring writes new ones).

CREATE TABLE score_documents (
    id          bigserial PRIMARY KEY,
    customer_id text NOT NULL,   -- the owner: a document belongs to one customer's rows only
    body        text NOT NULL    -- the document's JSON text as JSONTextWriter wrote it (read as jsonb through the view)
);
CREATE INDEX score_documents_customer ON score_documents (customer_id);
COMMENT ON TABLE score_documents IS
    'Explanation documents of customer_score_rows (warning, signals, value, recommendations, suitability), each stored once per customer and referenced by id; read through the view customer_scores';
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE score_documents ALTER COLUMN body SET COMPRESSION lz4;
    END IF;
END
$$;

-- The views over the table go first (they pin its columns) and come back below over the new shapes.
DROP VIEW customer_status;
DROP VIEW customer_status_rm;

ALTER TABLE customer_scores RENAME TO customer_score_rows;
ALTER INDEX customer_scores_latest RENAME TO customer_score_rows_latest;
ALTER TABLE customer_score_rows
    ADD COLUMN warning_doc bigint, ADD COLUMN warning_hash bigint,
    ADD COLUMN signals_doc bigint, ADD COLUMN signals_hash bigint,
    ADD COLUMN value_doc bigint, ADD COLUMN value_hash bigint,
    ADD COLUMN recommendations_doc bigint, ADD COLUMN recommendations_hash bigint,
    ADD COLUMN suitability_doc bigint, ADD COLUMN suitability_hash bigint;

-- Existing rows: every document moves to score_documents (ids drawn first, then copied).
UPDATE customer_score_rows SET
    warning_doc = CASE WHEN warning IS NULL THEN NULL ELSE nextval('score_documents_id_seq') END,
    signals_doc = nextval('score_documents_id_seq'),
    value_doc = nextval('score_documents_id_seq'),
    recommendations_doc = nextval('score_documents_id_seq'),
    suitability_doc = nextval('score_documents_id_seq');
INSERT INTO score_documents (id, customer_id, body)
SELECT d.id, r.customer_id, d.body::text
FROM customer_score_rows r
CROSS JOIN LATERAL (VALUES (r.warning_doc, r.warning), (r.signals_doc, r.signals), (r.value_doc, r.value),
                           (r.recommendations_doc, r.recommendations), (r.suitability_doc, r.suitability)) d(id, body)
WHERE d.id IS NOT NULL;

ALTER TABLE customer_score_rows
    DROP COLUMN warning, DROP COLUMN signals, DROP COLUMN value, DROP COLUMN recommendations, DROP COLUMN suitability,
    ALTER COLUMN signals_doc SET NOT NULL, ALTER COLUMN value_doc SET NOT NULL,
    ALTER COLUMN recommendations_doc SET NOT NULL, ALTER COLUMN suitability_doc SET NOT NULL;
COMMENT ON TABLE customer_score_rows IS
    'One row per scoring of one customer (both paths), figures only; documents by id in score_documents. Read through the view customer_scores. The newest row per customer is current.';

-- The former table, column for column.
CREATE VIEW customer_scores WITH (security_invoker = true) AS
SELECT r.id, r.customer_id, r.business_date, r.policy_version, r.catalog_version, r.tier, r.is_provisional,
       r.first_balance_date, r.aum_fen, r.mtd_sum_fen, r.mtd_days,
       r.m3_month, r.m3_sum_fen, r.m3_days, r.m3_before_first,
       r.m2_month, r.m2_sum_fen, r.m2_days, r.m2_before_first,
       r.m1_month, r.m1_sum_fen, r.m1_days, r.m1_before_first,
       r.watch_months, r.warning_date, r.warning_from_tier, r.warning_to_tier, r.warning_gap_fen,
       r.warning_extra_daily_fen, w.body::jsonb AS warning, sg.body::jsonb AS signals, r.signal_codes, v.body::jsonb AS value,
       r.contribution_fen, r.retention_probability, rc.body::jsonb AS recommendations, su.body::jsonb AS suitability,
       r.content_hash, r.scored_at, r.history_hash
FROM customer_score_rows r
LEFT JOIN score_documents w ON w.id = r.warning_doc
LEFT JOIN score_documents sg ON sg.id = r.signals_doc
LEFT JOIN score_documents v ON v.id = r.value_doc
LEFT JOIN score_documents rc ON rc.id = r.recommendations_doc
LEFT JOIN score_documents su ON su.id = r.suitability_doc;
COMMENT ON VIEW customer_scores IS
    'One row per scoring of one customer (both paths: score_customer jobs and whole-book rescore), documents joined from score_documents. The newest row per customer is current.';

-- The two status views as before (0002, 0005), over the rows: they read figures only.
CREATE VIEW customer_status AS
SELECT c.customer_id,
       c.rm_id,
       c.branch_id,
       s.business_date,
       s.policy_version,
       s.tier,
       s.is_provisional,
       s.watch_months,
       s.aum_fen,
       s.mtd_sum_fen / s.mtd_days                              AS mtd_avg_fen,
       to_char(s.m3_month, 'YYYY-MM')                          AS m3_month,
       floor(s.m3_sum_fen::numeric / s.m3_days)::bigint        AS m3_avg_fen,
       to_char(s.m2_month, 'YYYY-MM')                          AS m2_month,
       floor(s.m2_sum_fen::numeric / s.m2_days)::bigint        AS m2_avg_fen,
       to_char(s.m1_month, 'YYYY-MM')                          AS m1_month,
       floor(s.m1_sum_fen::numeric / s.m1_days)::bigint        AS m1_avg_fen,
       s.warning_date                                          AS downgrade_date,
       s.warning_to_tier                                       AS downgrade_to_tier,
       s.warning_gap_fen                                       AS gap_fen,
       s.warning_extra_daily_fen                               AS extra_daily_fen,
       s.signal_codes                                          AS open_signals,
       s.retention_probability,
       s.scored_at
FROM customers c
LEFT JOIN LATERAL (
    SELECT * FROM customer_score_rows cs WHERE cs.customer_id = c.customer_id ORDER BY cs.id DESC LIMIT 1
) s ON true;
COMMENT ON VIEW customer_status IS
    'One row per customer from its newest customer_scores row: tier in force on the business date '
    '(is_provisional before its first month completes), watch_months (观察期), AUM on BD, month-to-date '
    'and the last three calendar months'' 月日均 (m3 oldest … m1 latest; fen, rounded down for display; '
    'rules compare sums), the projected downgrade date and tier within 45 days with the gap (smallest '
    'one-off deposit from BD+1, null when none can help) and the extra daily average needed, open signals '
    'and the retention-risk probability. Null score columns: not scored yet.';
COMMENT ON COLUMN customer_status.mtd_avg_fen IS 'Month-to-date 月日均: Σ daily AUM 1st … BD / days, fen, rounded down';

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
    SELECT * FROM customer_score_rows cs WHERE cs.customer_id = c.customer_id ORDER BY cs.id DESC LIMIT 1
) s ON true;
COMMENT ON VIEW customer_status_rm IS
    'customer_status for RM sessions (security_invoker: RLS of the reader applies; set tierguard.rm_id per transaction).';

-- Privileges: whoever read, wrote or purged scores does the same through the new shapes; nobody else.
ALTER TABLE score_documents ENABLE ROW LEVEL SECURITY;
CREATE POLICY services_all ON score_documents
    TO tierguard_ingest, tierguard_scorer, tierguard_notifier, tierguard_feedback, tierguard_operator
    USING (true) WITH CHECK (true);
CREATE POLICY rm_own_documents ON score_documents FOR SELECT TO tierguard_rm
    USING (EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = score_documents.customer_id
                   AND c.rm_id = nullif(current_setting('tierguard.rm_id', true), '')));
GRANT SELECT ON customer_scores, score_documents TO tierguard_scorer, tierguard_notifier, tierguard_operator, tierguard_rm;
GRANT INSERT, DELETE ON score_documents TO tierguard_scorer;
GRANT USAGE, SELECT ON SEQUENCE score_documents_id_seq TO tierguard_scorer, tierguard_operator;
-- tierguardctl rescore (0014): the operator writes what the scorer writes.
GRANT INSERT (id, customer_id, body) ON score_documents TO tierguard_operator;
GRANT INSERT (warning_doc, warning_hash, signals_doc, signals_hash, value_doc, value_hash, recommendations_doc,
              recommendations_hash, suitability_doc, suitability_hash)
    ON customer_score_rows TO tierguard_operator;
GRANT SELECT ON customer_status TO tierguard_operator;
GRANT SELECT ON customer_status_rm TO tierguard_rm;
