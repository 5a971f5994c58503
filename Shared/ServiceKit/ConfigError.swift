/// A configuration value that is missing, unreadable or of the wrong shape.
///
/// `description` names the variable and, unless it is a secret, the offending value, so an operator can fix
/// the deployment from the log line alone. A secret's value is never part of the error.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// A required variable (no default) is set neither directly nor through `NAME_FILE`.
        case missing
        /// The value does not parse as the requested type (int, duration, bool, log level, one of a list).
        case invalidValue
        /// `NAME_FILE` names a file that cannot be read.
        case unreadableFile
        /// Both `NAME` and `NAME_FILE` are set: which one wins would be a guess.
        case conflictingSources
        /// The code asked for a variable it never declared (a programming error, reported like the rest).
        case undeclared
    }

    public let code: Code
    /// The variable's name (`TIERGUARD_HTTP_PORT`).
    public let variable: String
    /// The offending value; `nil` for secrets and when there is none.
    public let value: String?
    /// What was expected, e.g. "an integer between 0 and 65535".
    public let expected: String

    public init(code: Code, variable: String, value: String?, expected: String) {
        self.code = code
        self.variable = variable
        self.value = value
        self.expected = expected
    }

    public var description: String {
        switch code {
        case .missing:
            return "configuration: \(variable) is required (\(expected)); set \(variable) or \(variable)_FILE"
        case .invalidValue:
            let shown = value.map { "\"\($0)\"" } ?? "****"
            return "configuration: \(variable)=\(shown) is invalid: expected \(expected)"
        case .unreadableFile:
            return "configuration: \(variable)_FILE=\"\(value ?? "")\" cannot be read: \(expected)"
        case .conflictingSources:
            return "configuration: both \(variable) and \(variable)_FILE are set; unset one of them"
        case .undeclared:
            return "configuration: \(variable) is read but was never declared (programming error)"
        }
    }
}
