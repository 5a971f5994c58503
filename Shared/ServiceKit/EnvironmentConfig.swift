import Foundation

/// Declared variables resolved against one environment: typed getters, validation and a masked summary.
///
/// Lookup order for a variable `NAME`: `NAME` if set (an empty string counts as set), else the contents of
/// the file named by `NAME_FILE` with trailing CR/LF removed (how container secrets are mounted), else the
/// declared default; a variable with no default and no value is a ``ConfigError/Code/missing`` error.
/// Setting both `NAME` and `NAME_FILE` is an error rather than a silent preference.
public struct EnvironmentConfig: Sendable {
    public let config: ServiceConfig
    public let environment: [String: String]
    private let readFile: @Sendable (String) throws -> String

    public init(
        config: ServiceConfig, environment: [String: String],
        readFile: @escaping @Sendable (String) throws -> String = EnvironmentConfig.readFileContents
    ) {
        self.config = config
        self.environment = environment
        self.readFile = readFile
    }

    /// Reads a whole file as UTF-8; the default `readFile`.
    @Sendable public static func readFileContents(_ path: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let text = String(data: data, encoding: .utf8) else {
            throw CocoaError(.fileReadInapplicableStringEncoding)
        }
        return text
    }

    /// Where a resolved value came from, for the start-up summary.
    public enum Source: Sendable, Equatable {
        case environment
        case file(path: String)
        case defaultValue
        case unset
    }

    private func declaration(_ name: String) throws(ConfigError) -> ConfigVariable {
        guard let variable = config.variables.first(where: { $0.name == name }) else {
            throw ConfigError(code: .undeclared, variable: name, value: nil, expected: "a declared variable")
        }
        return variable
    }

    /// The raw value and its source, or `nil` with `.unset` when neither set nor defaulted.
    public func lookup(_ name: String) throws(ConfigError) -> (value: String?, source: Source) {
        let variable = try declaration(name)
        let direct = environment[name]
        let filePath = environment[variable.fileVariableName]
        switch (direct, filePath) {
        case (.some, .some):
            throw ConfigError(code: .conflictingSources, variable: name, value: nil, expected: "one source")
        case (.some(let value), .none):
            return (value, .environment)
        case (.none, .some(let path)):
            let contents: String
            do {
                contents = try readFile(path)
            } catch {
                throw ConfigError(
                    code: .unreadableFile, variable: name, value: path, expected: Self.describe(error))
            }
            return (Self.trimmingTrailingNewlines(contents), .file(path: path))
        case (.none, .none):
            if let value = variable.defaultValue { return (value, .defaultValue) }
            return (nil, .unset)
        }
    }

    private static func describe(_ error: any Error) -> String {
        let nsError = error as NSError
        if nsError.domain == NSCocoaErrorDomain, nsError.code == CocoaError.fileReadNoSuchFile.rawValue {
            return "no such file"
        }
        if nsError.domain == NSCocoaErrorDomain, nsError.code == CocoaError.fileReadNoPermission.rawValue {
            return "permission denied"
        }
        return "\(nsError.localizedDescription)"
    }

    /// Strips trailing `\n` and `\r\n` (editors and `echo` add one) but keeps every other character.
    static func trimmingTrailingNewlines(_ text: String) -> String {
        var scalars = text.unicodeScalars[...]
        while let last = scalars.last, last == "\n" || last == "\r" { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }

    private func shown(_ variable: ConfigVariable, _ value: String) -> String? {
        variable.isSecret ? nil : value
    }

    // MARK: Typed getters

    /// The value as text; throws ``ConfigError/Code/missing`` for a required variable that is unset.
    public func string(_ name: String) throws(ConfigError) -> String {
        guard let value = try lookup(name).value else {
            throw ConfigError(code: .missing, variable: name, value: nil, expected: try declaration(name).summary)
        }
        return value
    }

    /// The value as text, `nil` when unset and without default (an optional setting).
    public func optionalString(_ name: String) throws(ConfigError) -> String? {
        let value = try lookup(name).value
        return value
    }

    /// A decimal integer (optional leading `-`), optionally restricted to a range.
    public func int(_ name: String, in range: ClosedRange<Int>? = nil) throws(ConfigError) -> Int {
        let variable = try declaration(name)
        let text = try string(name)
        let expected = range.map { "an integer from \($0.lowerBound) to \($0.upperBound)" } ?? "an integer"
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range?.contains(value) ?? true else {
            throw ConfigError(code: .invalidValue, variable: name, value: shown(variable, text), expected: expected)
        }
        return value
    }

    /// A duration in seconds: `30`, `1.5`, or with a unit `250ms`, `30s`, `5m`, `2h`; never negative.
    public func duration(_ name: String) throws(ConfigError) -> Duration {
        let variable = try declaration(name)
        let text = try string(name)
        guard let value = Self.parseDuration(text) else {
            throw ConfigError(
                code: .invalidValue, variable: name, value: shown(variable, text),
                expected: "a duration in seconds such as 30, 1.5, 250ms, 30s, 5m or 2h")
        }
        return value
    }

    /// Accepts `true/false`, `yes/no`, `on/off`, `1/0`, any case.
    public func bool(_ name: String) throws(ConfigError) -> Bool {
        let variable = try declaration(name)
        let text = try string(name)
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default:
            throw ConfigError(
                code: .invalidValue, variable: name, value: shown(variable, text),
                expected: "a boolean: true/false, yes/no, on/off or 1/0")
        }
    }

