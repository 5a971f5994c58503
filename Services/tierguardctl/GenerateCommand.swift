import ServiceKit

enum GenerateCommand: CtlCommand {
    static let spec = CommandSpec(name: "generate", abstract: "Write a deterministic sample feed")

    static func run(_ arguments: Arguments, _ context: CtlContext) throws -> ExitCode {
        throw NotImplemented(command: "generate")
    }
}
