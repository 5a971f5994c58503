import Foundation
import JobQueue
import Postgres
import ServiceKit
import TierGuardModel

/// `tierguardctl jobs [ACTION] [TARGET]`: the queue's admin page on the terminal.
///
/// Read-only actions: (none) counts by queue, kind and state with each queue's depth and oldest
/// available age; `list` with filters; `show ID` with the errors history; `workers` with their last
/// heartbeat and held/running jobs. Operator actions (`retry`, `cancel`, `discard`, `pause`,
/// `resume`) require `--reason` and are recorded in `tg_job_operator_actions` with the operator name
/// (`TIERGUARD_OPERATOR`, else `$USER`) in the same transaction.
///
/// Args and error texts are printed through `Masking.scrub` (ID numbers, mobiles, card numbers)
/// unless `--unmask` is given.
enum JobsCommand: CtlCommand {
    static let actions = ["list", "show", "retry", "cancel", "discard", "pause", "resume", "workers"]

    static let spec = CommandSpec(
        name: "jobs", abstract: "Inspect and operate the job queue",
        flags: [.init("discarded", help: "retry: every discarded job (of --queue, if given)"),
                .init("unmask", help: "Show args and errors unmasked (operators only)")],
        options: [.init("queue", valueName: "Q", help: "list/retry --discarded: only this queue"),
                  .init("state", valueName: "S", help: "list: only this state"),
                  .init("kind", valueName: "K", help: "list: only this kind"),
                  .init("limit", valueName: "N", help: "list: at most N jobs (default 50)"),
                  .init("reason", valueName: "TEXT", help: "Why (required for retry, cancel, discard, pause, resume)")],
        positionals: [.init("action", help: "list | show ID | retry ID | retry --discarded | cancel ID | discard ID | pause QUEUE | resume QUEUE | workers; none: counts", isOptional: true),
                      .init("target", help: "Job id or queue name", isOptional: true)])

    static let states = ["available", "scheduled", "running", "retryable", "completed", "discarded", "cancelled"]

    static func run(_ arguments: Arguments, _ context: CtlContext) throws -> ExitCode {
        let action = arguments.positionals.first
        let target = arguments.positionals.count > 1 ? arguments.positionals[1] : nil
        if let action, !actions.contains(action) {
            throw arguments.usageError("unknown action \"\(action)\" (expected one of: \(actions.joined(separator: ", ")))")
        }
        let mask: (String) -> String = arguments.flag("unmask") ? { $0 } : { Masking.scrub($0) }
        func jobID() throws -> Int64 {
            guard let target, let id = Int64(target) else { throw arguments.usageError("\(action ?? "") needs a job id") }
            return id
        }
        func queueName() throws -> String {
            guard let target, !target.isEmpty else { throw arguments.usageError("\(action ?? "") needs a queue name") }
            return target
        }
        func reason() throws -> String {
            guard let reason = arguments.option("reason"), !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw arguments.usageError("\(action ?? "") requires --reason")
            }
            return reason
        }
        if let state = arguments.option("state"), !states.contains(state) {
            throw arguments.usageError("--state must be one of: \(states.joined(separator: ", "))")
        }
        // Validate everything before connecting.
        let operatorName = context.operatorName
        switch action {
        case "show", "cancel", "discard": _ = try jobID()
        case "pause", "resume": _ = try queueName()
        case "retry": if !arguments.flag("discarded") { _ = try jobID() }
        default: break
        }
        if ["retry", "cancel", "discard", "pause", "resume"].contains(action ?? "") { _ = try reason() }

