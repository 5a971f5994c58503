/// The shape of a command line: a command, its flags, options, positionals and subcommands.
///
/// Declared once, it drives both ``Arguments/parse(_:spec:)`` and the usage text, so `--help` can never
/// drift from what is accepted.
public struct CommandSpec: Sendable {
    /// A `--name` switch without a value.
    public struct Flag: Sendable {
        public let name: String
        public let help: String
        public init(_ name: String, help: String) {
            self.name = name
            self.help = help
        }
    }

    /// A `--name value` (or `--name=value`) option.
    public struct Option: Sendable {
        public let name: String
        public let valueName: String
        public let help: String
        public let isRequired: Bool
        /// May be given several times; read all with ``Arguments/values(_:)``.
        public let isRepeatable: Bool
        public init(_ name: String, valueName: String = "value", help: String, isRequired: Bool = false, isRepeatable: Bool = false) {
            self.name = name
            self.valueName = valueName
            self.help = help
            self.isRequired = isRequired
            self.isRepeatable = isRepeatable
        }
    }

    /// A positional argument; only the last may be variadic, and optional ones follow required ones.
    public struct Positional: Sendable {
        public let name: String
        public let help: String
        public let isOptional: Bool
        public let isVariadic: Bool
        public init(_ name: String, help: String, isOptional: Bool = false, isVariadic: Bool = false) {
            self.name = name
            self.help = help
            self.isOptional = isOptional
            self.isVariadic = isVariadic
        }
    }

    public var name: String
    public var abstract: String
    public var flags: [Flag]
    public var options: [Option]
    public var positionals: [Positional]
    public var subcommands: [CommandSpec]
    /// Printed by `--version` (root command only).
    public var version: String?
    /// Extra help text after the options, e.g. ``ServiceConfig/helpText``.
    public var footer: String?

    public init(
        name: String, abstract: String, flags: [Flag] = [], options: [Option] = [], positionals: [Positional] = [],
        subcommands: [CommandSpec] = [], version: String? = nil, footer: String? = nil
    ) {
        self.name = name
        self.abstract = abstract
        self.flags = flags
        self.options = options
        self.positionals = positionals
        self.subcommands = subcommands
        self.version = version
        self.footer = footer
    }

    /// Usage text for the command reached by `path` (names after the root), as `--help` prints it.
    public func usage(path: [String] = []) -> String {
        var command = self
        var names = [name]
        for part in path {
            guard let sub = command.subcommands.first(where: { $0.name == part }) else { break }
            command = sub
            names.append(part)
        }
        return command.usageText(fullName: names.joined(separator: " "), isRoot: names.count == 1)
    }

    func usageText(fullName: String, isRoot: Bool) -> String {
        var synopsis = "Usage: \(fullName)"
        if !subcommands.isEmpty { synopsis += " <subcommand>" }
        for option in options {
            let part = "--\(option.name) <\(option.valueName)>"
            synopsis += option.isRequired ? " \(part)" : " [\(part)]"
            if option.isRepeatable { synopsis += "..." }
        }
        for flag in flags { synopsis += " [--\(flag.name)]" }
        for positional in positionals {
            var part = "<\(positional.name)>"
            if positional.isVariadic { part += "..." }
            synopsis += positional.isOptional ? " [\(part)]" : " \(part)"
        }
        var lines = [synopsis, "", abstract]
        func section(_ title: String, _ rows: [(String, String)]) {
            guard !rows.isEmpty else { return }
            lines.append("")
            lines.append(title)
            let width = rows.map(\.0.count).max() ?? 0
            for (left, right) in rows {
                lines.append("  " + left.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + right)
            }
        }
        section("Subcommands:", subcommands.map { ($0.name, $0.abstract) })
        section("Arguments:", positionals.map { ("<\($0.name)>", $0.help) })
        var optionRows = options.map { ("--\($0.name) <\($0.valueName)>", $0.help + ($0.isRequired ? " (required)" : "")) }
        optionRows += flags.map { ("--\($0.name)", $0.help) }
        optionRows.append(("-h, --help", "Show this help."))
        if isRoot, version != nil { optionRows.append(("--version", "Show the version.")) }
        section("Options:", optionRows)
        if let footer {
            lines.append("")
            lines.append(footer)
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func padding(toLength length: Int, withPad pad: String, startingAt _: Int) -> String {
        count >= length ? self : self + String(repeating: pad, count: length - count)
    }
}
