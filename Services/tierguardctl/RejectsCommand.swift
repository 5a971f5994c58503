import Postgres
import ServiceKit
import TierGuardModel

/// `tierguardctl rejects [--batch ID] [--pending] [--limit N] [--unmask]`: the lines ingest refused, or
/// (`--pending`) the balances and transactions waiting for their account, each with its batch and line.
///
/// Reasons are masked by FeedContract already; raw text is passed through `Masking.feedLine` (names, ID numbers,
/// mobiles, card numbers) unless `--unmask` is given.
enum RejectsCommand: CtlCommand {
    static let spec = CommandSpec(
        name: "rejects", abstract: "List ingest rejects and pending records",
        flags: [.init("pending", help: "List records waiting for their account instead of rejects"),
                .init("unmask", help: "Show raw lines unmasked (operators only)")],
        options: [.init("batch", valueName: "ID", help: "Only this ingest batch"),
                  .init("limit", valueName: "N", help: "At most N rows (default 100)")])

    static func run(_ arguments: Arguments, _ context: CtlContext) throws -> ExitCode {
        let limit = try arguments.int("limit") ?? 100
        let batch = try arguments.int("batch")
        let unmask = arguments.flag("unmask")
        let session = try context.connect()
        defer { session.close() }
        if arguments.flag("pending") {
            let rows = try session.query(PostgresQuery("""
                SELECT batch_id, line_number, record_type, natural_key, account_id FROM pending_records
                WHERE $1::bigint IS NULL OR batch_id = $1 ORDER BY batch_id, line_number LIMIT $2
                """).binding(batch, limit))
            for row in rows {
                let batchId = try row.decode(Int64.self, at: 0), line = try row.decode(Int.self, at: 1)
                let type = try row.decode(String.self, at: 2), key = try row.decode(String.self, at: 3)
                let account = try row.decode(String.self, at: 4)
                context.print("batch \(batchId) line \(line): \(type) \(key): pending, account \(account) is not in the archive")
            }
            context.print("\(rows.count) pending record(s) shown")
            return .success
        }
        let rows = try session.query(PostgresQuery("""
            SELECT batch_id, line_number, reason, raw_text FROM ingest_rejects
            WHERE $1::bigint IS NULL OR batch_id = $1 ORDER BY batch_id, line_number LIMIT $2
            """).binding(batch, limit))
        for row in rows {
            let batchId = try row.decode(Int64.self, at: 0)
            let reason = try row.decode(String.self, at: 2), raw = try row.decode(String.self, at: 3)
            context.print("batch \(batchId) \(reason)\n    \(unmask ? raw : Masking.feedLine(raw))")
        }
        context.print("\(rows.count) reject(s) shown")
        return .success
    }
}
