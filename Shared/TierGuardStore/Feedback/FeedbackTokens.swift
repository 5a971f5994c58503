import Foundation
import ServiceKit

/// The calling systems allowed to post feedback, each with its scopes and the SHA-256 of its bearer
/// token (never the token itself), from `TIERGUARD_FEEDBACK_TOKENS` (or `_FILE`): entries
/// `name:scope1+scope2:sha256hex` separated by commas or newlines. Several entries may share a name,
/// so a system's token can rotate. Scopes: `surveys:write`, `complaints:write`, `visits:write`,
/// `alerts:feedback`, `preferences:write`.
public struct FeedbackTokens: Sendable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var scopes: Set<String>
        public var hash: [UInt8]
        public init(name: String, scopes: Set<String>, hash: [UInt8]) { self.name = name; self.scopes = scopes; self.hash = hash }
    }

    public enum Verdict: Sendable, Equatable {
        case missing, invalid
        case allowed(String, Set<String>)
    }

    public let entries: [Entry]

    public static let scopes: Set<String> = ["surveys:write", "complaints:write", "visits:write", "alerts:feedback", "preferences:write"]

    public init(entries: [Entry]) { self.entries = entries }

    /// Parses the variable's text; the error names the entry number, never its hash.
    public init(parsing text: String) throws(FeedbackProblem) {
        var entries: [Entry] = []
        let parts = text.split(whereSeparator: { $0 == "," || $0 == "\n" || $0 == "\r" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for (index, part) in parts.enumerated() {
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            // The scope names contain ':' themselves: name, then scopes, then the hash last.
            guard fields.count >= 3, let hex = fields.last, hex.count == 64, let hash = Self.bytes(hex: String(hex)) else {
                throw FeedbackProblem(500, "configuration", "Bad token entry", "TIERGUARD_FEEDBACK_TOKENS entry \(index + 1) is not name:scope+scope:sha256hex")
            }
            let scopeText = fields[1..<(fields.count - 1)].joined(separator: ":")
            let scopes = Set(scopeText.split(separator: "+").map(String.init))
            guard !scopes.isEmpty, scopes.isSubset(of: Self.scopes) else {
                throw FeedbackProblem(500, "configuration", "Bad token entry", "TIERGUARD_FEEDBACK_TOKENS entry \(index + 1) has an unknown scope")
            }
            entries.append(Entry(name: String(fields[0]), scopes: scopes, hash: hash))
        }
        self.entries = entries
    }

    /// Checks an `Authorization` header: every entry is compared in constant time (no early exit),
    /// so timing says nothing about which hash came close.
    public func verify(authorization: String?) -> Verdict {
        guard let authorization, authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else { return .missing }
        let token = authorization.dropFirst(7).trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty else { return .missing }
        let digest = FeedbackDigest.sha256(Array(token.utf8))
        var match: Entry?
        for entry in entries where ConstantTime.equals(entry.hash, digest) && match == nil { match = entry }
        guard let match else { return .invalid }
        return .allowed(match.name, match.scopes)
    }

    static func bytes(hex: String) -> [UInt8]? {
        var out: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        while let high = iterator.next() {
            guard let low = iterator.next(), let h = nibble(high), let l = nibble(low) else { return nil }
            out.append(h << 4 | l)
        }
        return out
    }
}
