import ServiceKit

enum JobsCommand: CtlCommand {
    static let spec = CommandSpec(name: "jobs", abstract: "Inspect and operate the job queue")

    static func run(_ arguments: Arguments, _ context: CtlContext) throws -> ExitCode {
        throw NotImplemented(command: "jobs")
    }
}
