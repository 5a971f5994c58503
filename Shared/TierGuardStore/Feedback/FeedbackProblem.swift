import Foundation

/// An RFC 9457 problem detail (`application/problem+json`): what the feedback API answers for every
/// refusal, and what `tierguard-feedback load` records as a reject.
///
/// `errors` names each field at fault with its reason; neither ever carries a submitted value, so a
/// problem is safe to log (free text and identifiers are never echoed back).
public struct FeedbackProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public struct FieldError: Sendable, Equatable, Codable {
        public var field: String
        public var reason: String
        public init(field: String, reason: String) { self.field = field; self.reason = reason }
    }

    /// The last path segment of `type` (`https://tierguard.example/problems/<code>`).
    public var code: String
    public var title: String
    public var status: Int
    public var detail: String
    public var errors: [FieldError]

    public init(_ status: Int, _ code: String, _ title: String, _ detail: String, errors: [FieldError] = []) {
        self.status = status; self.code = code; self.title = title; self.detail = detail; self.errors = errors
    }

    public var type: String { "https://tierguard.example/problems/\(code)" }

    public var description: String {
        "\(status) \(code): \(detail)" + (errors.isEmpty ? "" : " [" + errors.map { "\($0.field): \($0.reason)" }.joined(separator: "; ") + "]")
    }

    /// The JSON body, keys sorted.
    public var jsonBody: [UInt8] {
        struct Body: Encodable {
            let type: String, title: String, status: Int, detail: String, errors: [FieldError]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(Body(type: type, title: title, status: status, detail: detail, errors: errors))) ?? Data())
    }

    public static func validation(_ errors: [FieldError]) -> FeedbackProblem {
        FeedbackProblem(422, "validation", "Invalid item",
                        "\(errors.count) field(s) failed validation: " + errors.map(\.field).joined(separator: ", "),
                        errors: errors)
    }

    public static func field(_ status: Int, _ code: String, _ title: String, field: String, reason: String) -> FeedbackProblem {
        FeedbackProblem(status, code, title, "\(field): \(reason)", errors: [FieldError(field: field, reason: reason)])
    }
}
