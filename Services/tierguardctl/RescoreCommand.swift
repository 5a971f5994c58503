import ServiceKit

enum RescoreCommand: CtlCommand {
    static let spec = CommandSpec(name: "rescore", abstract: "Re-score customers")

    static func run(_ arguments: Arguments, _ context: CtlContext) throws -> ExitCode {
        throw NotImplemented(command: "rescore")
    }
}
