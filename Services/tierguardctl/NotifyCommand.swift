import Foundation
import Postgres
import ServiceKit
import TierGuardModel
import TierGuardStore

/// `tierguardctl notify failed | retry ID --reason TEXT | unrouted | waiting [--budget N]`.
///
/// - `failed`: notifications refused for good (4xx, WeCom errcode) or out of retries, newest first.
/// - `retry ID --reason TEXT`: puts a failed notification back to pending under the same id (a
///   webhook receiver still dedupes it) and enqueues its send; the reason is kept on the row and logged.
/// - `unrouted`: alerts whose customer's RM is unknown or inactive (sent to a branch fallback, or
///   suppressed no_route / rm_inactive).
/// - `waiting`: per RM, non-urgent alerts waiting for the digest and how many exceed the daily
///   budget (`TIERGUARD_NOTIFY_DAILY_BUDGET`, default 15).
/// Output carries ids, never names.
enum NotifyCommand: CtlCommand {
    static let spec = CommandSpec(
        name: "notify", abstract: "Failed, unrouted and waiting notifications; retry a failed one",
        options: [.init("reason", valueName: "TEXT", help: "Why the notification is retried (retry)"),
                  .init("budget", valueName: "N", help: "Daily budget per RM for waiting (default 15)")],
        positionals: [.init("action", help: "failed | retry ID | unrouted | waiting"),
                      .init("ID", help: "Notification id (retry)", isOptional: true)])

    static func run(_ arguments: Arguments, _ context: CtlContext) throws -> ExitCode {
        let session = try context.connect()
        defer { session.close() }
        switch arguments.positionals.first {
        case "failed":
            let rows = try NotifyQueries.failed(session)
            context.print("id\talert\trm\tchannel\tattempts\tupdated\treason")
            for row in rows {
                context.print("\(row.id)\t\(row.alertId.map(String.init) ?? "-")\t\(row.rmId)\t\(row.channel)\t\(row.attempts)\t\(row.updatedAt)\t\(row.reason)")
            }
            context.print("\(rows.count) failed")
        case "retry":
            guard arguments.positionals.count == 2, let id = Int64(arguments.positionals[1]) else {
                throw arguments.usageError("retry needs a notification ID")
            }
            guard let reason = arguments.option("reason"), !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw arguments.usageError("retry needs --reason")
            }
            do {
                try NotifyQueries.retry(session, id: id, reason: reason)
            } catch let error as NotifyQueries.RetryError {
                context.print(error.description)
                return .failure
            }
            context.logger.notice("notification retried", metadata: ["notification_id": String(id), "operator": context.operatorName,
                                                                     "reason": reason])
            context.print("notification \(id) re-enqueued")
        case "unrouted":
            let rows = try NotifyQueries.unrouted(session)
            context.print("notification\talert\tcustomer\troute\tstate\treason")
            for row in rows {
                context.print("\(row.notificationId)\t\(row.alertId)\t\(row.customerId)\t\(row.rmId)\t\(row.state)\t\(row.reason ?? "-")")
            }
            context.print("\(rows.count) unrouted")
        case "waiting":
            let budget = try arguments.int("budget") ?? 15
            let rows = try NotifyQueries.waiting(session, budget: budget)
            context.print("rm\twaiting\tbeyond_budget\tmoney_at_risk")
            for row in rows { context.print("\(row.rmId)\t\(row.waiting)\t\(row.beyondBudget)\t\(row.moneyAtRisk.displayText)") }
            context.print("\(rows.reduce(0) { $0 + $1.beyondBudget }) more wait beyond the budget of \(budget) per RM")
        default:
            throw arguments.usageError("expected failed, retry ID, unrouted or waiting")
        }
        return .success
    }
}
