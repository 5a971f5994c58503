WITH mine AS (
    SELECT id FROM tg_jobs
    WHERE (id, lease_token) IN (SELECT * FROM unnest($1::bigint[], $2::bigint[])) AND state = 'running'
    ORDER BY id
    FOR UPDATE
)
UPDATE tg_jobs j SET state = 'completed', finished_at = now(), lease_expires_at = NULL
FROM mine WHERE j.id = mine.id
RETURNING j.id
