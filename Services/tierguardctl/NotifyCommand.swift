import ServiceKit

enum NotifyCommand: CtlCommand {
    static let spec = CommandSpec(name: "notify", abstract: "Inspect notifications")

    static func run(_ arguments: Arguments, _ context: CtlContext) throws -> ExitCode {
        throw NotImplemented(command: "notify")
    }
}
