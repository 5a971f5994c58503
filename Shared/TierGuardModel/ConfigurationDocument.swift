import Foundation

/// A configuration file the bank's operators edit (the scoring policy, the product catalog): decoded
/// strictly from JSON, then validated, so a refused file lists every problem at once.
public protocol ConfigurationDocument: Codable {
    /// Every problem with the decoded values, as sentences naming the field; empty when valid.
    func validate() -> [String]
}

/// Shared reading and writing of `ConfigurationDocument`s.
enum ConfigurationJSON {
    enum Failure: Error {
        /// Not JSON, or a field missing or of the wrong type.
        case malformed([String])
        /// Decoded, but `validate()` found problems (all listed).
        case invalid([String])
    }

    static func load<Document: ConfigurationDocument>(_ type: Document.Type, json: Data) throws(Failure) -> Document {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: json)
        } catch let error as DecodingError {
            throw .malformed([describe(error)])
        } catch {
            throw .malformed(["\(error)"])
        }
        let problems = document.validate()
        guard problems.isEmpty else { throw .invalid(problems) }
        return document
    }

    /// Pretty, key-sorted JSON that `load` reads back.
    static func prettyData(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// A decoding error as an operator reads it: the field's dotted path and what was wrong.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let p = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "(top level)" : p
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "missing field \(parent == "(top level)" ? "" : parent + ".")\(key.stringValue)"
        case .typeMismatch(let type, let context):
            return "\(path(context)): expected \(type)"
        case .valueNotFound(let type, let context):
            return "\(path(context)): expected \(type), got null"
        case .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
