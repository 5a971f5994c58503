-- The feedback service's tables (tierguard-feedback, Shared/TierGuardStore/Feedback): the customer's
-- voice (surveys, complaints), the RMs' visit outcomes and alert feedback, marketing/profiling
-- preferences, and what makes every item idempotent and never dropped.
--
-- Conventions: written by tierguard-feedback only; read by the scorer (`dissatisfied`, suppression of
-- product recommendations while a complaint is open, effective marketing opt-out), the notifier
-- (complaint-clock alerts) and `tierguardctl report retention`.
-- Free text (survey comments, complaint descriptions and decisions, extension reasons, visit notes)
-- is personal data (PIPL): never logged, blanked by FeedbackRetention.purge after the retention
-- period (TIERGUARD_FEEDBACK_RETENTION_DAYS, default 1095 = 3 years) leaving structured fields;
-- each blanking records *_purged_at and a feedback_purges row.

-- One row per accepted idempotency key: (kind, key) → the first answer. A replay of the same item
-- is answered 200 with this body; a different item under the same key is refused 409.
-- kind: survey | complaint | complaint_event | visit | preference | alert_feedback.
CREATE TABLE feedback_receipts (
    kind         text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,                  -- sha256 hex of the canonical (sorted-key) JSON item
    status       integer NOT NULL,               -- 201 applied, 202 pending
    body         text NOT NULL,                  -- the first answer (ids and states only, no free text)
    source       text NOT NULL,                  -- calling system (token name) or 'file:<name>'
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, key)
);

-- Items about a customer not (yet) in the archive: kept, never dropped, applied by
-- FeedbackPending.applyArrived when the customer arrives (called after each ingest batch and
-- periodically). item is the validated JSON item (it may hold free text: purged like the rest).
CREATE TABLE feedback_pending (
    kind        text NOT NULL,
    key         text NOT NULL,
    customer_id text NOT NULL,
    item        jsonb NOT NULL,
    source      text NOT NULL,
    last_error  text,                            -- why the last attempt to apply it failed (no values)
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, key)
);
CREATE INDEX feedback_pending_customer ON feedback_pending (customer_id);

-- Surveys: csat 1–5, nps 0–10.
CREATE TABLE feedback_surveys (
    survey_id         text PRIMARY KEY,
    customer_id       text NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('csat', 'nps')),
    score             integer NOT NULL,
    touchpoint        text NOT NULL,
    answered_at       timestamptz NOT NULL,
    comment           text,                      -- C2 free text, purged after retention
    comment_purged_at timestamptz,
    source            text NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'csat' AND score BETWEEN 1 AND 5) OR (kind = 'nps' AND score BETWEEN 0 AND 10))
);
CREATE INDEX feedback_surveys_customer ON feedback_surveys (customer_id, answered_at);

-- Complaints and their clock (《银行业保险业消费投诉处理管理办法》). Deadlines count calendar days from
-- received_on, the Asia/Shanghai day of receipt: decision and notice by received_on + 15; a first
-- extension (complex case) moves it to + 30; a second (senior approval, complainant notified) to
-- + 60; never beyond. decision_due_on is the deadline in force. The clock stops at `informed`.
-- States: received → acknowledged → (extended ×≤2) → decided → informed → closed.
-- Recusal (回避): the handler is never the staff member the complaint names.
CREATE TABLE complaints (
    complaint_id          text PRIMARY KEY,
    customer_id           text NOT NULL,
    received_at           timestamptz NOT NULL,
    received_on           date NOT NULL,
    channel               text NOT NULL,
    category              text NOT NULL,
    severity              text NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
    description           text,                  -- C2 free text, purged after retention
    description_purged_at timestamptz,
    named_staff_id        text,                  -- the staff member complained about
    handler_id            text,
    state                 text NOT NULL DEFAULT 'received'
        CHECK (state IN ('received', 'acknowledged', 'extended', 'decided', 'informed', 'closed')),
    initial_due_on        date NOT NULL,         -- received_on + 15
    extended_due_on       date,                  -- received_on + 30 after the first extension
    final_due_on          date,                  -- received_on + 60 after the second
    decision_due_on       date NOT NULL,         -- the deadline in force
    extensions            integer NOT NULL DEFAULT 0 CHECK (extensions BETWEEN 0 AND 2),
    acknowledged_at       timestamptz,
    decided_at            timestamptz,
    decision              text,                  -- C2 free text, purged after retention
    informed_at           timestamptz,
    closed_at             timestamptz,
    close_cause           text,
    corrective_action     text,                  -- 溯源整改: the bank's own action
    source                text NOT NULL,
    recorded_at           timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK (handler_id IS NULL OR named_staff_id IS NULL OR handler_id <> named_staff_id),
    CHECK (decision_due_on <= received_on + 60)
);
CREATE INDEX complaints_customer ON complaints (customer_id) WHERE state <> 'closed';
CREATE INDEX complaints_clock ON complaints (decision_due_on) WHERE state IN ('received', 'acknowledged', 'extended', 'decided');

