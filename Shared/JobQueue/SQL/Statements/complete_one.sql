UPDATE tg_jobs SET state = 'completed', finished_at = now(), lease_expires_at = NULL
WHERE id = $1 AND state = 'running' AND lease_token = $2
