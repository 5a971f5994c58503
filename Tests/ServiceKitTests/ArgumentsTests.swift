import Testing

@testable import ServiceKit

struct ArgumentsTests {
    static let spec = CommandSpec(
        name: "tierguardctl", abstract: "Operate TierGuard.",
        subcommands: [
            CommandSpec(
                name: "jobs", abstract: "Inspect and steer the job queue.",
                subcommands: [
                    CommandSpec(
                        name: "list", abstract: "List jobs.",
                        flags: [.init("json", help: "Print JSON.")],
                        options: [
                            .init("queue", valueName: "name", help: "Only this queue."),
                            .init("state", help: "Only this state.", isRepeatable: true),
                            .init("limit", valueName: "n", help: "At most n rows."),
                        ]),
                    CommandSpec(
                        name: "retry", abstract: "Retry a job.",
                        options: [.init("reason", help: "Why.", isRequired: true)],
                        positionals: [.init("id", help: "Job id.")]),
                ]),
            CommandSpec(
                name: "ingest", abstract: "Load feed files.",
                positionals: [.init("files", help: "Feed files.", isVariadic: true)]),
        ],
        version: "tierguardctl 0.1.0")

    func run(_ arguments: [String]) throws(UsageError) -> Arguments {
        guard case .run(let parsed) = try Arguments.parse(arguments, spec: Self.spec) else {
            throw UsageError("not a run", usage: "")
        }
        return parsed
    }

    func usageError(_ arguments: [String]) -> UsageError? {
        do {
            _ = try Arguments.parse(arguments, spec: Self.spec)
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesSubcommandsFlagsOptionsAndPositionals() throws {
        let parsed = try run(["jobs", "list", "--queue", "scorer", "--state=available", "--json", "--state", "retryable", "--limit=5"])
        #expect(parsed.subcommands == ["jobs", "list"])
        #expect(parsed.flag("json"))
        #expect(parsed.option("queue") == "scorer")
        #expect(parsed.values("state") == ["available", "retryable"])
        #expect(try parsed.int("limit") == 5)
        #expect(parsed.positionals.isEmpty)
    }

    @Test func optionValueMayContainEqualsAndDashes() throws {
        let parsed = try run(["jobs", "retry", "--reason=fixed=yes", "-17"])
        #expect(parsed.option("reason") == "fixed=yes")
        #expect(parsed.positionals == ["-17"])
    }

    @Test func doubleDashEndsOptions() throws {
        let parsed = try run(["ingest", "--", "--weird-name.ndjson", "b.csv"])
        #expect(parsed.positionals == ["--weird-name.ndjson", "b.csv"])
    }

    @Test func helpAndVersionAreOutcomesNotErrors() throws {
        guard case .help(let text) = try Arguments.parse(["jobs", "retry", "--help"], spec: Self.spec) else {
            Issue.record("expected help")
            return
        }
        #expect(text.hasPrefix("Usage: tierguardctl jobs retry --reason <value> <id>"))
        #expect(text.contains("Retry a job."))
        #expect(try Arguments.parse(["--version"], spec: Self.spec) == .version("tierguardctl 0.1.0"))
        guard case .help(let root) = try Arguments.parse(["-h"], spec: Self.spec) else {
            Issue.record("expected help")
            return
        }
        #expect(root.contains("Subcommands:\n  jobs    Inspect and steer the job queue.\n  ingest  Load feed files."))
        #expect(root.contains("--version"))
    }

    @Test func helpWinsOverOtherwiseInvalidArguments() throws {
        guard case .help = try Arguments.parse(["jobs", "retry", "--bogus", "-h"], spec: Self.spec) else {
            Issue.record("expected help")
            return
        }
    }

    @Test(arguments: [
        (["nope"], "unknown subcommand \"nope\" (expected one of: jobs, ingest)"),
        (["jobs"], "missing subcommand"),
        (["jobs", "list", "--colour"], "unknown option --colour"),
        (["jobs", "list", "-x"], "unknown option -x"),
        (["jobs", "list", "--queue"], "--queue needs a value <name>"),
        (["jobs", "list", "--queue", "--json"], "--queue needs a value <name>"),
        (["jobs", "list", "--queue=a", "--queue=b"], "--queue given more than once"),
        (["jobs", "list", "--json=yes"], "--json takes no value"),
        (["jobs", "list", "extra"], "unexpected argument \"extra\""),
        (["jobs", "retry", "7"], "missing required option --reason"),
        (["jobs", "retry", "--reason", "r"], "missing argument <id>"),
    ])
    func usageErrorsNameTheProblem(arguments: [String], message: String) {
        let error = usageError(arguments)
        #expect(error?.message == message)
        #expect(error?.exitCode == .usage)
        #expect(error?.exitCode.rawValue == 64)
        #expect(error?.description.contains("Usage: tierguardctl") == true)
    }

    @Test func malformedIntegerOptionIsAUsageError() throws {
        let parsed = try run(["jobs", "list", "--limit", "ten"])
        #expect(throws: UsageError.self) { try parsed.int("limit") }
    }

    @Test func footerCarriesTheEnvironmentHelp() {
        let config = ServiceConfig(service: "tierguard-scorer", variables: [.databaseURL, .httpPort])
        let spec = CommandSpec(name: "tierguard-scorer", abstract: "Scores customers.", footer: config.helpText)
        #expect(spec.usage().contains("TIERGUARD_HTTP_PORT"))
        #expect(spec.usage().contains("default \"8080\""))
    }
}

struct ExitCodeTests {
    @Test func codesMatchSysexits() {
        #expect(ExitCode.success.rawValue == 0)
        #expect(ExitCode.failure.rawValue == 1)
        #expect(ExitCode.usage.rawValue == 64)
        #expect(ExitCode.unavailable.rawValue == 69)
        #expect(ExitCode.configuration.rawValue == 78)
    }
}
