import Foundation
import Postgres
import ServiceKit
import TierGuardModel
import TierGuardStore

/// `tierguardctl profiling ID --refuse|--allow --reason TEXT`: PIPL art. 24 — records a customer's
/// refusal (or renewed consent) of automated profiling, taken by an operator (branch counter, phone).
///
/// Decisions:
/// - It goes through the feedback service's own preference path (`FeedbackStore.submit` with a
///   `preference` item, channel `operator`, source `tierguardctl/<operator>`): the same
///   `preference_events` history, the same "newer statement wins" rule in `customer_preferences`, and the
///   same coalesced `score_customer` job, so the scorer drops product recommendations (service alerts
///   stay) on its next scoring, and `tierguardctl rescore ID` shows it at once.
/// - `--reason` is required (usage error, exit 64, nothing written), kept in `preference_events.reason`.
/// - An unknown customer is refused (exit 1, nothing written) rather than parked: an operator typing an
///   id wants to know at once that it matched nobody.
/// - The event's `recorded_at` is the database clock's now.
enum ProfilingCommand: CtlCommand {
    static let spec = CommandSpec(
        name: "profiling", abstract: "Record a customer's refusal (--refuse) or consent (--allow) to automated profiling (PIPL art. 24)",
        flags: [.init("refuse", help: "The customer refuses automated profiling: no product recommendations, service alerts stay"),
                .init("allow", help: "The customer withdraws an earlier refusal")],
        options: [.init("reason", valueName: "TEXT", help: "Why (the customer's request, where it was taken); required")],
        positionals: [.init("ID", help: "Customer id")])

    static func run(_ arguments: Arguments, _ context: CtlContext) throws -> ExitCode {
        guard let id = arguments.positionals.first else { throw arguments.usageError("ID is required") }
        let refuse = arguments.flag("refuse")
        guard refuse != arguments.flag("allow") else { throw arguments.usageError("give exactly one of --refuse or --allow") }
        guard let reason = arguments.option("reason")?.trimmingCharacters(in: .whitespacesAndNewlines), !reason.isEmpty else {
            throw arguments.usageError("--reason TEXT is required")
        }
        let session = try context.connect()
        defer { session.close() }
        let source = "tierguardctl/" + context.operatorName
        let outcome: FeedbackOutcome? = try session.withTransaction { s in
            let known = try s.query(PostgresQuery("SELECT 1 FROM customers WHERE customer_id = $1",
                                                  name: "Profiling.customerExists").binding(id)).count > 0
            guard known else { return nil }
            let now = try s.query(PostgresQuery(
                #"SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"#,
                name: "Profiling.now"))[0].decode(String.self, at: 0)
            let preferenceID = "ctl-" + UUID().uuidString.lowercased()
            let item: FeedbackItem
            do {
                item = try FeedbackItem.parse(.preference, [
                    "preference_id": .string(preferenceID), "customer_id": .string(id), "channel": .string("operator"),
                    "recorded_at": .string(now), "automated_profiling_refused": .bool(refuse),
                ])
            } catch {
                throw CtlFailure(message: "invalid preference: \(error)")
            }
            let outcome = try FeedbackStore.submit(s, item, source: source)
            try s.execute(PostgresQuery("UPDATE preference_events SET reason = $2 WHERE preference_id = $1",
                                        name: "Profiling.reason").binding(preferenceID, reason))
            return outcome
        }
        guard let outcome else {
            FileHandle.standardError.write(Data("tierguardctl: customer \(id) is not in the archive; nothing recorded\n".utf8))
            return .failure
        }
        guard outcome.status == 201 else {
            FileHandle.standardError.write(Data("tierguardctl: preference not applied (\(outcome.status))\n".utf8))
            return .failure
        }
        context.print(refuse
            ? "客户 \(id) 拒绝自动化决策画像：已记录（PIPL 第 24 条）。下次评分起不再推荐产品，保留服务提醒。"
            : "客户 \(id) 撤回拒绝自动化决策画像：已记录。下次评分起恢复产品推荐（仍受适当性与营销偏好约束）。")
        return .success
    }
}

/// A failure with a message for the operator (exit 1).
struct CtlFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
