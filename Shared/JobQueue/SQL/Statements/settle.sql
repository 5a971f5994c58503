WITH d AS (
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::float8[])
        AS d(id, token, action, message, delay)
), t AS (
    SELECT j.id, d.token, d.action, d.message, d.delay,
           CASE
               WHEN d.action = 'cancel' THEN 'cancelled'
               WHEN d.action = 'fail' AND j.attempt >= j.max_attempts THEN 'discarded'
               WHEN j.unique_key IS NOT NULL AND EXISTS (
                   SELECT 1 FROM tg_jobs p WHERE p.queue = j.queue AND p.unique_key = j.unique_key
                     AND p.state IN ('available', 'scheduled', 'retryable') AND p.id <> j.id) THEN 'coalesced'
               WHEN d.action = 'fail' THEN 'retryable'
               WHEN d.action = 'snooze' THEN 'scheduled'
               ELSE 'available'
           END AS outcome
    FROM tg_jobs j JOIN d ON j.id = d.id
    WHERE j.state = 'running' AND j.lease_token = d.token
)
UPDATE tg_jobs AS j SET
    state = (CASE WHEN t.outcome = 'coalesced' THEN 'cancelled' ELSE t.outcome END)::tg_job_state,
    attempt = CASE WHEN t.action IN ('snooze', 'release') THEN j.attempt - 1 ELSE j.attempt END,
    run_at = CASE WHEN t.outcome IN ('retryable', 'scheduled') THEN now() + make_interval(secs => t.delay)
                  ELSE j.run_at END,
    finished_at = CASE WHEN t.outcome IN ('cancelled', 'discarded', 'coalesced') THEN now() END,
    errors = CASE
        WHEN t.outcome = 'coalesced' THEN j.errors || jsonb_build_array(jsonb_build_object(
            'attempt', j.attempt, 'at', now(),
            'error', 'coalesced into a pending job with the same unique key'))
        WHEN t.action IN ('fail', 'cancel') THEN j.errors || jsonb_build_array(jsonb_build_object(
            'attempt', j.attempt, 'at', now(), 'error', t.message))
        ELSE j.errors END,
    lease_expires_at = NULL
FROM t
WHERE j.id = t.id AND j.state = 'running' AND j.lease_token = t.token
RETURNING j.id, j.state::text AS state, j.queue
