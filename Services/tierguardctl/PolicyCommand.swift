import ServiceKit

enum PolicyCommand: CtlCommand {
    static let spec = CommandSpec(name: "policy", abstract: "Show or check the scoring policy")

    static func run(_ arguments: Arguments, _ context: CtlContext) throws -> ExitCode {
        throw NotImplemented(command: "policy")
    }
}
