INSERT INTO tg_jobs (queue, kind, args, priority, max_attempts, run_at, state, unique_key, traceparent)
SELECT q, k, a::jsonb, p, m,
       coalesce(to_timestamp(r::double precision), now() + make_interval(secs => coalesce(d::double precision, 0))),
       CASE WHEN coalesce(to_timestamp(r::double precision), now() + make_interval(secs => coalesce(d::double precision, 0))) > now()
            THEN 'scheduled'::tg_job_state ELSE 'available'::tg_job_state END,
       u, t
FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[], $5::integer[], $6::text[], $7::text[],
            $8::text[], $9::text[]) AS x(q, k, a, p, m, r, d, u, t)
ON CONFLICT (queue, unique_key) WHERE unique_key IS NOT NULL AND state IN ('available', 'scheduled', 'retryable')
DO NOTHING
