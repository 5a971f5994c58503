import Foundation
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
/// Text: the statements whose concurrency the queue's guarantees rest on (enqueue, claim,
/// completion, settle, lease extension, rescue, staging, periodic ticks) live in
/// `SQL/Statements/<name>.sql`, not in Swift literals, so that `deploy/isolation/run.sh` runs the
/// very same text under PostgreSQL's `isolationtester` (see ``JobSQLText``). The rules stay here.
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
    public static let enqueueBatch = PostgresQuery(
        unsafeSQL: JobSQLText.statement("enqueue_batch"), name: "JobSQL.enqueueBatch")

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
    public static let completeAndClaim = PostgresQuery(
        unsafeSQL: JobSQLText.statement("complete_and_claim"))

    /// Completes one job inside the caller's transaction, fenced; 0 rows means the lease was lost.
    public static let completeOne = PostgresQuery(
        unsafeSQL: JobSQLText.statement("complete_one"), name: "JobSQL.completeOne")

    /// Completes a batch of jobs inside the caller's transaction, fenced: arrays of id ($1) and
    /// lease_token ($2); returns the id of each job completed, so a job missing from the answer was no
    /// longer this worker's (rescued, released). The rows are locked in id order first: a fixed order
    /// for a statement that locks many job rows at once.
    public static let completeMany = PostgresQuery(
        unsafeSQL: JobSQLText.statement("complete_many"), name: "JobSQL.completeMany")

    /// Settles jobs that did not simply complete, fenced. Arrays: id, lease_token, action
    /// (`fail`, `snooze`, `cancel`, `release`), message, delay seconds.
    ///
    /// - fail: `discarded` once `attempt >= max_attempts`, else `retryable` at now() + delay
    ///   (the backoff); the error is appended to `errors`.
    /// - snooze: `scheduled` at now() + delay, attempt decremented (a snooze is not an attempt).
    /// - cancel: `cancelled`; the reason is appended to `errors`.
    /// - release (graceful shutdown): `available` again, attempt decremented, run_at unchanged.
    /// Returns (id, new state, queue).
    public static let settle = PostgresQuery(
        unsafeSQL: JobSQLText.statement("settle"), name: "JobSQL.settle")

    /// Extends the leases of jobs this worker still holds (fenced), only those past half their
    /// lease, so a held job's row is rewritten about once per half lease rather than every tick.
    /// $3 is the lease in seconds.
    public static let extendLeases = PostgresQuery(
        unsafeSQL: JobSQLText.statement("extend_leases"), name: "JobSQL.extendLeases")

    /// Rescues up to 1,000 jobs of ANY worker whose lease expired (database clock): `discarded` when
    /// `attempt >= max_attempts`, else `retryable` with run_at = now() (the attempt that died counts);
    /// the error "lease expired" names the worker. Returns (id, new state, queue).
    public static let rescueExpired = PostgresQuery(
        unsafeSQL: JobSQLText.statement("rescue_expired"), name: "JobSQL.rescueExpired")

    /// Makes up to 1,000 scheduled or retryable jobs whose run_at passed (database clock) available.
    /// Returns one row per queue with the number moved; the caller notifies each queue's channel.
    public static let stageDue = PostgresQuery(
        unsafeSQL: JobSQLText.statement("stage_due"), name: "JobSQL.stageDue")

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
    public static let insertTick = PostgresQuery(
        unsafeSQL: JobSQLText.statement("insert_tick"), name: "JobSQL.insertTick")

    public static let setTickJob = PostgresQuery(
        unsafeSQL: JobSQLText.statement("set_tick_job"), name: "JobSQL.setTickJob")
}

/// The text of the job queue's statements, read from the module's resources
/// (`SQL/Statements/<name>.sql`) once, on the first use of any of them (a worker's or enqueuer's
/// first statement, so at start-up), and kept for the life of the process.
///
/// The files hold plain SQL and nothing else (no comments: the rules belong to the doc comments on
/// ``JobSQL``, and `deploy/isolation/run.sh` pastes each file verbatim into `PREPARE name AS …`).
/// Trailing newlines are dropped, so the text sent is the file's text exactly.
///
/// A missing or unreadable file is a packaging defect, not a runtime condition: the process stops
/// with the file's name rather than running a queue without its statements.
public enum JobSQLText {
    public static let folder = SQLResourceFolder(
        Bundle.module.url(forResource: "SQL/Statements", withExtension: nil), name: "SQL/Statements of JobQueue")

    /// The text of `SQL/Statements/<name>.sql`.
    public static func statement(_ name: String) -> String { folder.statement(name) }
}
