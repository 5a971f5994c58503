-- The archive's two large tables, balances and transactions, partitioned by calendar month, with
-- retention by dropping whole months (issue 9; deploy/SCALING.md "Partitions and retention").
--
-- Layout: one partition per month, named <table>_YYYYMM (balances by as_of, transactions by booked_on,
-- both Asia/Shanghai calendar days), plus a DEFAULT partition that catches a row of a month whose
-- partition does not exist yet, so no write ever fails for want of a partition. Ingest creates the
-- months a feed needs before applying it (tierguard_ensure_month_partitions); a month whose rows are
-- already in the default partition is moved out of it when its partition is made.
--
-- Keys: balances keep (account_id, as_of). A partitioned table's unique keys must include the partition
-- column, so transactions are keyed (txn_id, booked_on); txn_id alone stays unique because every write
-- goes through ingest, which finds an existing txn_id across all months before inserting (a changed
-- booked_on moves the row) and applies one feed at a time (an advisory lock around the apply,
-- FeedIngestor). Every archive table stays keyed by customer_id-bearing rows, ready for Citus.
--
-- Retention: tierguard_drop_archive_months(keep_from, operator, reason) drops every month before
-- keep_from (a first of month, at least 13 months before the business date: the scorer reads the
-- current and previous months and a year of tier history). Before it drops balances it writes, for each
-- account, its latest balance before keep_from as a balance ON keep_from (unless a real one is there),
-- so "the latest end-of-day balance on or before d" is the same for every day kept: dropping loses
-- nothing current. Each drop is recorded in archive_retention_log.
--
-- This migration converts the tables in place (rename, create partitioned, move rows, drop the old one);
-- on a large archive run it in a maintenance window.

SELECT pg_advisory_xact_lock(hashtext('tierguard.archive.partitions'));

-- Creates the missing month partitions of balances or transactions covering [first_day, last_day],
-- moving any of their rows out of the default partition first. Returns how many it made.
-- SECURITY DEFINER: partitions are owned by the migrating user like every table; a service role calls
-- this without any DDL right of its own.
CREATE FUNCTION tierguard_ensure_month_partitions(parent regclass, first_day date, last_day date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    month_start date := date_trunc('month', first_day)::date;
    next_month date;
    partition_name text;
    column_name text;
    -- Partitions live in the parent's schema (the definer's search_path starts with pg_catalog).
    schema_name text := (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE c.oid = parent);
    made integer := 0;
BEGIN
    IF parent = 'balances'::regclass THEN column_name := 'as_of';
    ELSIF parent = 'transactions'::regclass THEN column_name := 'booked_on';
    ELSE RAISE EXCEPTION 'tierguard_ensure_month_partitions: % is not a monthly partitioned archive table', parent;
    END IF;
    IF first_day IS NULL OR last_day IS NULL OR last_day < first_day THEN RETURN 0; END IF;
    IF last_day - first_day > 366 * 50 THEN
        RAISE EXCEPTION 'tierguard_ensure_month_partitions: % to % spans more than 50 years', first_day, last_day;
    END IF;
    -- One maker at a time (two ingests needing the same new month), until the caller commits.
    PERFORM pg_advisory_xact_lock(hashtext('tierguard.archive.partitions'));
    WHILE month_start <= last_day LOOP
        next_month := (month_start + interval '1 month')::date;
        partition_name := format('%s_%s', (SELECT relname FROM pg_class WHERE oid = parent), to_char(month_start, 'YYYYMM'));
        IF to_regclass(format('%I.%I', schema_name, partition_name)) IS NULL THEN
            -- ATTACH takes SHARE UPDATE EXCLUSIVE on the parent (readers and writers go on), where
            -- CREATE TABLE … PARTITION OF would take ACCESS EXCLUSIVE until the feed commits.
            EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                           schema_name, partition_name, parent);
            EXECUTE format('INSERT INTO %I.%I SELECT * FROM %s_default WHERE %I >= %L AND %I < %L',
                           schema_name, partition_name, parent, column_name, month_start, column_name, next_month);
            EXECUTE format('DELETE FROM %s_default WHERE %I >= %L AND %I < %L',
                           parent, column_name, month_start, column_name, next_month);
            EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
                           parent, schema_name, partition_name, month_start, next_month);
            made := made + 1;
        END IF;
        month_start := next_month;
    END LOOP;
    RETURN made;