-- Every state change, in order (the audit trail of the clock).
CREATE TABLE complaint_events (
    event_id      text PRIMARY KEY,
    complaint_id  text NOT NULL REFERENCES complaints (complaint_id),
    type          text NOT NULL CHECK (type IN ('assigned', 'acknowledged', 'extended', 'decided', 'informed', 'closed')),
    occurred_at   timestamptz NOT NULL,
    approved_by   text,
    customer_notified_at timestamptz,
    reason        text,                          -- C2 free text (extension reason), purged after retention
    handler_id    text,
    due_on_after  date,
    source        text NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX complaint_events_complaint ON complaint_events (complaint_id, recorded_at);

-- RM visit outcomes. A visit closes the matching open rm_tasks row (the notifier's table) and is
-- the outcome recorded on the alert it answers (alert_id).
CREATE TABLE rm_visits (
    visit_id        text PRIMARY KEY,
    customer_id     text NOT NULL,
    rm_id           text NOT NULL,
    visited_at      timestamptz NOT NULL,
    method          text NOT NULL CHECK (method IN ('phone', 'in_person', 'wecom')),
    outcome         text NOT NULL CHECK (outcome IN ('retained', 'committed_deposit', 'declined', 'not_reached')),
    amount_fen      bigint CHECK ((outcome = 'committed_deposit') = (amount_fen IS NOT NULL) AND (amount_fen IS NULL OR amount_fen > 0)),
    alert_id        bigint,
    task_id         bigint,
    closed_task_ids bigint[] NOT NULL DEFAULT '{}',
    note            text,                        -- C2 free text, purged after retention
    note_purged_at  timestamptz,
    source          text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rm_visits_customer ON rm_visits (customer_id, visited_at);
CREATE INDEX rm_visits_alert ON rm_visits (alert_id) WHERE alert_id IS NOT NULL;

-- Whether an RM found an alert useful: one row per alert.
CREATE TABLE alert_feedback (
    alert_id    bigint PRIMARY KEY,
    customer_id text NOT NULL,
    useful      boolean NOT NULL,
    reason_code text NOT NULL,
    rm_id       text,
    source      text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

-- Preferences recorded from any channel (PIPL art. 24). The rule the scorer applies:
--   effective marketing opt-out = customers.marketing_opt_out (the feed) OR
--                                  customer_preferences.marketing_opt_out_recorded;
-- a refusal recorded here applies at once and stays until the customer consents again through
-- this service (a preference with marketing_opt_out false); a feed that says false or nothing never
-- lifts it. automated_profiling_refused excludes the customer from recommendations (service alerts
-- stay). The view customer_effective_preferences computes both.
CREATE TABLE customer_preferences (
    customer_id                 text PRIMARY KEY,
    marketing_opt_out_recorded  boolean NOT NULL DEFAULT false,
    automated_profiling_refused boolean NOT NULL DEFAULT false,
    source                      text NOT NULL,
    recorded_at                 timestamptz NOT NULL
);

CREATE TABLE preference_events (
    preference_id               text PRIMARY KEY,
    customer_id                 text NOT NULL,
    marketing_opt_out           boolean,
    automated_profiling_refused boolean,
    channel                     text NOT NULL,
    source                      text NOT NULL,
    recorded_at                 timestamptz NOT NULL,
    received_at                 timestamptz NOT NULL DEFAULT now()
);

CREATE VIEW customer_effective_preferences AS
SELECT c.customer_id,
       (c.marketing_opt_out OR coalesce(p.marketing_opt_out_recorded, false)) AS marketing_opt_out,
       coalesce(p.automated_profiling_refused, false)                        AS automated_profiling_refused,
       EXISTS (SELECT 1 FROM complaints k WHERE k.customer_id = c.customer_id AND k.state <> 'closed')
                                                                              AS has_open_complaint
FROM customers c
LEFT JOIN customer_preferences p ON p.customer_id = c.customer_id;
COMMENT ON VIEW customer_effective_preferences IS
    'Stricter of the feed and the recorded preference: a refusal recorded by tierguard-feedback stays until '
    'the customer consents again there; has_open_complaint suppresses product recommendations.';

-- What each retention purge blanked.
CREATE TABLE feedback_purges (
    id          bigserial PRIMARY KEY,
    table_name  text NOT NULL,
    rows_purged bigint NOT NULL,
    cutoff      timestamptz NOT NULL,
    purged_at   timestamptz NOT NULL DEFAULT now()
);

-- The retention report, one row per downgrade_risk alert: did the customer keep the tier at the
-- projected date, and what did the RM do? projected_on is the date in the alert's dedup key
-- (`downgrade_risk:<customer>:<date>:<to tier>`); outcome: `downgraded` when the tier history holds
-- a downgrade effective on that date, `kept` when the business date has reached it without one,
-- `pending` before. rm_action: the outcome of the latest visit answering the alert (alert_id) or to
-- the customer between the alert and the projected date, else `no_visit`.
CREATE VIEW retention_report AS
SELECT a.id                                                          AS alert_id,
       a.customer_id,
       a.first_business_date                                         AS raised_on,
       w.projected_on,
       (w.projected_on - a.first_business_date)                      AS lead_days,
       coalesce(v.outcome, 'no_visit')                               AS rm_action,
       CASE WHEN EXISTS (SELECT 1 FROM customer_tier_history h
                         WHERE h.customer_id = a.customer_id AND h.kind = 'downgrade'
                           AND h.effective_on = w.projected_on) THEN 'downgraded'
            WHEN tierguard_business_date() >= w.projected_on THEN 'kept'
            ELSE 'pending' END                                       AS outcome,
       f.useful
FROM alerts a
CROSS JOIN LATERAL (
    SELECT substring(a.dedup_key FROM ':([0-9]{4}-[0-9]{2}-[0-9]{2}):[^:]*$')::date AS projected_on
) w
LEFT JOIN LATERAL (
    SELECT rv.outcome FROM rm_visits rv
    WHERE rv.alert_id = a.id
       OR (rv.customer_id = a.customer_id AND rv.alert_id IS NULL
           AND rv.visited_at >= a.first_raised_at
           AND (rv.visited_at AT TIME ZONE 'Asia/Shanghai')::date < w.projected_on)
    ORDER BY rv.visited_at DESC LIMIT 1
) v ON true
LEFT JOIN alert_feedback f ON f.alert_id = a.id
WHERE a.kind = 'downgrade_risk' AND w.projected_on IS NOT NULL;
COMMENT ON VIEW retention_report IS
    'Per downgrade_risk alert: raised_on, projected_on, lead_days, rm_action (no_visit or the visit outcome), '
    'outcome (kept/downgraded/pending against customer_tier_history), useful (RM feedback, null if none).';
