-- Issue 11: no plaintext identifier in any table. ID numbers, customer phones and RM mobiles are encrypted
-- in the application (Shared/PersonalDataVault: AES-256-GCM, stored as
--   version(1) | key id length(1) | key id | nonce(12) | ciphertext | tag(16)
-- in one bytea) before they reach PostgreSQL; the key id is repeated in its own column (rotation finds the
-- rows under an old key with WHERE *_key_id <> 'active'); *_hmac is the keyed HMAC-SHA-256 blind index of
-- the normalised value (ID upper-cased, phone digits only) for exact lookup and dedup. Change detection in
-- ingest compares the blind index, never ciphertext (a fresh nonce makes every encryption differ).
--
-- The plaintext columns are dropped. SQL cannot encrypt (it has no key), so rows loaded before this
-- migration keep NULL identifiers until the next full customer/RM feed rewrites them: the content hash now
-- covers the blind index instead of the plaintext, so every such row compares as changed and is rewritten.
--
-- RM mobiles (relationship_managers.mobile) are the RM's own personal information (C2): encrypted the same
-- way. Nothing in TierGuard reads them back yet (notifications to RMs go by WeCom user id or e-mail).
--
-- Grants: the new customers columns are not in any service's column grant (0005): the scorer, notifier,
-- feedback and RM roles cannot read the ciphertext, the key id or the blind index; ingest (table-level)
-- writes them; operators read them (table-level SELECT) and decrypt only with the key file, which only
-- tierguardctl is given. relationship_managers is granted table-wide to ingest, notifier and operator, so
-- those read mobile_enc — ciphertext, useless without the key file, which the notifier is not given.
ALTER TABLE customers
    DROP COLUMN id_number,
    DROP COLUMN phone,
    ADD COLUMN id_number_enc    bytea,                       -- C2 (identifier) AES-256-GCM sealed; NULL when erased
    ADD COLUMN id_number_key_id text,                        -- C1 key id of id_number_enc
    ADD COLUMN id_number_hmac   bytea,                       -- C2 blind index HMAC-SHA-256(id_number), 32 bytes
    ADD COLUMN phone_enc        bytea,                       -- C2 (identifier) AES-256-GCM sealed; NULL = no phone
    ADD COLUMN phone_key_id     text,                        -- C1 key id of phone_enc
    ADD COLUMN phone_hmac       bytea,                       -- C2 blind index HMAC-SHA-256(phone digits), 32 bytes
    ADD COLUMN erased_at        timestamptz,                 -- C1 set by `tierguardctl customer erase` (see below)
    ADD CONSTRAINT customers_id_number_sealed CHECK (
        (id_number_enc IS NULL) = (id_number_key_id IS NULL) AND (id_number_enc IS NULL) = (id_number_hmac IS NULL)),
    ADD CONSTRAINT customers_phone_sealed CHECK (
        (phone_enc IS NULL) = (phone_key_id IS NULL) AND (phone_enc IS NULL) = (phone_hmac IS NULL));
-- Blind-index lookups (`tierguardctl customer find`, dedup rules): equality on the HMAC.
CREATE INDEX customers_id_number_hmac ON customers (id_number_hmac) WHERE id_number_hmac IS NOT NULL;
CREATE INDEX customers_phone_hmac ON customers (phone_hmac) WHERE phone_hmac IS NOT NULL;

