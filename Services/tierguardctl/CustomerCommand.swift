import ServiceKit

enum CustomerCommand: CtlCommand {
    static let spec = CommandSpec(name: "customer", abstract: "Show a customer's tier, warnings and history")

    static func run(_ arguments: Arguments, _ context: CtlContext) throws -> ExitCode {
        throw NotImplemented(command: "customer")
    }
}
