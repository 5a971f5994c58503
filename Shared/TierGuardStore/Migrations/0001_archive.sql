-- The customer archive (大客户档案): what the feeds delivered, current, with an audit trail.
--
-- Written by tierguard-ingest only (Shared/TierGuardStore/Ingest), read by everyone else.
-- Conventions:
-- - Every per-customer table carries customer_id so it can later be distributed by it (Citus);
--   relationship_managers and the ingest bookkeeping tables are not per customer (reference tables).
-- - Money is bigint fen (`*_fen`), calendar days are `date`, instants are timestamptz.
-- - content_hash is the MD5 (16 bytes) of the record's canonical COPY text, computed by ingest; equal
--   hash = unchanged record. first_batch_id / last_batch_id: the batch that created / last changed it.
-- - Only the primary keys are indexed here, on purpose: every extra index slows the 1M-row ingest.
--   Read indexes and rollups belong to the readers' migrations (the scorer's 0002_scoring.sql).
-- - JR/T 0171-2020 class of each column in the trailing comment: C2 = identity and account data
--   (personal financial information), C1 = internal data. C3 (authentication data: passwords, PINs,
--   CVVs) is never accepted from a feed (FeedContract rejects such fields) and has no column here.

-- One row per feed delivered (a file, stdin, an HTTP body, a watched-folder file).
CREATE TABLE ingest_batches (
    id               bigserial PRIMARY KEY,                 -- C1
    source           text NOT NULL CHECK (source IN ('file', 'stdin', 'http', 'watch')), -- C1
    file_name        text,                                  -- C1 (as given; null for an HTTP body)
    checksum         text,                                  -- C1 sha256 hex of the bytes delivered
    format           text NOT NULL,                         -- C1 'ndjson' or 'csv(customer)' ...
    contract_version text NOT NULL,                         -- C1 feed contract version ingest applied
    started_at       timestamptz NOT NULL DEFAULT now(),    -- C1
    finished_at      timestamptz,                           -- C1
    accepted         bigint NOT NULL DEFAULT 0,             -- C1 lines that created or changed a record
    rejected         bigint NOT NULL DEFAULT 0,             -- C1 lines in ingest_rejects
    unchanged        bigint NOT NULL DEFAULT 0,             -- C1 lines identical to what was held
    pending          bigint NOT NULL DEFAULT 0,             -- C1 lines parked in pending_records
    applied_pending  bigint NOT NULL DEFAULT 0,             -- C1 earlier pending records applied by this batch
    jobs_enqueued    bigint NOT NULL DEFAULT 0,             -- C1 score_customer jobs enqueued
    status           text NOT NULL DEFAULT 'applied' CHECK (status IN ('applied', 'failed')), -- C1
    error            text                                   -- C1 whole-file failure reason (no personal data)
);

-- A line that is not a valid record. Never dropped: kept with its line, reason and raw text.
CREATE TABLE ingest_rejects (
    id          bigserial PRIMARY KEY,                       -- C1
    batch_id    bigint NOT NULL REFERENCES ingest_batches (id), -- C1
    customer_id text,                                        -- C2 when the line said it (may be null)
    line_number integer NOT NULL,                            -- C1
    record_type text,                                        -- C1 null for a line-level fault
    natural_key text,                                        -- C1 null when the line did not get that far
    field       text,                                        -- C1 contract field at fault
    reason      text NOT NULL,                               -- C1 personal values already masked
    raw_text    text NOT NULL,                               -- C2 the line itself (may hold identifiers)
    created_at  timestamptz NOT NULL DEFAULT now()           -- C1
);
CREATE INDEX ingest_rejects_batch ON ingest_rejects (batch_id, line_number);

CREATE TABLE customers (
    customer_id       text PRIMARY KEY,                      -- C2
    name              text NOT NULL,                         -- C2
    id_type           text NOT NULL,                         -- C2
    id_number         text NOT NULL,                         -- C2 (identifier)
    phone             text,                                  -- C2 (identifier)
    birth_date        date,                                  -- C2
    gender            text,                                  -- C2
    risk_level        text NOT NULL,                         -- C2 'C1'..'C5'
    risk_assessed_on  date NOT NULL,                         -- C2
    annual_income_fen bigint,                                -- C2
    rm_id             text NOT NULL,                         -- C1
    branch_id         text NOT NULL,                         -- C1
    opened_on         date NOT NULL,                         -- C2
    status            text NOT NULL,                         -- C2 'active' / 'closed'
    marketing_opt_out boolean NOT NULL,                      -- C2
    content_hash      bytea NOT NULL,                        -- C1
    first_batch_id    bigint NOT NULL,                       -- C1
    last_batch_id     bigint NOT NULL,                       -- C1
    updated_at        timestamptz NOT NULL DEFAULT now()     -- C1
);