ALTER TABLE relationship_managers
    DROP COLUMN mobile,
    ADD COLUMN mobile_enc    bytea,                          -- C2 (RM's own PI) AES-256-GCM sealed
    ADD COLUMN mobile_key_id text,                           -- C1 key id of mobile_enc
    ADD COLUMN mobile_hmac   bytea,                          -- C2 blind index HMAC-SHA-256(mobile digits)
    ADD CONSTRAINT relationship_managers_mobile_sealed CHECK (
        (mobile_enc IS NULL) = (mobile_key_id IS NULL) AND (mobile_enc IS NULL) = (mobile_hmac IS NULL));

-- Erasure (PIPL art. 47, `tierguardctl customer erase ID --reason`): a closed customer's personal fields
-- are anonymised in place — name '已注销', identifiers (ciphertext, key id, blind index) NULL, gender NULL,
-- birth_date kept as the 1st of January of its year (age band for aggregates, not a birthday) — and
-- customers.erased_at set. Scores, balances, transactions and alerts stay (aggregates, kept ≥ 3 years by
-- arts. 55–56). A feed that re-sends an erased customer must not bring the personal fields back: this
-- trigger keeps them anonymised on every later UPDATE (the other fields, e.g. status, still apply).
CREATE FUNCTION customers_keep_erased() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.erased_at IS NOT NULL THEN
        NEW.erased_at := OLD.erased_at;
        NEW.name := OLD.name;
        NEW.id_number_enc := NULL; NEW.id_number_key_id := NULL; NEW.id_number_hmac := NULL;
        NEW.phone_enc := NULL; NEW.phone_key_id := NULL; NEW.phone_hmac := NULL;
        NEW.gender := OLD.gender;
        NEW.birth_date := OLD.birth_date;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER customers_keep_erased BEFORE UPDATE ON customers
    FOR EACH ROW EXECUTE FUNCTION customers_keep_erased();

-- One row per erasure, written in the same transaction as the anonymisation. Append-only like
-- pii_access_audit (0005): no role may UPDATE/DELETE/TRUNCATE, triggers refuse even the owner.
CREATE TABLE customer_erasures (
    id              bigserial PRIMARY KEY,                   -- C1
    customer_id     text NOT NULL,                           -- C2 (pseudonymous key; the row it names is anonymised)
    operator        text NOT NULL,                           -- C1 TIERGUARD_OPERATOR, else the OS login
    db_user         text NOT NULL DEFAULT session_user,      -- C1
    erased_at       timestamptz NOT NULL DEFAULT now(),      -- C1
    reason          text NOT NULL CHECK (btrim(reason) <> ''), -- C1 the operator's --reason
    retention_from  date,                                    -- C1 the date the retention period ran from
    retention_days  integer NOT NULL,                        -- C1 the period applied
    forced          boolean NOT NULL,                        -- C1 --force-before-retention given
    fields          text[] NOT NULL                          -- C1 the fields anonymised
);
CREATE INDEX customer_erasures_customer ON customer_erasures (customer_id);
CREATE FUNCTION customer_erasures_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'customer_erasures is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER customer_erasures_no_change BEFORE UPDATE OR DELETE ON customer_erasures
    FOR EACH ROW EXECUTE FUNCTION customer_erasures_append_only();
CREATE TRIGGER customer_erasures_no_truncate BEFORE TRUNCATE ON customer_erasures
    FOR EACH STATEMENT EXECUTE FUNCTION customer_erasures_append_only();
REVOKE ALL ON customer_erasures FROM PUBLIC;
GRANT SELECT, INSERT ON customer_erasures TO tierguard_operator;
GRANT USAGE ON SEQUENCE customer_erasures_id_seq TO tierguard_operator;
-- Erasure writes the anonymised columns (and nothing else) as the operator.
GRANT UPDATE (name, id_number_enc, id_number_key_id, id_number_hmac, phone_enc, phone_key_id, phone_hmac,
              gender, birth_date, erased_at) ON customers TO tierguard_operator;
-- …and blanks the customer's refused feed lines and feedback free text (CustomerErasure.swift).
GRANT UPDATE (raw_text) ON ingest_rejects TO tierguard_operator;
GRANT UPDATE (comment, comment_purged_at) ON feedback_surveys TO tierguard_operator;
GRANT UPDATE (description, decision, description_purged_at) ON complaints TO tierguard_operator;
GRANT UPDATE (note, note_purged_at) ON rm_visits TO tierguard_operator;
