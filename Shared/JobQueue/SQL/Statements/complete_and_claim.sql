WITH done AS (
    UPDATE tg_jobs AS j SET state = 'completed', finished_at = now(), lease_expires_at = NULL
    FROM unnest($1::bigint[], $2::bigint[]) AS d(id, token)
    WHERE j.id = d.id AND j.state = 'running' AND j.lease_token = d.token
    RETURNING j.id
), picked AS (
    SELECT id FROM tg_jobs
    WHERE state = 'available' AND queue = $3
      AND NOT EXISTS (SELECT 1 FROM tg_queues WHERE tg_queues.queue = $3 AND tg_queues.paused)
    ORDER BY priority, run_at, id
    LIMIT $4
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE tg_jobs AS j SET state = 'running', attempt = j.attempt + 1, attempted_at = now(),
        attempted_by = $5, lease_token = nextval('tg_job_lease_seq'),
        lease_expires_at = now() + make_interval(secs => $6::double precision)
    FROM picked WHERE j.id = picked.id
    RETURNING j.id, j.kind, j.args::text AS args, j.attempt, j.max_attempts, j.lease_token, j.traceparent,
              j.priority::integer AS priority, extract(epoch FROM j.run_at)::float8 AS run_at
)
SELECT false AS is_completion, id, kind, args, attempt, max_attempts, lease_token, traceparent, priority, run_at
FROM claimed
UNION ALL
SELECT true, id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM done
