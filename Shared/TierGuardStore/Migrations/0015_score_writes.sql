-- Two changes to how the scorer writes customer_scores (README "Speed").
--
-- Score documents compressed with lz4 instead of pglz, where the server has it (PostgreSQL 14+
-- built --with-lz4: Debian's, PGDG's and the official images are). A score row carries ~3 KB of
-- explanation JSON, so every row is TOAST-compressed on insert; pglz_compress was the database's
-- busiest function in a profile of the daily whole-book rescore (README "Speed"), and lz4 compressed
-- the same 10,000 rows to the same size (23 MB) in less time. Existing rows keep their pglz datums
-- (both decompress transparently); a server without lz4 keeps pglz and says so.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE customer_scores
            ALTER COLUMN warning SET COMPRESSION lz4,
            ALTER COLUMN signals SET COMPRESSION lz4,
            ALTER COLUMN value SET COMPRESSION lz4,
            ALTER COLUMN recommendations SET COMPRESSION lz4,
            ALTER COLUMN suitability SET COMPRESSION lz4;
    ELSE
        RAISE NOTICE 'customer_scores documents stay pglz-compressed: this server was built without lz4';
    END IF;
END
$$;

-- The tier history's own hash (FNV-1a of its COPY lines, ScoreWriter): the whole-book rescore rewrites a
-- customer's history only when it differs from the one the newest score saw. The daily rescore gives every
-- customer a new score row (month-to-date moves), but a history changes at most once a month; rewriting
-- ~3 unchanged history rows per customer every day was ~7 % of the database's work in the rescore. Null on
-- rows written before this column: the next rescore writes their history once.
ALTER TABLE customer_scores ADD COLUMN history_hash bigint;
COMMENT ON COLUMN customer_scores.history_hash IS
    'FNV-1a of the tier history lines this scoring derived (ScoreWriter); history rewritten only when it changes';
GRANT INSERT (history_hash) ON customer_scores TO tierguard_operator;
