import ServiceKit

enum RejectsCommand: CtlCommand {
    static let spec = CommandSpec(name: "rejects", abstract: "List ingest rejects and pending records")

    static func run(_ arguments: Arguments, _ context: CtlContext) throws -> ExitCode {
        throw NotImplemented(command: "rejects")
    }
}
