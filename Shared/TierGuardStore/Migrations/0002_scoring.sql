-- The scorer's tables (tierguard-scorer, Shared/TierGuardStore/Scoring): scores, tier history,
-- alerts, policies, the business date, the customer_status view, and the read indexes it needs on
-- the archive.
--
-- Every figure here is produced by the pure model in TierGuardModel (TierAssessment,
-- SignalEvaluator, ValueModel, NextBestAction); SQL only stores and shows it. Money is bigint fen,
-- calendar days are `date`, "today" is the business date (tierguard_business_date()), never now().

-- Read indexes on the archive (0001 keeps only primary keys so ingest stays fast).
-- Chunked whole-book loads read a chunk's balances / transactions by customer, index-only.
CREATE INDEX balances_customer ON balances (customer_id, account_id, as_of) INCLUDE (balance_fen);
CREATE INDEX balances_as_of ON balances (as_of);
CREATE INDEX accounts_customer ON accounts (customer_id);
CREATE INDEX transactions_customer ON transactions (customer_id, booked_on);

-- Scoring policies that were in force. The scorer records each version it scores with (the JSON
-- file named by TIERGUARD_POLICY_FILE, else the built-in defaults); exactly one row is active: the
-- one the latest scoring used. customer_scores.policy_version refers to it.
CREATE TABLE scoring_policies (
    version    text PRIMARY KEY,
    policy     jsonb NOT NULL,
    active     boolean NOT NULL DEFAULT false,
    first_used timestamptz NOT NULL DEFAULT now(),
    last_used  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX scoring_policies_one_active ON scoring_policies (active) WHERE active;

-- The business date (BD): the session setting `tierguard.business_date` when set (the scorer sets
-- it from TIERGUARD_BUSINESS_DATE, for replays), else the latest as_of of any accepted balance, any
-- product (RULES.md "Scoring"). Null on an empty archive.
CREATE FUNCTION tierguard_business_date() RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('tierguard.business_date', true), '')::date,
                    (SELECT max(as_of) FROM balances))
$$;
COMMENT ON FUNCTION tierguard_business_date() IS
    'Business date: setting tierguard.business_date if set, else max(balances.as_of). Never the wall clock.';

-- One row per scoring of one customer (append-only; the newest row per customer is its current
-- score). Figures are the model's, to the fen; *_sum_fen are Σ daily AUM (fen·days) over *_days
-- days, so 月日均 = sum / days and "below a floor" is sum < floor × days, exactly.
CREATE TABLE customer_scores (
    id                       bigserial PRIMARY KEY,
    customer_id              text NOT NULL,
    business_date            date NOT NULL,
    policy_version           text NOT NULL,
    catalog_version          text NOT NULL,
    tier                     text NOT NULL,           -- tier in force on BD (Tier.code)
    is_provisional           boolean NOT NULL,        -- before m_1 completes: month-to-date tier, not in history
    first_balance_date       date,
    aum_fen                  bigint NOT NULL,         -- AUM(BD)
    mtd_sum_fen              bigint NOT NULL,         -- BD's month, 1st … BD
    mtd_days                 integer NOT NULL,
    -- The three calendar months before BD's month: m3 oldest, m1 the month just before BD's.
    m3_month date NOT NULL, m3_sum_fen bigint NOT NULL, m3_days integer NOT NULL, m3_before_first boolean NOT NULL,
    m2_month date NOT NULL, m2_sum_fen bigint NOT NULL, m2_days integer NOT NULL, m2_before_first boolean NOT NULL,
    m1_month date NOT NULL, m1_sum_fen bigint NOT NULL, m1_days integer NOT NULL, m1_before_first boolean NOT NULL,
    watch_months             integer NOT NULL,        -- 观察期: complete months in a row below the tier's floor
    warning_date             date,                    -- projected downgrade (1st of a month), null if none
    warning_from_tier        text,
    warning_to_tier          text,
    warning_gap_fen          bigint,                  -- smallest one-off deposit from BD+1; null when none can help
    warning_extra_daily_fen  bigint,                  -- extra average daily balance BD's month needs
    warning                  jsonb,                   -- DowngradeWarning with its window
    signals                  jsonb NOT NULL,          -- [Signal] with figures and reasons
    signal_codes             text[] NOT NULL,
    value                    jsonb NOT NULL,          -- CustomerValue (contribution, activity, retention)
    contribution_fen         bigint NOT NULL,
    retention_probability    double precision NOT NULL,
    recommendations          jsonb NOT NULL,          -- [Recommendation]
    suitability              jsonb NOT NULL,          -- [SuitabilityDecision], levels compared
    content_hash             bigint,                  -- FNV-1a of the row's content and tier history: the whole-book rescore skips an unchanged customer (ScoreWriter)
    scored_at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_scores_latest ON customer_scores (customer_id, id DESC);
COMMENT ON TABLE customer_scores IS
    'One row per scoring of one customer (both paths: score_customer jobs and whole-book rescore). The newest row per customer is current.';

-- The tier history as the model derives it from the archive: the initial tier and every change,
-- each effective on the 1st of a month, with the reason and its figures. Rewritten when late data
-- changes it (the model recomputes it from the balances every time).
CREATE TABLE customer_tier_history (
    customer_id    text NOT NULL,
    effective_on   date NOT NULL,
    from_tier      text,
    to_tier        text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('initial', 'upgrade', 'downgrade')),
    deciding_month date NOT NULL,
    floor_fen      bigint NOT NULL,
    reason         text NOT NULL,
    policy_version text NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, effective_on)
);

