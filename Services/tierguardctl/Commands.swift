/// Every subcommand, in the order `--help` lists them. Add a new one here and in its own file.
let allCommands: [any CtlCommand.Type] = [
    MigrateCommand.self,
    JobsCommand.self,
    RejectsCommand.self,
    GenerateCommand.self,
    CustomerCommand.self,
    ProfilingCommand.self,
    PolicyCommand.self,
    RescoreCommand.self,
    NotifyCommand.self,
    ReportCommand.self,
]
