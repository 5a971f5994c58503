import ServiceKit

enum ReportCommand: CtlCommand {
    static let spec = CommandSpec(name: "report", abstract: "Reports (retention)")

    static func run(_ arguments: Arguments, _ context: CtlContext) throws -> ExitCode {
        throw NotImplemented(command: "report")
    }
}
