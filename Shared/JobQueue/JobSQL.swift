import Postgres

/// The job queue's statements, each named once; the name is the prepared statement's and the one
/// errors report.
///
/// Fencing: every statement a worker runs for a job it claimed names `(id, lease_token)` and
/// requires `state = 'running'`, so a worker whose lease was rescued (or released at shutdown)
/// changes 0 rows with its late writes.
///
/// Plans: the claim (`completeAndClaim`) is deliberately *not* a prepared statement (`name: nil` in
/// `unnamed`): libpq's unnamed statement is planned for each execution with the table's current
/// size, so a plan made while the table was empty (a fresh deployment, a cold start) is never
/// reused once it holds 50,000 jobs. Planning costs about 0.1 ms per batch of 100 jobs.
///
/// Coalescing on the way back to pending: a job that would return to a pending state (retryable
/// after a failure or a rescue, scheduled after a snooze, available after a release at shutdown)
/// while another pending job of the same queue has its `unique_key` is `cancelled` instead, with
/// the error "coalesced into a pending job with the same unique key": that pending job runs later
/// and reads the latest data, so nothing is lost, and the unique index never rejects the update.
public enum JobSQL {
    /// Batch enqueue: parallel arrays unnested into rows; a job whose run_at (epoch seconds) or delay
    /// lies in the future starts `scheduled`, otherwise `available`. Conflicts on the pending-unique
    /// index are skipped (coalescing).
    public static let enqueueBatch = PostgresQuery("""
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
        """, name: "JobSQL.enqueueBatch")

    /// One round trip, one commit per batch: completes the finished `(id, lease_token)` pairs
    /// ($1, $2; fenced) and claims up to $4 available jobs of queue $3 for worker $5 with a lease of
    /// $6 seconds, highest priority (0) first, then oldest `run_at`, then id. A queue an operator
    /// paused (`tg_queues.paused`) yields no jobs from the moment the pause commits: the check lives
    /// here, not only in the worker's cached flag (refreshed each maintenance tick), so a worker that
    /// starts or claims between two ticks cannot run a paused queue's job.
    ///
    /// Rows: `is_completion = true` for each job completed (id only), false for each job claimed.
    /// The rows of one statement come back in no particular order; the worker sorts the claimed
    /// ones by (priority, run_at, id) before starting them.
    public static let completeAndClaim = PostgresQuery("""
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
        """)

    /// Completes one job inside the caller's transaction, fenced; 0 rows means the lease was lost.
    public static let completeOne = PostgresQuery("""
        UPDATE tg_jobs SET state = 'completed', finished_at = now(), lease_expires_at = NULL
        WHERE id = $1 AND state = 'running' AND lease_token = $2
        """, name: "JobSQL.completeOne")

    /// Settles jobs that did not simply complete, fenced. Arrays: id, lease_token, action
    /// (`fail`, `snooze`, `cancel`, `release`), message, delay seconds.
    ///
    /// - fail: `discarded` once `attempt >= max_attempts`, else `retryable` at now() + delay
    ///   (the backoff); the error is appended to `errors`.
    /// - snooze: `scheduled` at now() + delay, attempt decremented (a snooze is not an attempt).
    /// - cancel: `cancelled`; the reason is appended to `errors`.
    /// - release (graceful shutdown): `available` again, attempt decremented, run_at unchanged.
    /// Returns (id, new state, queue).
    public static let settle = PostgresQuery("""
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
        """, name: "JobSQL.settle")

    /// Extends the leases of jobs this worker still holds (fenced), only those past half their
    /// lease, so a held job's row is rewritten about once per half lease rather than every tick.
    /// $3 is the lease in seconds.
    public static let extendLeases = PostgresQuery("""
        UPDATE tg_jobs AS j SET lease_expires_at = now() + make_interval(secs => $3::double precision)
        FROM unnest($1::bigint[], $2::bigint[]) AS d(id, token)
        WHERE j.id = d.id AND j.state = 'running' AND j.lease_token = d.token
          AND j.lease_expires_at < now() + make_interval(secs => $3::double precision / 2)
        """, name: "JobSQL.extendLeases")

    /// Rescues up to 1,000 jobs of ANY worker whose lease expired (database clock): `discarded` when
    /// `attempt >= max_attempts`, else `retryable` with run_at = now() (the attempt that died counts);
    /// the error "lease expired" names the worker. Returns (id, new state, queue).
    public static let rescueExpired = PostgresQuery("""
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
        """, name: "JobSQL.rescueExpired")

