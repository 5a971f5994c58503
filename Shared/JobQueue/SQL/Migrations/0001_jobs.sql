-- The job table every TierGuard service coordinates through.
--
-- Job states and who moves jobs in and out of each:
--   available  enqueued to run now (enqueue), made due by the stager (scheduled/retryable whose
--              run_at passed), released at graceful shutdown, or retried by an operator.
--              Left by a claim (-> running) or an operator (-> cancelled).
--   scheduled  enqueued with run_at in the future, or snoozed by its handler. The stager makes it
--              available once run_at <= now() (database clock); a claim never takes it early.
--   running    claimed by one worker, which holds the lease (lease_token, lease_expires_at) and
--              extends it by heartbeat. Left by completion (-> completed), failure (-> retryable or
--              discarded), snooze (-> scheduled), cancel (-> cancelled), release at shutdown
--              (-> available), or the rescuer once the lease expired (-> retryable/discarded).
--   retryable  failed with attempts left; becomes available when run_at (the backoff) passes.
--   completed, cancelled, discarded
--              terminal; pruned after the retention age. discarded is the dead-letter state that
--              operators inspect and retry (tierguardctl jobs retry).
CREATE TYPE tg_job_state AS ENUM
    ('available', 'scheduled', 'running', 'retryable', 'completed', 'discarded', 'cancelled');

CREATE SEQUENCE tg_job_lease_seq;

CREATE TABLE tg_jobs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue            text NOT NULL,
    kind             text NOT NULL,
    args             jsonb NOT NULL DEFAULT '{}',
    -- 0 runs first; 0..9.
    priority         smallint NOT NULL DEFAULT 5 CHECK (priority BETWEEN 0 AND 9),
    state            tg_job_state NOT NULL DEFAULT 'available',
    attempt          integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL DEFAULT 20 CHECK (max_attempts >= 1),
    run_at           timestamptz NOT NULL DEFAULT now(),
    attempted_at     timestamptz,
    -- host/pid/service of the worker that claimed it last.
    attempted_by     text,
    -- Fencing token: a fresh value per claim. Every write a worker makes for a job after its
    -- claim names (id, lease_token); a rescued worker's late writes match 0 rows.
    lease_token      bigint,
    lease_expires_at timestamptz,
    -- [{"attempt": n, "at": time, "error": message}, ...]
    errors           jsonb NOT NULL DEFAULT '[]',
    -- Coalescing: at most one pending (available/scheduled/retryable) job per (queue, unique_key).
    unique_key       text,
    -- W3C traceparent, copied to the jobs this job causes.
    traceparent      text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
) WITH (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000,
        autovacuum_vacuum_cost_delay = 0, autovacuum_analyze_scale_factor = 0.02);
-- Why these settings: every job is updated 2-3 times in its life; fillfactor 70 leaves room on the
-- page for HOT updates (no index column changes between running and completed except the partial
-- index membership), and aggressive autovacuum keeps dead tuples from piling up under sustained load.

-- The claim reads only this partial index: it holds available jobs alone, so it stays small however
-- many finished jobs wait to be pruned.
CREATE INDEX tg_jobs_claim ON tg_jobs (queue, priority, run_at, id) WHERE state = 'available';
CREATE INDEX tg_jobs_due ON tg_jobs (run_at) WHERE state IN ('scheduled', 'retryable');
CREATE INDEX tg_jobs_lease ON tg_jobs (lease_expires_at) WHERE state = 'running';
CREATE UNIQUE INDEX tg_jobs_unique_pending ON tg_jobs (queue, unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('available', 'scheduled', 'retryable');
CREATE INDEX tg_jobs_finished ON tg_jobs (finished_at) WHERE state IN ('completed', 'cancelled', 'discarded');
CREATE INDEX tg_jobs_kind_state ON tg_jobs (queue, kind, state);

-- One notification per enqueueing transaction and queue: PostgreSQL folds identical
-- (channel, payload) pairs sent in one transaction into one.
CREATE FUNCTION tg_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tg_jobs_' || q.queue, '')
    FROM (SELECT DISTINCT queue FROM inserted WHERE state = 'available') AS q;
    RETURN NULL;
END $$;
CREATE TRIGGER tg_jobs_notify AFTER INSERT ON tg_jobs
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION tg_jobs_notify();

-- Live workers: one row per worker process, heartbeat from the database clock.
CREATE TABLE tg_workers (
    worker_id     text PRIMARY KEY,
    queue         text NOT NULL,
    service       text NOT NULL,
    host          text NOT NULL,
    pid           integer NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    running       integer NOT NULL DEFAULT 0
);

-- Queues an operator paused (tierguardctl jobs pause QUEUE).
CREATE TABLE tg_queues (
    queue      text PRIMARY KEY,
    paused     boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Periodic ticks already enqueued: the primary key makes a tick enqueue once across replicas.
CREATE TABLE tg_periodic_ticks (
    name     text NOT NULL,
    tick_at  timestamptz NOT NULL,
    job_id   bigint,
    PRIMARY KEY (name, tick_at)
);

-- Per-kind run-time figures, aggregated by workers at completion (for /metrics and the CLI).
CREATE TABLE tg_job_kind_stats (
    queue          text NOT NULL,
    kind           text NOT NULL,
    completed      bigint NOT NULL DEFAULT 0,
    failed         bigint NOT NULL DEFAULT 0,
    total_seconds  double precision NOT NULL DEFAULT 0,
    max_seconds    double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (queue, kind)
);

-- Operator actions on jobs (retry, cancel, discard, pause, resume): who, why, when.
CREATE TABLE tg_job_operator_actions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    operator   text NOT NULL,
    action     text NOT NULL,
    target     text NOT NULL,
    reason     text NOT NULL
);

-- Queue depth for autoscalers (KEDA's postgresql trigger): available jobs of a queue, served by
-- the partial claim index.
CREATE FUNCTION tierguard_queue_depth(q text) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM tg_jobs WHERE queue = q AND state = 'available'
$$;

-- What an operator reads in psql.
CREATE VIEW tg_job_counts AS
    SELECT queue, kind, state, count(*) AS jobs,
           min(run_at) FILTER (WHERE state = 'available') AS oldest_available_run_at
    FROM tg_jobs GROUP BY queue, kind, state;