        let session = try context.connect()
        defer { session.close() }
        switch action {
        case nil:
            try summary(session, context)
        case "list":
            try list(session, context, arguments, mask: mask)
        case "show":
            return try show(session, context, id: try jobID(), mask: mask)
        case "workers":
            try workers(session, context)
        case "retry":
            let retried = arguments.flag("discarded")
                ? try JobQueueAdmin.retryDiscarded(session, queue: arguments.option("queue"), operator: operatorName, reason: try reason())
                : try JobQueueAdmin.retry(session, ids: [try jobID()], operator: operatorName, reason: try reason())
            context.print("retried \(retried.count) job(s)\(retried.isEmpty ? "" : ": " + retried.prefix(20).map(String.init).joined(separator: ", "))\(retried.count > 20 ? ", …" : "")")
            if retried.isEmpty && !arguments.flag("discarded") {
                context.print("job \(try jobID()) was not retried: it is running, pending under the same unique key, or does not exist")
                return .failure
            }
        case "cancel", "discard":
            let id = try jobID()
            let done = action == "cancel"
                ? try JobQueueAdmin.cancel(session, id: id, operator: operatorName, reason: try reason())
                : try JobQueueAdmin.discard(session, id: id, operator: operatorName, reason: try reason())
            context.print(done ? "job \(id) \(action == "cancel" ? "cancelled" : "discarded")"
                               : "job \(id) is already finished or does not exist; nothing changed")
            return done ? .success : .failure
        case "pause", "resume":
            let queue = try queueName()
            try JobQueueAdmin.setPaused(session, queue: queue, paused: action == "pause", operator: operatorName, reason: try reason())
            context.print("queue \(queue) \(action == "pause" ? "paused: workers stop claiming within about 1 s" : "resumed")")
        default:
            break
        }
        return .success
    }

    static func summary(_ session: PostgresSession, _ context: CtlContext) throws {
        let queues = try JobQueueStats.queues(session)
        context.print(row(["QUEUE", "AVAILABLE", "OLDEST AVAILABLE", "PAUSED"], widths: [16, 10, 17, 6]))
        for q in queues {
            context.print(row([q.queue, String(q.depth), q.depth == 0 ? "-" : duration(q.oldestAvailableSeconds),
                               q.paused ? "yes" : "no"], widths: [16, 10, 17, 6]))
        }
        context.print("")
        context.print(row(["QUEUE", "KIND", "STATE", "JOBS"], widths: [16, 28, 10, 8]))
        for c in try JobQueueStats.counts(session) {
            context.print(row([c.queue, c.kind, c.state, String(c.jobs)], widths: [16, 28, 10, 8]))
        }
        let kinds = try JobQueueStats.kinds(session)
        if !kinds.isEmpty {
            context.print("")
            context.print(row(["QUEUE", "KIND", "COMPLETED", "FAILED", "MEAN", "MAX"], widths: [16, 28, 10, 8, 10, 10]))
            for k in kinds {
                context.print(row([k.queue, k.kind, String(k.completed), String(k.failed), duration(k.meanSeconds),
                                   duration(k.maxSeconds)], widths: [16, 28, 10, 8, 10, 10]))
            }
        }
    }

    static let listSQL = PostgresQuery("""
        SELECT id, queue, kind, state::text, priority::integer, attempt, max_attempts, run_at, attempted_by,
               errors->-1->>'error'
        FROM tg_jobs
        WHERE ($1::text IS NULL OR queue = $1) AND ($2::text IS NULL OR state = $2::tg_job_state)
          AND ($3::text IS NULL OR kind = $3)
        ORDER BY id DESC LIMIT $4
        """, name: "JobsCommand.list")

    static func list(_ session: PostgresSession, _ context: CtlContext, _ arguments: Arguments, mask: (String) -> String) throws {
        let limit = try arguments.int("limit") ?? 50
        guard limit >= 1 else { throw arguments.usageError("--limit must be at least 1") }
        let rows = try session.query(listSQL.binding(arguments.option("queue"), arguments.option("state"),
                                                     arguments.option("kind"), limit))
        let widths = [10, 12, 24, 10, 4, 8, 24, 30]
        context.print(row(["ID", "QUEUE", "KIND", "STATE", "PRI", "ATTEMPT", "RUN AT (UTC)", "LAST ERROR"], widths: widths))
        for r in rows {
            let runAt: Date = try r.decode(at: 7)
            let error = try r.decode(String?.self, at: 9).map { mask(String($0.prefix(80))) } ?? ""
            context.print(row([String(try r.decode(Int64.self, at: 0)), try r.decode(String.self, at: 1),
                               try r.decode(String.self, at: 2), try r.decode(String.self, at: 3),
                               String(try r.decode(Int.self, at: 4)),
                               "\(try r.decode(Int.self, at: 5))/\(try r.decode(Int.self, at: 6))",
                               Logger.rfc3339Milliseconds(runAt), error], widths: widths))
        }
        context.print("\(rows.count) job(s) shown")
    }

    static let showSQL = PostgresQuery("""
        SELECT id, queue, kind, state::text, priority::integer, attempt, max_attempts, args::text, unique_key,
               traceparent, created_at, run_at, attempted_at, attempted_by, lease_token, lease_expires_at, finished_at
        FROM tg_jobs WHERE id = $1
        """, name: "JobsCommand.show")

    static let errorsSQL = PostgresQuery("""
        SELECT (e->>'attempt')::integer, e->>'at', e->>'error'
        FROM tg_jobs, jsonb_array_elements(errors) WITH ORDINALITY AS x(e, n) WHERE id = $1 ORDER BY n
        """, name: "JobsCommand.errors")

    static func show(_ session: PostgresSession, _ context: CtlContext, id: Int64, mask: (String) -> String) throws -> ExitCode {
        let rows = try session.query(showSQL.binding(id))
        guard rows.count == 1 else {
            context.print("job \(id) does not exist (finished jobs are pruned after the retention age)")
            return .failure
        }
        let r = rows[0]
        func time(_ column: Int) throws -> String {
            try r.decode(Date?.self, at: column).map(Logger.rfc3339Milliseconds) ?? "-"
        }
        let fields: [(String, String)] = [
            ("id", String(try r.decode(Int64.self, at: 0))),
            ("queue", try r.decode(String.self, at: 1)),
            ("kind", try r.decode(String.self, at: 2)),
            ("state", try r.decode(String.self, at: 3)),
            ("priority", String(try r.decode(Int.self, at: 4))),
            ("attempt", "\(try r.decode(Int.self, at: 5)) of \(try r.decode(Int.self, at: 6))"),
            ("args", mask(try r.decode(String.self, at: 7))),
            ("unique key", try r.decode(String?.self, at: 8).map(mask) ?? "-"),
            ("traceparent", try r.decode(String?.self, at: 9) ?? "-"),
            ("created at", try time(10)),
            ("run at", try time(11)),
            ("attempted at", try time(12)),
            ("attempted by", try r.decode(String?.self, at: 13) ?? "-"),
            ("lease token", try r.decode(Int64?.self, at: 14).map(String.init) ?? "-"),
            ("lease expires", try time(15)),
            ("finished at", try time(16)),
        ]
        for (name, value) in fields { context.print(row([name + ":", value], widths: [15, 0])) }
        let errors = try session.query(errorsSQL.binding(id))
        context.print("errors (\(errors.count)):")
        for e in errors {
            context.print("  attempt \(try e.decode(Int?.self, at: 0).map(String.init) ?? "?") at \(try e.decode(String?.self, at: 1) ?? "?"): \(mask(try e.decode(String?.self, at: 2) ?? ""))")
        }
        return .success
    }

    static func workers(_ session: PostgresSession, _ context: CtlContext) throws {
        let widths = [40, 12, 24, 14, 6, 8]
        context.print(row(["WORKER", "QUEUE", "STARTED (UTC)", "HEARTBEAT AGO", "HELD", "RUNNING"], widths: widths))
        let workers = try JobQueueStats.workers(session)
        for w in workers {
            let age = w.heartbeatAgeSeconds
            context.print(row([w.workerID, w.queue, Logger.rfc3339Milliseconds(w.startedAt),
                               duration(age) + (age > 30 ? " (stale)" : ""), String(w.held), String(w.running)], widths: widths))
        }
        context.print("\(workers.count) worker(s)")
    }

    static func duration(_ seconds: Double) -> String {
        if seconds < 1 { return String(format: "%.0f ms", seconds * 1000) }
        if seconds < 120 { return String(format: "%.1f s", seconds) }
        if seconds < 7_200 { return String(format: "%.0f min", seconds / 60) }
        return String(format: "%.1f h", seconds / 3_600)
    }

    static func row(_ cells: [String], widths: [Int]) -> String {
        var out = ""
        for (i, cell) in cells.enumerated() {
            let width = i < widths.count ? widths[i] : 0
            out += cell
            if i < cells.count - 1 { out += String(repeating: " ", count: max(1, width - cell.count + 1)) }
        }
        return out
    }
}
