WITH due AS (
    SELECT id FROM tg_jobs WHERE state IN ('scheduled', 'retryable') AND run_at <= now()
    ORDER BY run_at LIMIT 1000 FOR UPDATE SKIP LOCKED
), moved AS (
    UPDATE tg_jobs AS j SET state = 'available' FROM due WHERE j.id = due.id RETURNING j.queue
)
SELECT queue, count(*)::bigint AS moved FROM moved GROUP BY queue
