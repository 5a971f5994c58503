UPDATE tg_jobs AS j SET lease_expires_at = now() + make_interval(secs => $3::double precision)
FROM unnest($1::bigint[], $2::bigint[]) AS d(id, token)
WHERE j.id = d.id AND j.state = 'running' AND j.lease_token = d.token
  AND j.lease_expires_at < now() + make_interval(secs => $3::double precision / 2)
