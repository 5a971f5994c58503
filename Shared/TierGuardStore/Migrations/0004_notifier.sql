-- The notifier's tables (tierguard-notifier, Shared/TierGuardStore/Notify): what was sent to whom,
-- every delivery attempt, the shared WeCom robot rate limit, the cached WeCom access token, and RM
-- tasks (if the feedback migration did not create them first).

-- One row per message subject × RM × channel. The UNIQUE key is what makes "never twice" hold: a
-- notifier that retries, or a second replica, finds the row and reuses its id as the receiver's
-- idempotency key (webhook-id) instead of creating a new message.
--
-- subject: `alert:<alert id>` (one alert to one RM), `digest:<rm>:<YYYY-MM-DD>` (the morning digest),
-- `escalation:<task id>` (an urgent task still open after 24 h, to the RM's manager),
-- `sms:<customer>:<kind>:<YYYY-MM-DD>` (a customer-facing SMS).
-- States, and who moves rows:
--   pending    created by the notifier before the first send; a crash leaves it pending and the
--              job's retry sends it again under the same id.
--   waiting    a non-urgent alert held for the RM's next digest (digest_id null) — moved to sent by
--              the digest that includes it, or stays waiting when the RM's daily budget cut it.
--   sent       the receiver accepted it (HTTP 2xx, WeCom errcode 0, SMTP 250).
--   suppressed never sent, on purpose; `reason` is quiet_hours, opt_out, duplicate, no_route or rm_inactive.
--   failed     a permanent refusal (a 4xx other than 429, a WeCom errcode other than 45009) or the
--              queue's retries ran out; `reason` says why; `tierguardctl notify retry ID` re-enqueues.
CREATE TABLE notifications (
    id            bigserial PRIMARY KEY,
    subject       text NOT NULL,
    alert_id      bigint,                      -- null for digests, escalations and SMS
    customer_id   text,                        -- C2 (the alert's customer)
    rm_id         text NOT NULL,               -- the RM addressed, or 'branch:<id>' for a fallback route
    channel       text NOT NULL CHECK (channel IN ('webhook', 'wecom_robot', 'wecom_app', 'sms', 'email', 'digest')),
    target        text NOT NULL,               -- C2 masked when shown: URL, robot name, userid, mail, phone
    urgent        boolean NOT NULL DEFAULT false,
    state         text NOT NULL CHECK (state IN ('pending', 'waiting', 'sent', 'suppressed', 'failed')),
    reason        text,
    money_at_risk_fen bigint NOT NULL DEFAULT 0, -- digest ranking key: AUM × retention-risk probability
    digest_id     bigint REFERENCES notifications (id),
    title         text,                        -- first line / mail subject
    body          text,                        -- the rendered message (masked names only)
    attempts      integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subject, rm_id, channel),
    CHECK (state <> 'suppressed' OR reason IN ('quiet_hours', 'opt_out', 'duplicate', 'no_route', 'rm_inactive'))
);
CREATE INDEX notifications_waiting ON notifications (rm_id, money_at_risk_fen DESC) WHERE state = 'waiting';
CREATE INDEX notifications_failed ON notifications (updated_at DESC) WHERE state = 'failed';
CREATE INDEX notifications_alert ON notifications (alert_id);

-- Each attempt to hand a notification over: the HTTP status or WeCom errcode or SMTP reply code, a
-- response excerpt with personal data masked (at most 200 characters), the outcome, the time.
CREATE TABLE notification_deliveries (
    id              bigserial PRIMARY KEY,
    notification_id bigint NOT NULL REFERENCES notifications (id),
    channel         text NOT NULL,
    http_status     integer,
    errcode         integer,
    outcome         text NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed', 'rate_limited')),
    excerpt         text,
    attempted_at    timestamptz NOT NULL DEFAULT now(),
    duration_ms     integer
);
CREATE INDEX notification_deliveries_notification ON notification_deliveries (notification_id, id);

-- The WeCom group-robot limit (20 messages per minute per robot) shared by every notifier replica:
-- one row per robot per wall-clock minute (database clock); a send first takes a slot with
-- `INSERT … ON CONFLICT DO UPDATE … WHERE sent < limit RETURNING`, and no row back means "full,
-- snooze until the next minute". robot is a SHA-256 prefix of the robot key, never the key itself.
CREATE TABLE notify_rate_windows (
    robot   text NOT NULL,
    minute  timestamptz NOT NULL,
    sent    integer NOT NULL,
    PRIMARY KEY (robot, minute)
);

-- The WeCom application access_token (valid 7,200 s), shared by replicas and refreshed by one of
-- them under `SELECT … FOR UPDATE` on this row, 300 s before it expires, not per message.
CREATE TABLE wecom_tokens (
    app          text PRIMARY KEY,             -- corp id + agent id
    access_token text,                         -- C3-like secret: never logged, never shown
    expires_at   timestamptz NOT NULL DEFAULT '-infinity',
    refreshed_at timestamptz
);

-- RM tasks. The feedback service closes them from visit outcomes; the notifier creates, expires and
-- escalates them. Created here only when 0003_feedback.sql did not.
CREATE TABLE IF NOT EXISTS rm_tasks (
    id           bigserial PRIMARY KEY,
    rm_id        text NOT NULL,
    customer_id  text NOT NULL,
    kind         text NOT NULL,
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'expired', 'cancelled')),
    due_on       date NOT NULL,
    alert_id     bigint,
    created_at   timestamptz NOT NULL DEFAULT now(),
    closed_at    timestamptz
);
ALTER TABLE rm_tasks ADD COLUMN IF NOT EXISTS dedup_key text;
ALTER TABLE rm_tasks ADD COLUMN IF NOT EXISTS urgent boolean NOT NULL DEFAULT false;
ALTER TABLE rm_tasks ADD COLUMN IF NOT EXISTS escalated_at timestamptz;
ALTER TABLE rm_tasks ADD COLUMN IF NOT EXISTS detail text;
-- One task per reason: `follow_up:<alert id>`, `birthday:<customer>:<year>`, `maturity:<account>:<date>`.
CREATE UNIQUE INDEX IF NOT EXISTS rm_tasks_dedup ON rm_tasks (dedup_key);
CREATE INDEX IF NOT EXISTS rm_tasks_open ON rm_tasks (rm_id, due_on) WHERE status = 'open';