CREATE TABLE accounts (
    account_id     text PRIMARY KEY,                         -- C2
    customer_id    text NOT NULL,                            -- C2
    product        text NOT NULL,                            -- C2
    product_code   text,                                     -- C1
    currency       text NOT NULL,                            -- C2
    opened_on      date NOT NULL,                            -- C2
    maturity_on    date,                                     -- C2
    closed_on      date,                                     -- C2
    content_hash   bytea NOT NULL,                           -- C1
    first_batch_id bigint NOT NULL,                          -- C1
    last_batch_id  bigint NOT NULL,                          -- C1
    updated_at     timestamptz NOT NULL DEFAULT now()        -- C1
);

-- End-of-day balances from the core system.
CREATE TABLE balances (
    account_id     text NOT NULL,                            -- C2
    as_of          date NOT NULL,                            -- C2
    customer_id    text NOT NULL,                            -- C2 (the account's customer when applied)
    balance_fen    bigint NOT NULL,                          -- C2
    content_hash   bytea NOT NULL,                           -- C1
    first_batch_id bigint NOT NULL,                          -- C1
    last_batch_id  bigint NOT NULL,                          -- C1
    PRIMARY KEY (account_id, as_of)
);

CREATE TABLE transactions (
    txn_id            text PRIMARY KEY,                      -- C2
    account_id        text NOT NULL,                         -- C2
    customer_id       text NOT NULL,                         -- C2 (the account's customer when applied)
    booked_at         timestamptz NOT NULL,                  -- C2 (microseconds; the feed may carry ns)
    booked_on         date NOT NULL,                         -- C2 booked_at's day in Asia/Shanghai
    amount_fen        bigint NOT NULL,                       -- C2 signed: negative = money leaving
    category          text NOT NULL,                         -- C2
    channel           text NOT NULL,                         -- C2
    counterparty_bank text,                                  -- C2
    description       text,                                  -- C2
    content_hash      bytea NOT NULL,                        -- C1
    first_batch_id    bigint NOT NULL,                       -- C1
    last_batch_id     bigint NOT NULL                        -- C1
);

-- Feed contract v1.1. Not per customer (a reference table under Citus).
CREATE TABLE relationship_managers (
    rm_id          text PRIMARY KEY,                         -- C1
    name           text NOT NULL,                            -- C2 (the RM's own personal data)
    branch_id      text NOT NULL,                            -- C1
    manager_rm_id  text,                                     -- C1
    wecom_userid   text,                                     -- C2
    email          text,                                     -- C2
    mobile         text,                                     -- C2
    active         boolean NOT NULL,                         -- C1
    content_hash   bytea NOT NULL,                           -- C1
    first_batch_id bigint NOT NULL,                          -- C1
    last_batch_id  bigint NOT NULL,                          -- C1
    updated_at     timestamptz NOT NULL DEFAULT now()        -- C1
);

-- The audit trail: one row per feed line that changed a record already held (in the archive or
-- earlier in the same feed), naming the fields that changed. New records are not listed here
-- (first_batch_id says when they came).
CREATE TABLE archive_changes (
    id             bigserial PRIMARY KEY,                    -- C1
    customer_id    text,                                     -- C2 (null for relationship_manager)
    record_type    text NOT NULL,                            -- C1
    natural_key    text NOT NULL,                            -- C2 'C001', 'A001 2026-03-31', ...
    batch_id       bigint NOT NULL REFERENCES ingest_batches (id), -- C1
    line_number    integer NOT NULL,                         -- C1
    changed_fields text[] NOT NULL,                          -- C1 field names only, never values
    changed_at     timestamptz NOT NULL DEFAULT now()        -- C1
);
CREATE INDEX archive_changes_customer ON archive_changes (customer_id, changed_at);

-- Balances and transactions whose account is not in the archive (unknown, or its record was
-- rejected). Kept across feeds (the later line of the same key replaces the earlier) and applied,
-- then deleted, by the first batch that brings the account. customer_id is null until then.
CREATE TABLE pending_records (
    record_type       text NOT NULL CHECK (record_type IN ('balance', 'transaction')), -- C1
    natural_key       text NOT NULL,                         -- C2 'A001 2026-03-31' / txn_id
    account_id        text NOT NULL,                         -- C2
    customer_id       text,                                  -- C2 always null while pending
    batch_id          bigint NOT NULL,                       -- C1 batch of the line held
    line_number       integer NOT NULL,                      -- C1 its line in that batch
    first_batch_id    bigint NOT NULL,                       -- C1 first batch that parked the key
    content_hash      bytea NOT NULL,                        -- C1
    as_of             date,                                  -- C2 balance
    balance_fen       bigint,                                -- C2 balance
    txn_id            text,                                  -- C2 transaction
    booked_at         timestamptz,                           -- C2 transaction
    booked_on         date,                                  -- C2 transaction
    amount_fen        bigint,                                -- C2 transaction
    category          text,                                  -- C2 transaction
    channel           text,                                  -- C2 transaction
    counterparty_bank text,                                  -- C2 transaction
    description       text,                                  -- C2 transaction
    created_at        timestamptz NOT NULL DEFAULT now(),    -- C1
    PRIMARY KEY (record_type, natural_key)
);
CREATE INDEX pending_records_account ON pending_records (account_id);