    /// The log level named by the variable (``LogLevel/init(name:)``).
    public func logLevel(_ name: String = ConfigVariable.logLevel.name) throws(ConfigError) -> LogLevel {
        let text = try string(name)
        guard let level = LogLevel(name: text) else {
            throw ConfigError(
                code: .invalidValue, variable: name, value: text,
                expected: "one of " + LogLevel.allCases.map(\.name).joined(separator: ", "))
        }
        return level
    }

    /// One of a fixed set of words, compared exactly.
    public func choice(_ name: String, of allowed: [String]) throws(ConfigError) -> String {
        let variable = try declaration(name)
        let text = try string(name)
        guard allowed.contains(text) else {
            throw ConfigError(
                code: .invalidValue, variable: name, value: shown(variable, text),
                expected: "one of " + allowed.joined(separator: ", "))
        }
        return text
    }

    static func parseDuration(_ raw: String) -> Duration? {
        let text = raw.trimmingCharacters(in: .whitespaces)
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(text)
        var scale = 1.0
        for unit in units where text.hasSuffix(unit.suffix) {
            number = text.dropLast(unit.suffix.count)
            scale = unit.seconds
            break
        }
        // Digits with at most one dot; Double("inf"), "1e3" and signs are refused on purpose.
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            number.filter({ $0 == "." }).count <= 1, number != ".", let value = Double(number)
        else { return nil }
        let seconds = value * scale
        guard seconds.isFinite, seconds < 1e12 else { return nil }
        let whole = seconds.rounded(.down)
        let attoseconds = Int64(((seconds - whole) * 1e18).rounded())
        return Duration(secondsComponent: Int64(whole), attosecondsComponent: attoseconds)
    }

    // MARK: Validation and summary

    /// Every problem with the environment at once (missing required variables, unreadable files,
    /// conflicting sources), so start-up can report them together rather than one per restart.
    public func validate() -> [ConfigError] {
        var problems: [ConfigError] = []
        for variable in config.variables {
            do {
                _ = try string(variable.name)
            } catch {
                problems.append(error)
            }
        }
        return problems
    }

    /// Lines `NAME=value (source)` for every variable, for the start-up log.
    ///
    /// Secrets show `****`; in any other value a password inside a URL (`postgres://user:pass@host`) or a
    /// conninfo `password=...` is replaced by `****` as well, so `DATABASE_URL` can be shown safely.
    public var startupSummary: String {
        var lines: [String] = ["\(config.service) configuration:"]
        for variable in config.variables {
            let line: String
            do {
                let (value, source) = try lookup(variable.name)
                let from: String
                switch source {
                case .environment: from = ""
                case .file(let path): from = " (from file \(path))"
                case .defaultValue: from = " (default)"
                case .unset: from = ""
                }
                if let value {
                    let shown = variable.isSecret ? "****" : Self.maskingPasswords(in: value)
                    line = "  \(variable.name)=\(shown)\(from)"
                } else {
                    line = "  \(variable.name) is not set"
                }
            } catch {
                line = "  \(variable.name): \(error.description)"
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// Replaces the password of `scheme://user:password@host` and of conninfo `password=value` with `****`.
    public static func maskingPasswords(in value: String) -> String {
        var result = value
        // URL form: the userinfo between "://" and the last "@" before the next "/".
        if let schemeEnd = result.range(of: "://") {
            let afterScheme = result[schemeEnd.upperBound...]
            let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" })
                ?? afterScheme.endIndex
            let authority = result[schemeEnd.upperBound..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                let userinfo = result[schemeEnd.upperBound..<at]
                if let colon = userinfo.firstIndex(of: ":") {
                    result.replaceSubrange(result.index(after: colon)..<at, with: "****")
                }
            }
        }
        // Query or conninfo form: password=value up to the next '&' or space.
        for key in ["password=", "sslpassword="] {
            var searchStart = result.startIndex
            while let found = result.range(of: key, options: .caseInsensitive, range: searchStart..<result.endIndex) {
                let isWordStart =
                    found.lowerBound == result.startIndex
                    || [" ", "?", "&"].contains(result[result.index(before: found.lowerBound)])
                guard isWordStart else {
                    searchStart = found.upperBound
                    continue
                }
                var valueEnd = found.upperBound
                if valueEnd < result.endIndex, result[valueEnd] == "'" {
                    // Quoted conninfo value: up to the closing quote (a backslash escapes).
                    var index = result.index(after: valueEnd)
                    while index < result.endIndex, result[index] != "'" {
                        if result[index] == "\\", result.index(after: index) < result.endIndex {
                            index = result.index(after: index)
                        }
                        index = result.index(after: index)
                    }
                    valueEnd = index < result.endIndex ? result.index(after: index) : index
                } else {
                    valueEnd = result[found.upperBound...].firstIndex(where: { $0 == "&" || $0 == " " })
                        ?? result.endIndex
                }
                result.replaceSubrange(found.upperBound..<valueEnd, with: "****")
                searchStart = result.index(found.upperBound, offsetBy: 4)
            }
        }
        return result
    }
}
