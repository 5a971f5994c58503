import Foundation
import Postgres
import ServiceKit
import TierGuardModel
import TierGuardStore

/// `tierguardctl rejects [--batch ID] [--pending] [--limit N] [--unmask]`: the lines ingest refused, or
/// (`--pending`) the balances and transactions waiting for their account, each with its batch and line.
///
/// Reasons are masked by FeedContract already; raw text is passed through `Masking.feedLine` (names, ID numbers,
/// mobiles, card numbers) unless `--unmask --reason TEXT` is given, which first appends a
/// `pii_access_audit` row (operator, the customers of the lines shown, reason).
enum RejectsCommand: CtlCommand {
    static let spec = CommandSpec(
        name: "rejects", abstract: "List ingest rejects and pending records",
        flags: [.init("pending", help: "List records waiting for their account instead of rejects"),
                .init("unmask", help: "Show raw lines unmasked (operators only)")],
        options: [.init("batch", valueName: "ID", help: "Only this ingest batch"),
                  .init("limit", valueName: "N", help: "At most N rows (default 100)"),
                  .init("reason", valueName: "TEXT", help: "Why raw lines must be shown unmasked (required with --unmask)")])

    static func run(_ arguments: Arguments, _ context: CtlContext) throws -> ExitCode {
        let limit = try arguments.int("limit") ?? 100
        let batch = try arguments.int("batch")
        let unmask = arguments.flag("unmask")
        var reason: String?
        if unmask {
            do { reason = try PIIAccessAudit.requireReason(arguments.option("reason")) } catch {
                throw arguments.usageError("--unmask needs --reason")
            }
        }
        let session = try context.connect()
        defer { session.close() }
        if arguments.flag("pending") {
            // Why the account is missing, when the feed that parked the record (or the one that first
            // did) refused the account's own line: that reject's batch and line.
            let rows = try session.query(PostgresQuery("""
                SELECT p.batch_id, p.line_number, p.record_type, p.natural_key, p.account_id, r.batch_id, r.line_number
                FROM pending_records p
                LEFT JOIN LATERAL (SELECT batch_id, line_number FROM ingest_rejects
                                   WHERE batch_id IN (p.batch_id, p.first_batch_id) AND record_type = 'account'
                                     AND natural_key = p.account_id
                                   ORDER BY batch_id DESC, line_number DESC LIMIT 1) r ON true
                WHERE $1::bigint IS NULL OR p.batch_id = $1 ORDER BY p.batch_id, p.line_number LIMIT $2
                """).binding(batch, limit))
            for row in rows {
                let batchId = try row.decode(Int64.self, at: 0), line = try row.decode(Int.self, at: 1)
                let type = try row.decode(String.self, at: 2), key = try row.decode(String.self, at: 3)
                let account = try row.decode(String.self, at: 4)
                let rejected = try row.decode(Int64?.self, at: 5).map { rejectBatch in
                    " (its account line was rejected: batch \(rejectBatch) line \(try row.decode(Int.self, at: 6)))"
                }
                context.print("batch \(batchId) line \(line): \(type) \(key): pending, account \(account) is not in the archive\(rejected ?? "")")
            }
            context.print("\(rows.count) pending record(s) shown")
            return .success
        }
        let rows = try session.query(PostgresQuery("""
            SELECT batch_id, line_number, reason, raw_text, customer_id, raw_text_enc FROM ingest_rejects
            WHERE $1::bigint IS NULL OR batch_id = $1 ORDER BY batch_id, line_number LIMIT $2
            """).binding(batch, limit))
        if let reason {
            // Audit row before any raw line is printed; a line without a customer id is counted by the
            // command text (batch and limit), its customers are unknown.
            let customers = try rows.compactMap { try $0.decode(String?.self, at: 4) }
            try PIIAccessAudit.record(session, operator: context.operatorName, customerIds: customers, reason: reason,
                                      command: "rejects --unmask\(batch.map { " --batch \($0)" } ?? "") --limit \(limit): \(rows.count) line(s)")
        }
        for row in rows {
            let batchId = try row.decode(Int64.self, at: 0)
            let reason = try row.decode(String.self, at: 2), raw = try row.decode(String.self, at: 3)
            // raw_text is stored masked; --unmask opens the sealed line (0012), only for the rows shown.
            let shown = unmask ? try RejectedLine.open(masked: raw, sealed: try row.decode(Data?.self, at: 5).map { [UInt8]($0) })
                               : Masking.feedLine(raw)
            context.print("batch \(batchId) \(reason)\n    \(shown)")
        }
        context.print("\(rows.count) reject(s) shown")
        return .success
    }
}
