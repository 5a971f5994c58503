import Postgres
import ServiceKit
import TierGuardStore

/// `tierguardctl report retention --from DATE --to DATE [--json]`: the retention report
/// (`RetentionReport`, over the `retention_report` view): for the downgrade_risk alerts raised in
/// the window, kept/downgraded/pending by what the RM did, the median lead time and the share of
/// alerts marked useful. A table on the terminal, or JSON.
enum ReportCommand: CtlCommand {
    static let spec = CommandSpec(
        name: "report", abstract: "Reports (retention)",
        subcommands: [CommandSpec(
            name: "retention", abstract: "Did the customers warned about keep their tier, by what the RM did",
            flags: [.init("json", help: "Print JSON instead of a table")],
            options: [.init("from", valueName: "DATE", help: "First business date an alert was raised (YYYY-MM-DD)", isRequired: true),
                      .init("to", valueName: "DATE", help: "Last business date an alert was raised (YYYY-MM-DD)", isRequired: true)])])

    static func run(_ arguments: Arguments, _ context: CtlContext) throws -> ExitCode {
        guard arguments.subcommands.dropFirst().first == "retention" else {
            throw arguments.usageError("report needs a report name: retention")
        }
        guard let from = date(arguments.option("from")), let to = date(arguments.option("to")) else {
            throw arguments.usageError("--from and --to must be dates YYYY-MM-DD")
        }
        let session = try context.connect()
        defer { session.close() }
        let report = try RetentionReport.load(session, from: from, to: to)
        context.print(arguments.flag("json") ? report.json : report.table)
        return .success
    }

    static func date(_ text: String?) -> PostgresDate? {
        guard let text else { return nil }
        let parts = text.split(separator: "-")
        guard text.count == 10, parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        return PostgresDate(year: y, month: m, day: d)
    }
}
