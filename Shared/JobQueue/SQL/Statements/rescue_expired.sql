WITH expired AS (
    SELECT id FROM tg_jobs WHERE state = 'running' AND lease_expires_at < now()
    ORDER BY lease_expires_at LIMIT 1000 FOR UPDATE SKIP LOCKED
), t AS (
    SELECT j.id,
           CASE
               WHEN j.attempt >= j.max_attempts THEN 'discarded'
               WHEN j.unique_key IS NOT NULL AND EXISTS (
                   SELECT 1 FROM tg_jobs p WHERE p.queue = j.queue AND p.unique_key = j.unique_key
                     AND p.state IN ('available', 'scheduled', 'retryable') AND p.id <> j.id) THEN 'cancelled'
               ELSE 'retryable'
           END AS outcome
    FROM tg_jobs j JOIN expired e ON e.id = j.id
)
UPDATE tg_jobs AS j SET
    state = t.outcome::tg_job_state,
    run_at = CASE WHEN t.outcome = 'retryable' THEN now() ELSE j.run_at END,
    finished_at = CASE WHEN t.outcome = 'retryable' THEN NULL ELSE now() END,
    errors = j.errors || jsonb_build_array(jsonb_build_object(
        'attempt', j.attempt, 'at', now(),
        'error', 'lease expired (worker ' || coalesce(j.attempted_by, 'unknown') || ')'
                 || CASE WHEN t.outcome = 'cancelled'
                         THEN '; coalesced into a pending job with the same unique key' ELSE '' END)),
    lease_expires_at = NULL
FROM t
WHERE j.id = t.id AND j.state = 'running'
RETURNING j.id, j.state::text AS state, j.queue
