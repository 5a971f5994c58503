UPDATE tg_periodic_ticks SET job_id = currval(pg_get_serial_sequence('tg_jobs', 'id'))
WHERE name = $1 AND tick_at = to_timestamp($2::float8)
