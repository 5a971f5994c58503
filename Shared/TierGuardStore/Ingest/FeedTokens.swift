import Foundation
import Postgres
import ServiceKit
import Synchronization

/// The upstream systems allowed to `POST /v1/feed`, from `TIERGUARD_INGEST_TOKENS` (or `_FILE`):
/// entries separated by commas or newlines, each either
/// - `name:sha256hex` (the original format, still accepted: such a token may post feeds), or
/// - `name:scope+scope:sha256hex` (the format `TIERGUARD_FEEDBACK_TOKENS` uses; the hash is last because
///   scope names contain `:`), which may post feeds only if its scopes include `feed:write`.
///
/// Only the SHA-256 of a token is configured, never the token. Several entries may share a name so a
/// system's token can rotate. Every entry is compared in constant time with no early exit.
public struct FeedTokens: Sendable {
    /// The scope `POST /v1/feed` requires.
    public static let feedWrite = "feed:write"

    public struct Entry: Sendable, Equatable {
        public var name: String
        /// nil: an entry in the original `name:sha256hex` format, which carries no scopes.
        public var scopes: Set<String>?
        /// Lowercase hex SHA-256 of the token.
        public var hash: String

        public var mayPostFeeds: Bool { scopes?.contains(FeedTokens.feedWrite) ?? true }
    }

    public enum Verdict: Sendable, Equatable {
        /// No `Authorization: Bearer …` header: 401.
        case missing
        /// A token matching no entry: 403.
        case invalid
        /// A known token without `feed:write`: 403.
        case lacksScope(name: String)
        case allowed(name: String)
    }

    public let entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    /// Parses the variable's text; an error names the entry's number, never its hash.
    public init(parsing text: String, variable: String = "TIERGUARD_INGEST_TOKENS") throws(ConfigError) {
        var entries: [Entry] = []
        let parts = text.split(whereSeparator: { $0 == "," || $0 == "\n" || $0 == "\r" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for (index, part) in parts.enumerated() {
            let fields = part.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 2, !fields[0].isEmpty, let hex = fields.last, hex.count == 64,
                  hex.allSatisfy(\.isHexDigit) else {
                throw ConfigError(code: .invalidValue, variable: variable, value: nil,
                                  expected: "entry \(index + 1) as name:sha256hex or name:scope+scope:sha256hex")
            }
            var scopes: Set<String>?
            if fields.count > 2 {
                let scopeText = fields[1..<(fields.count - 1)].joined(separator: ":")
                let set = Set(scopeText.split(separator: "+").map(String.init))
                guard !set.isEmpty else {
                    throw ConfigError(code: .invalidValue, variable: variable, value: nil,
                                      expected: "entry \(index + 1) with at least one scope between name and hash")
                }
                scopes = set
            }
            entries.append(Entry(name: fields[0], scopes: scopes, hash: hex.lowercased()))
        }
        self.entries = entries
    }

    /// Checks an `Authorization` header value.
    public func verify(authorization: String?) -> Verdict {
        guard let authorization, authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else {
            return .missing
        }
        let token = authorization.dropFirst(7).trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty else { return .missing }
        let presented = FeedChecksum.sha256(bytes: Array(token.utf8))
        var match: Entry?
        for entry in entries where ConstantTime.equals(presented, entry.hash) && match == nil { match = entry }
        guard let match else { return .invalid }
        return match.mayPostFeeds ? .allowed(name: match.name) : .lacksScope(name: match.name)
    }
}

/// A token bucket per token name for `POST /v1/feed`: each name may send `burst` feeds at once and then
/// one every `60 / perMinute` seconds (the bucket refills continuously at `perMinute / 60` a second, up
/// to `burst`). A request finding the bucket empty gets 429 with `Retry-After`: the whole seconds until
/// one token is back (at least 1). Names share nothing: one noisy upstream cannot starve another.
/// `perMinute` 0 turns limiting off.
///
/// In memory, per process: with several replicas the effective limit is `replicas ×` the configured one.
public final class FeedRateLimiter: Sendable {
    public let perMinute: Double
    public let burst: Double
    private struct Bucket { var tokens: Double; var at: Double }
    private let buckets = Mutex<[String: Bucket]>([:])

    public init(perMinute: Int, burst: Int) {
        self.perMinute = Double(max(perMinute, 0))
        self.burst = Double(max(burst, 1))
    }

    /// Takes one token from `name`'s bucket at time `now` (monotonic seconds). Returns nil when allowed,
    /// else the seconds to wait before a retry can succeed.
    public func acquire(_ name: String, now: Double = monotonicSeconds()) -> Int? {
        guard perMinute > 0 else { return nil }
        let perSecond = perMinute / 60
        return buckets.withLock { buckets in
            var bucket = buckets[name] ?? Bucket(tokens: burst, at: now)
            bucket.tokens = min(burst, bucket.tokens + max(0, now - bucket.at) * perSecond)
            bucket.at = now
            defer { buckets[name] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / perSecond).rounded(.up)))
        }
    }
}