    /// Makes up to 1,000 scheduled or retryable jobs whose run_at passed (database clock) available.
    /// Returns one row per queue with the number moved; the caller notifies each queue's channel.
    public static let stageDue = PostgresQuery("""
        WITH due AS (
            SELECT id FROM tg_jobs WHERE state IN ('scheduled', 'retryable') AND run_at <= now()
            ORDER BY run_at LIMIT 1000 FOR UPDATE SKIP LOCKED
        ), moved AS (
            UPDATE tg_jobs AS j SET state = 'available' FROM due WHERE j.id = due.id RETURNING j.queue
        )
        SELECT queue, count(*)::bigint AS moved FROM moved GROUP BY queue
        """, name: "JobSQL.stageDue")

    /// `pg_notify` on a queue's channel (`tg_jobs_<queue>`), payload empty.
    public static let notifyQueue = PostgresQuery(
        "SELECT pg_notify('tg_jobs_' || $1::text, '')", name: "JobSQL.notifyQueue")

    /// Deletes up to 1,000 terminal jobs finished more than $1 seconds ago (database clock).
    public static let pruneFinished = PostgresQuery("""
        WITH gone AS (
            SELECT id FROM tg_jobs
            WHERE state IN ('completed', 'cancelled', 'discarded')
              AND finished_at < now() - make_interval(secs => $1::double precision)
            ORDER BY finished_at LIMIT 1000 FOR UPDATE SKIP LOCKED
        )
        DELETE FROM tg_jobs AS j USING gone WHERE j.id = gone.id
        """, name: "JobSQL.pruneFinished")

    /// Periodic ticks and worker rows older than the retention ($1 seconds) go too.
    public static let pruneTicksAndWorkers = PostgresQuery("""
        WITH ticks AS (
            DELETE FROM tg_periodic_ticks WHERE tick_at < now() - make_interval(secs => $1::double precision)
        )
        DELETE FROM tg_workers WHERE heartbeat_at < now() - interval '1 hour'
        """, name: "JobSQL.pruneTicksAndWorkers")

    /// The worker's row in `tg_workers`, written every maintenance tick: ($1 id, $2 queue, $3 service,
    /// $4 host, $5 pid, $6 jobs held).
    public static let heartbeat = PostgresQuery("""
        INSERT INTO tg_workers (worker_id, queue, service, host, pid, running)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (worker_id) DO UPDATE SET heartbeat_at = now(), running = EXCLUDED.running
        """, name: "JobSQL.heartbeat")

    public static let deleteWorker = PostgresQuery(
        "DELETE FROM tg_workers WHERE worker_id = $1", name: "JobSQL.deleteWorker")

    /// Whether an operator paused queue $1 (`tierguardctl jobs pause`).
    public static let isPaused = PostgresQuery(
        "SELECT coalesce((SELECT paused FROM tg_queues WHERE queue = $1), false) AS paused", name: "JobSQL.isPaused")

    /// Adds one worker's per-kind figures since its last flush: ($1 queue, arrays kind, completed,
    /// failed, total seconds, max seconds).
    public static let addKindStats = PostgresQuery("""
        INSERT INTO tg_job_kind_stats AS s (queue, kind, completed, failed, total_seconds, max_seconds)
        SELECT $1, k, c, f, t, m
        FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::float8[], $6::float8[]) AS x(k, c, f, t, m)
        ON CONFLICT (queue, kind) DO UPDATE SET
            completed = s.completed + EXCLUDED.completed, failed = s.failed + EXCLUDED.failed,
            total_seconds = s.total_seconds + EXCLUDED.total_seconds,
            max_seconds = greatest(s.max_seconds, EXCLUDED.max_seconds)
        """, name: "JobSQL.addKindStats")

    /// The database clock as epoch seconds: leases, schedules and periodic ticks never trust the host's.
    public static let databaseNow = PostgresQuery(
        "SELECT extract(epoch FROM now())::float8 AS now", name: "JobSQL.databaseNow")

    /// Records a periodic tick; 1 row inserted means this replica enqueues it (same transaction).
    public static let insertTick = PostgresQuery("""
        INSERT INTO tg_periodic_ticks (name, tick_at) VALUES ($1, to_timestamp($2::float8))
        ON CONFLICT DO NOTHING
        """, name: "JobSQL.insertTick")

    public static let setTickJob = PostgresQuery("""
        UPDATE tg_periodic_ticks SET job_id = currval(pg_get_serial_sequence('tg_jobs', 'id'))
        WHERE name = $1 AND tick_at = to_timestamp($2::float8)
        """, name: "JobSQL.setTickJob")
}
