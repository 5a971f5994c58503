import Foundation

/// A command line that did not match its ``CommandSpec``: the caller prints ``description`` (the message
/// and the usage text) to standard error and exits with ``exitCode`` (64).
public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    /// The usage text of the (sub)command being parsed.
    public let usage: String
    public var exitCode: ExitCode { .usage }

    public init(_ message: String, usage: String) {
        self.message = message
        self.usage = usage
    }

    public var description: String { "error: \(message)\n\n\(usage)" }
}

/// A parsed command line.
///
/// Grammar: subcommand names first (each descends one level), then in any order `--flag`,
/// `--option value`, `--option=value` and positionals (`-` and negative numbers included); `--` ends options; `-h`/`--help` anywhere asks for
/// the help of the deepest subcommand named; `--version` is accepted on the root command.
public struct Arguments: Sendable, Equatable {
    /// What the command line asks for.
    public enum Outcome: Sendable, Equatable {
        case run(Arguments)
        /// Print this text on standard output and exit 0.
        case help(String)
        /// Print this text on standard output and exit 0.
        case version(String)
    }

    /// Subcommand names after the root, e.g. `["jobs", "retry"]`.
    public let subcommands: [String]
    public let flags: Set<String>
    public let options: [String: [String]]
    public let positionals: [String]
    let usage: String

    /// Whether `--name` was given.
    public func flag(_ name: String) -> Bool { flags.contains(name) }

    /// The (last) value of `--name`, if given.
    public func option(_ name: String) -> String? { options[name]?.last }

    /// Every value of a repeatable option, in order.
    public func values(_ name: String) -> [String] { options[name] ?? [] }

    /// `--name` as an integer; a malformed value is a usage error naming the option.
    public func int(_ name: String) throws(UsageError) -> Int? {
        guard let text = option(name) else { return nil }
        guard let value = Int(text) else {
            throw UsageError("--\(name) expects an integer, got \"\(text)\"", usage: usage)
        }
        return value
    }

    /// A usage error for checks the spec cannot express (mutually exclusive options and such).
    public func usageError(_ message: String) -> UsageError { UsageError(message, usage: usage) }

    /// Parses this process's command line for an executable's `main`: help and version are printed
    /// on standard output and exit 0; a usage error is printed on standard error with the usage and
    /// exits 64 (`ExitCode.usage`). Returns only what is to be run.
    public static func parseCommandLine(spec: CommandSpec) -> Arguments {
        do {
            switch try parse(Array(CommandLine.arguments.dropFirst()), spec: spec) {
            case .help(let text), .version(let text):
                print(text)
                ExitCode.success.exit()
            case .run(let arguments):
                return arguments
            }
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            error.exitCode.exit()
        }
    }

    /// Parses `arguments` (without the program name, i.e. `CommandLine.arguments.dropFirst()`).
    public static func parse(_ arguments: [String], spec: CommandSpec) throws(UsageError) -> Outcome {
        var command = spec
        var path: [String] = []
        var index = 0
        // Descend through leading subcommand names.
        while index < arguments.count, !command.subcommands.isEmpty {
            let token = arguments[index]
            if token.hasPrefix("-") { break }
            guard let sub = command.subcommands.first(where: { $0.name == token }) else {
                let names = command.subcommands.map(\.name).joined(separator: ", ")
                throw UsageError(
                    "unknown subcommand \"\(token)\" (expected one of: \(names))", usage: spec.usage(path: path))
            }
            command = sub
            path.append(token)
            index += 1
        }
        let usage = spec.usage(path: path)
        let rest = arguments[index...]
        let beforeTerminator = rest.prefix { $0 != "--" }
        if beforeTerminator.contains("--help") || beforeTerminator.contains("-h") { return .help(usage) }
        if path.isEmpty, let version = spec.version, beforeTerminator.contains("--version") { return .version(version) }
        if !command.subcommands.isEmpty {
            throw UsageError("missing subcommand", usage: usage)
        }

        var flags = Set<String>()
        var options: [String: [String]] = [:]
        var positionals: [String] = []
        var optionsEnded = false
        while index < arguments.count {
            let token = arguments[index]
            index += 1
            // "-" (standard input) and negative numbers ("-17") are values, not options.
            let looksNumeric = token.count > 1 && token.dropFirst().first.map(\.isNumber) == true
            if optionsEnded || token == "-" || !token.hasPrefix("-") || looksNumeric {
                positionals.append(token)
                continue
            }
            if token == "--" {
                optionsEnded = true
                continue
            }
            guard token.hasPrefix("--") else {
                throw UsageError("unknown option \(token)", usage: usage)
            }
            let body = token.dropFirst(2)
            let name: String
            var inlineValue: String?
            if let equals = body.firstIndex(of: "=") {
                name = String(body[..<equals])
                inlineValue = String(body[body.index(after: equals)...])
            } else {
                name = String(body)
            }
            if command.flags.contains(where: { $0.name == name }) {
                guard inlineValue == nil else { throw UsageError("--\(name) takes no value", usage: usage) }
                flags.insert(name)
                continue
            }
            guard let option = command.options.first(where: { $0.name == name }) else {
                throw UsageError("unknown option --\(name)", usage: usage)
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                guard index < arguments.count, !arguments[index].hasPrefix("--") else {
                    throw UsageError("--\(name) needs a value <\(option.valueName)>", usage: usage)
                }
                value = arguments[index]
                index += 1
            }
            if !option.isRepeatable, options[name] != nil {
                throw UsageError("--\(name) given more than once", usage: usage)
            }
            options[name, default: []].append(value)
        }

        for option in command.options where option.isRequired && options[option.name] == nil {
            throw UsageError("missing required option --\(option.name)", usage: usage)
        }
        let required = command.positionals.filter { !$0.isOptional }.count
        let isVariadic = command.positionals.last?.isVariadic ?? false
        if positionals.count < required {
            let missing = command.positionals[positionals.count].name
            throw UsageError("missing argument <\(missing)>", usage: usage)
        }
        if !isVariadic, positionals.count > command.positionals.count {
            throw UsageError("unexpected argument \"\(positionals[command.positionals.count])\"", usage: usage)
        }
        return .run(
            Arguments(subcommands: path, flags: flags, options: options, positionals: positionals, usage: usage))
    }
}
