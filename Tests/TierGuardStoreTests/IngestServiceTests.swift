import FeedContract
import Foundation
import Postgres
import ServiceKit
import TestSupport
import Testing
import TierGuardStore

/// The pieces `tierguard-ingest serve` is built from: token entries with scopes, the per-token rate
/// limit, and what a reject row still says about its customer.
@Suite struct IngestServiceTests {
    static let tokenA = "token-a"
    static var hashA: String { FeedChecksum.sha256(bytes: Array(tokenA.utf8)) }
    static let hashB = String(repeating: "ab", count: 32)

    @Test func theOriginalTokenFormatMayStillPostFeeds() throws {
        let tokens = try FeedTokens(parsing: "core:\(Self.hashA)")
        #expect(tokens.entries.count == 1)
        #expect(tokens.entries[0].scopes == nil)
        #expect(tokens.verify(authorization: "Bearer \(Self.tokenA)") == .allowed(name: "core"))
        #expect(tokens.verify(authorization: "bearer \(Self.tokenA)") == .allowed(name: "core"))
    }

    @Test func aScopedTokenNeedsFeedWrite() throws {
        let tokens = try FeedTokens(parsing: "core:feed:write+jobs:read:\(Self.hashA), audit:jobs:read:\(Self.hashB)")
        #expect(tokens.entries.map(\.scopes) == [["feed:write", "jobs:read"], ["jobs:read"]])
        #expect(tokens.verify(authorization: "Bearer \(Self.tokenA)") == .allowed(name: "core"))
        let readOnly = try FeedTokens(parsing: "audit:jobs:read:\(Self.hashA)")
        #expect(readOnly.verify(authorization: "Bearer \(Self.tokenA)") == .lacksScope(name: "audit"))
    }

    @Test func missingAndUnknownTokensAreToldApart() throws {
        let tokens = try FeedTokens(parsing: "core:\(Self.hashA)")
        #expect(tokens.verify(authorization: nil) == .missing)
        #expect(tokens.verify(authorization: "Basic abc") == .missing)
        #expect(tokens.verify(authorization: "Bearer ") == .missing)
        #expect(tokens.verify(authorization: "Bearer token-b") == .invalid)
    }

    @Test func aMalformedEntryIsRefusedWithoutEchoingIt() {
        for text in ["core", "core:abc", ":\(Self.hashA)", "core::\(Self.hashA)"] {
            #expect(throws: ConfigError.self, "\(text)") { try FeedTokens(parsing: text) }
        }
        do {
            _ = try FeedTokens(parsing: "ok:\(Self.hashA),bad:\(Self.hashA.dropLast())")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("entry 2"))
            #expect(!error.description.contains(Self.hashA.prefix(20)))
        }
    }

    @Test func theBucketAllowsABurstThenOneRequestPerInterval() {
        // 6 a minute = one every 10 s; a burst of 2.
        let limiter = FeedRateLimiter(perMinute: 6, burst: 2)
        #expect(limiter.acquire("core", now: 100) == nil)
        #expect(limiter.acquire("core", now: 100) == nil)
        #expect(limiter.acquire("core", now: 100) == 10)   // empty: a whole token in 10 s
        #expect(limiter.acquire("other", now: 100) == nil) // names do not share a bucket
        #expect(limiter.acquire("core", now: 104) == 6)    // 0.4 token back: 6 s more
        #expect(limiter.acquire("core", now: 110) == nil)  // 1.0 token back
        #expect(limiter.acquire("core", now: 110.5) == 10)
        // Idle for an hour: back to the burst, never more.
        #expect(limiter.acquire("core", now: 3700) == nil)
        #expect(limiter.acquire("core", now: 3700) == nil)
        #expect(limiter.acquire("core", now: 3700) != nil)
    }

    @Test func aZeroRateMeansUnlimited() {
        let limiter = FeedRateLimiter(perMinute: 0, burst: 1)
        for _ in 0..<100 { #expect(limiter.acquire("core", now: 1) == nil) }
    }

    @Test func aRejectKeepsItsCustomerAndNaturalKeyWhenTheLineSaysThem() async throws {
        let lines = [
            #"{"type":"customer","customer_id":"C1","name":"张三","id_type":"passport","id_number":"E1","risk_level":"C9","risk_assessed_on":"2026-01-05","rm_id":"RM1","branch_id":"B1","opened_on":"2020-01-01","status":"active"}"#,
            #"{"type":"account","account_id":"A1","customer_id":"C1","product":"demand_deposit","currency":"CNY","opened_on":"2020-01-01"}"#,
            // A refused balance whose account this feed brings: its customer comes from the account.
            #"{"type":"balance","account_id":"A1","as_of":"2026-03-31","balance":12.5}"#,
            // A refused transaction on an unknown account: no customer to name.
            #"{"type":"transaction","txn_id":"T1","account_id":"A404","booked_at":"2026-03-31T10:00:00","amount":"1.00","category":"deposit","channel":"atm"}"#,
            // A customer_id that breaks the contract is not copied.
            #"{"type":"account","account_id":"A2","customer_id":"C 2","product":"demand_deposit","currency":"CNY"}"#,
            "not json",
        ]
        // Off the cooperative pool: this suite's listener tests share the process (`offPool`).
        let (result, rows) = try await offPool {
            let db = try TestDatabase.create(migrations: TierGuardSchema.migrations())
            let session = try db.session(applicationName: "tierguard-ingest")
            defer { session.close() }
            let result = try FeedIngestor.ingest(session: session, bytes: Array((lines.joined(separator: "\n") + "\n").utf8))
            let rows = try session.query(PostgresQuery(
                "SELECT line_number, customer_id, natural_key FROM ingest_rejects ORDER BY line_number"))
                .map { (try $0.decode(Int.self, at: 0), try $0.decode(String?.self, at: 1), try $0.decode(String?.self, at: 2)) }
            return (result, rows)
        }
        #expect(result.rejected == 5 && result.accepted == 1)
        #expect(rows.map(\.0) == [1, 3, 4, 5, 6])
        #expect(rows.map(\.1) == ["C1", "C1", nil, nil, nil])
        #expect(rows.map(\.2) == ["C1", "A1 2026-03-31", "T1", "A2", nil])
    }
}
