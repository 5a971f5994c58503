-- Refused feed lines without plaintext identifiers (issue 11: no plaintext identifier in any table).
--
-- A refused line may carry any identifier (an ID number, a phone, a name), which is why it was refused in the
-- first place sometimes. From now on `raw_text` holds only the line masked (Masking.feedLine: personal fields
-- masked by key, identifiers scrubbed anywhere else), and the line as received is sealed with the PII vault
-- (AES-256-GCM, field `rejected_line`) in `raw_text_enc` with its key id; `tierguardctl rejects --unmask
-- --reason` opens it (audited). Lines refused before this migration keep their text until `customer erase`
-- or the retention of ingest batches removes them.
ALTER TABLE ingest_rejects
    ADD COLUMN raw_text_enc    bytea,                        -- C2 sealed line as received
    ADD COLUMN raw_text_key_id text;                         -- C1
COMMENT ON COLUMN ingest_rejects.raw_text IS 'the refused line, masked (C1 once masked); the original is in raw_text_enc';
-- customer erase (tierguardctl, as the operator) blanks a closed customer's refused lines, sealed ones too.
GRANT UPDATE (raw_text_enc, raw_text_key_id) ON ingest_rejects TO tierguard_operator;
