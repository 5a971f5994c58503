-- Score documents compressed with lz4 instead of pglz, where the server has it (PostgreSQL 14+
-- built --with-lz4: Debian's, PGDG's and the official images are). A score row carries ~3 KB of
-- explanation JSON, so every row is TOAST-compressed on insert; pglz was the largest single cost of
-- the daily whole-book rescore's write in a profile (README "Speed"), lz4 compresses the same
-- documents to the same size several times faster. Existing rows keep their pglz datums (both
-- decompress transparently); a server without lz4 keeps pglz and says so.
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