END $$;
REVOKE ALL ON FUNCTION tierguard_ensure_month_partitions(regclass, date, date) FROM PUBLIC;

-- balances ------------------------------------------------------------------------------------------
ALTER TABLE balances RENAME TO balances_unpartitioned;
ALTER INDEX balances_pkey RENAME TO balances_unpartitioned_pkey;
ALTER INDEX balances_customer RENAME TO balances_unpartitioned_customer;
ALTER INDEX balances_as_of RENAME TO balances_unpartitioned_as_of;

CREATE TABLE balances (
    account_id     text NOT NULL,                            -- C2
    as_of          date NOT NULL,                            -- C2
    customer_id    text NOT NULL,                            -- C2 (the account's customer when applied)
    balance_fen    bigint NOT NULL,                          -- C2
    content_hash   bytea NOT NULL,                           -- C1
    first_batch_id bigint NOT NULL,                          -- C1
    last_batch_id  bigint NOT NULL,                          -- C1
    PRIMARY KEY (account_id, as_of)
) PARTITION BY RANGE (as_of);
CREATE TABLE balances_default PARTITION OF balances DEFAULT;
CREATE INDEX balances_customer ON balances (customer_id, account_id, as_of) INCLUDE (balance_fen);
CREATE INDEX balances_as_of ON balances (as_of);

SELECT tierguard_ensure_month_partitions('balances', min(as_of), max(as_of)) FROM balances_unpartitioned;
INSERT INTO balances SELECT * FROM balances_unpartitioned;
DROP TABLE balances_unpartitioned;

-- The scorer's rollups (0009) follow balances through statement-level triggers; the rows moved above
-- were rolled up already, so the triggers come back after the move.
DO $$
BEGIN
    IF to_regproc('tierguard_balances_rollup_trigger') IS NOT NULL THEN
        CREATE TRIGGER balances_rollups_insert AFTER INSERT ON balances
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tierguard_balances_rollup_trigger();
        CREATE TRIGGER balances_rollups_update AFTER UPDATE ON balances
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION tierguard_balances_rollup_trigger();
        CREATE TRIGGER balances_rollups_delete AFTER DELETE ON balances
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tierguard_balances_rollup_trigger();
    END IF;
END $$;

-- transactions --------------------------------------------------------------------------------------
ALTER TABLE transactions RENAME TO transactions_unpartitioned;
ALTER INDEX transactions_pkey RENAME TO transactions_unpartitioned_pkey;
ALTER INDEX transactions_customer RENAME TO transactions_unpartitioned_customer;

CREATE TABLE transactions (
    txn_id            text NOT NULL,                         -- C2
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
    last_batch_id     bigint NOT NULL,                       -- C1
    PRIMARY KEY (txn_id, booked_on)                          -- txn_id leads: lookups by txn_id use it
) PARTITION BY RANGE (booked_on);
CREATE TABLE transactions_default PARTITION OF transactions DEFAULT;
CREATE INDEX transactions_customer ON transactions (customer_id, booked_on);

SELECT tierguard_ensure_month_partitions('transactions', min(booked_on), max(booked_on)) FROM transactions_unpartitioned;
INSERT INTO transactions SELECT * FROM transactions_unpartitioned;
DROP TABLE transactions_unpartitioned;

-- Grants as 0005 gave them on the old tables (privileges on a partitioned table cover its partitions
-- when read or written through it; nobody is granted a partition directly).
GRANT SELECT, INSERT, UPDATE, DELETE ON balances, transactions TO tierguard_ingest;
GRANT SELECT ON balances, transactions TO tierguard_scorer, tierguard_operator;
GRANT SELECT ON balances TO tierguard_notifier;
GRANT EXECUTE ON FUNCTION tierguard_ensure_month_partitions(regclass, date, date) TO tierguard_ingest;

-- Retention ---------------------------------------------------------------------------------------------
CREATE TABLE archive_retention_log (
    id              bigserial PRIMARY KEY,                   -- C1
    table_name      text NOT NULL,                           -- C1 balances / transactions
    partition_name  text NOT NULL,                           -- C1 balances_202401
    month           date NOT NULL,                           -- C1
    rows_dropped    bigint NOT NULL,                         -- C1
    carried_forward bigint NOT NULL,                         -- C1 balances written on keep_from (see above)
    keep_from       date NOT NULL,                           -- C1
    operator        text NOT NULL,                           -- C1
    reason          text NOT NULL,                           -- C1
    dropped_at      timestamptz NOT NULL DEFAULT now()       -- C1
);

-- Drops every month of balances and transactions before keep_from; see the header for the rules.
-- Returns one row per partition dropped (empty when there was none). Refuses, with the rule in the
-- message, a keep_from that is not the first of a month or is later than the business date − 13 months.
CREATE FUNCTION tierguard_drop_archive_months(keep_from date, operator_name text, reason text)
RETURNS TABLE (table_name text, partition_name text, month date, rows_dropped bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
DECLARE
    business_date date := tierguard_business_date();
    latest_allowed date;
    carried bigint := 0;
    part record;
    dropped bigint;
BEGIN
    IF keep_from IS NULL OR keep_from <> date_trunc('month', keep_from)::date THEN
        RAISE EXCEPTION 'keep_from % must be the first day of a month (whole months are dropped)', keep_from
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF coalesce(btrim(reason), '') = '' OR coalesce(btrim(operator_name), '') = '' THEN
        RAISE EXCEPTION 'an operator and a reason are required to drop archive months'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF business_date IS NULL THEN
        RAISE EXCEPTION 'the archive has no business date yet; nothing to drop'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    latest_allowed := date_trunc('month', business_date - interval '13 months')::date;
    IF keep_from > latest_allowed THEN
        RAISE EXCEPTION 'keep_from % is too recent: the archive keeps at least 13 months before the business date %, so keep_from may be % at the latest',
            keep_from, business_date, latest_allowed USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('tierguard.archive.partitions'));

    -- Carry each account's latest balance before keep_from onto keep_from, unless a real balance is there.
    PERFORM tierguard_ensure_month_partitions('balances', keep_from, keep_from);
    INSERT INTO balances (account_id, as_of, customer_id, balance_fen, content_hash, first_batch_id, last_batch_id)
    SELECT DISTINCT ON (b.account_id) b.account_id, keep_from, b.customer_id, b.balance_fen, b.content_hash,
           b.first_batch_id, b.last_batch_id
    FROM balances b WHERE b.as_of < keep_from
    ORDER BY b.account_id, b.as_of DESC
    ON CONFLICT (account_id, as_of) DO NOTHING;
    GET DIAGNOSTICS carried = ROW_COUNT;

    -- Rows of dropped months that sit in the default partitions.
    DELETE FROM balances_default d WHERE d.as_of < keep_from;
    DELETE FROM transactions_default d WHERE d.booked_on < keep_from;

    FOR part IN
        SELECT i.inhparent::regclass::text AS parent, format('%I.%I', n.nspname, c.relname) AS name,
               to_date(right(c.relname, 6), 'YYYYMM') AS first_day
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE i.inhparent IN ('balances'::regclass, 'transactions'::regclass)
          AND c.relname ~ '_[0-9]{6}$'
          AND to_date(right(c.relname, 6), 'YYYYMM') < keep_from
        ORDER BY 1, 3
    LOOP
        EXECUTE format('SELECT count(*) FROM %s', part.name) INTO dropped;
        EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', part.parent, part.name);
        EXECUTE format('DROP TABLE %s', part.name);
        INSERT INTO archive_retention_log (table_name, partition_name, month, rows_dropped, carried_forward, keep_from,
                                           operator, reason)
        VALUES (part.parent, part.name, part.first_day, dropped,
                CASE WHEN part.parent = 'balances' THEN carried ELSE 0 END, keep_from, operator_name, reason);
        table_name := part.parent; partition_name := part.name; month := part.first_day; rows_dropped := dropped;
        RETURN NEXT;
    END LOOP;

    -- The scorer's month rollups (0009) of dropped months go with them.
    IF to_regclass('balance_month_rollups') IS NOT NULL THEN
        EXECUTE 'DELETE FROM balance_month_rollups WHERE month < $1' USING keep_from;
    END IF;
END $$;
REVOKE ALL ON FUNCTION tierguard_drop_archive_months(date, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tierguard_drop_archive_months(date, text, text) TO tierguard_operator;
GRANT SELECT ON archive_retention_log TO tierguard_operator;