-- Raised conditions, for the notifier (issue 7).
--
-- States: `open` — raised by the scorer, the condition holds; `resolved` — the scorer found the
-- condition gone (resolved_at). One open alert per dedup_key. Dedup key: `downgrade_risk:<customer>:
-- <date>:<to tier>` (a different projected date or tier is a new condition) or `<signal>:<customer>`.
-- Cooldown (business days, 7): an alert whose condition comes back before cooldown_until is
-- reopened silently (same id, no new notification); after it, a new alert and notification.
-- Each new alert enqueues `notify_alert` (queue notifier, unique key alert:<id>) in the same
-- transaction as the alert row.
CREATE TABLE alerts (
    id              bigserial PRIMARY KEY,
    customer_id     text NOT NULL,
    kind            text NOT NULL,              -- downgrade_risk or a signal code
    dedup_key       text NOT NULL,
    state           text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
    first_raised_at timestamptz NOT NULL DEFAULT now(),
    last_raised_at  timestamptz NOT NULL DEFAULT now(), -- last scoring that changed it (reopened, new BD or new figures)
    business_date   date NOT NULL,              -- BD of the scoring that raised (or last confirmed) it
    first_business_date date NOT NULL,          -- BD it was first raised
    cooldown_until  date NOT NULL,              -- business date until which a recurrence is not re-notified
    payload         jsonb NOT NULL,             -- the signal or warning with its figures, tier, masked nothing (no names)
    resolved_at     timestamptz,
    resolved_business_date date
);
CREATE UNIQUE INDEX alerts_one_open ON alerts (dedup_key) WHERE state = 'open';
CREATE INDEX alerts_customer ON alerts (customer_id, state);
CREATE INDEX alerts_dedup ON alerts (dedup_key, id DESC);

-- What an operator reads in psql: one row per customer with its current score.
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
    SELECT * FROM customer_scores cs WHERE cs.customer_id = c.customer_id ORDER BY cs.id DESC LIMIT 1
) s ON true;
COMMENT ON VIEW customer_status IS
    'One row per customer from its newest customer_scores row: tier in force on the business date '
    '(is_provisional before its first month completes), watch_months (观察期), AUM on BD, month-to-date '
    'and the last three calendar months'' 月日均 (m3 oldest … m1 latest; fen, rounded down for display; '
    'rules compare sums), the projected downgrade date and tier within 45 days with the gap (smallest '
    'one-off deposit from BD+1, null when none can help) and the extra daily average needed, open signals '
    'and the retention-risk probability. Null score columns: not scored yet.';
COMMENT ON COLUMN customer_status.mtd_avg_fen IS 'Month-to-date 月日均: Σ daily AUM 1st … BD / days, fen, rounded down';
COMMENT ON COLUMN customer_status.gap_fen IS 'Smallest one-off deposit on BD+1 that stops the projected downgrade, fen rounded up';
