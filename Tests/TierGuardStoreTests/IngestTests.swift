import FeedContract
import Foundation
import Postgres
import TestSupport
import Testing
import TierGuardStore

/// The archive ingest against a real database: counts, audit trail, pending records, jobs, failures.
@Suite struct IngestTests {
    static func customer(_ id: String, phone: String? = nil, risk: String = "C3", rm: String = "RM1") -> String {
        let phonePart = phone.map { ",\"phone\":\"\($0)\"" } ?? ""
        return """
            {"type":"customer","customer_id":"\(id)","name":"张三","id_type":"passport","id_number":"E\(id)99"\(phonePart),"risk_level":"\(risk)","risk_assessed_on":"2026-01-05","rm_id":"\(rm)","branch_id":"B1","opened_on":"2020-01-01","status":"active"}
            """
    }
    static func account(_ id: String, customer: String) -> String {
        #"{"type":"account","account_id":"\#(id)","customer_id":"\#(customer)","product":"demand_deposit","currency":"CNY","opened_on":"2020-01-01"}"#
    }
    static func balance(_ account: String, _ day: String, _ amount: String) -> String {
        #"{"type":"balance","account_id":"\#(account)","as_of":"\#(day)","balance":"\#(amount)"}"#
    }
    static func transaction(_ id: String, account: String, amount: String = "-5.00", at: String = "2026-03-31T23:30:00+08:00") -> String {
        #"{"type":"transaction","txn_id":"\#(id)","account_id":"\#(account)","booked_at":"\#(at)","amount":"\#(amount)","category":"withdrawal","channel":"atm"}"#
    }
    static let rm = #"{"type":"relationship_manager","rm_id":"RM1","name":"李四","branch_id":"B1","active":true}"#

    static func database() throws -> (TestDatabase, PostgresSession) {
        let db = try TestDatabase.create(migrations: TierGuardSchema.migrations())
        return (db, try db.session(applicationName: "tierguard-ingest"))
    }

    static func ingest(_ session: PostgresSession, _ lines: [String]) throws -> IngestResult {
        try FeedIngestor.ingest(session: session, bytes: Array((lines.joined(separator: "\n") + "\n").utf8), source: .http)
    }

    static func count(_ session: PostgresSession, _ sql: StaticString) throws -> Int {
        try session.query(PostgresQuery(sql))[0].decode(Int.self, at: 0)
    }

    @Test func everyRecordTypeLandsAndNothingIsLost() throws {
        let (_, session) = try Self.database()
        defer { session.close() }
        let lines = [
            Self.rm, Self.customer("C1", phone: "13812345678"), Self.account("A1", customer: "C1"),
            Self.balance("A1", "2026-03-31", "100.50"), Self.transaction("T1", account: "A1"),
            "", // blank: skipped, keeps its number
            #"{"type":"balance","account_id":"A1","as_of":"2026-03-30","balance":100.5}"#, // line 7: number money
            "not json",                                                                  // line 8
            Self.balance("A404", "2026-03-31", "1.00"),                                  // pending
        ]
        let result = try Self.ingest(session, lines)
        #expect(result.accepted == 5)
        #expect(result.rejected == 2)
        #expect(result.pending == 1)
        #expect(result.unchanged == 0)
        #expect(result.lines == 8)
        #expect(result.accepted + result.rejected + result.unchanged + result.pending == 8)
        #expect(try Self.count(session, "SELECT count(*) FROM relationship_managers") == 1)
        #expect(try session.query(PostgresQuery("SELECT count(*) FROM customers WHERE phone_hmac = $1")
            .binding(PIIFixture.phoneIndex("13812345678")))[0].decode(Int.self, at: 0) == 1)
        #expect(try Self.count(session, "SELECT count(*) FROM accounts WHERE customer_id = 'C1'") == 1)
        #expect(try Self.count(session, "SELECT balance_fen FROM balances WHERE account_id = 'A1'") == 10050)
        // 23:30 in Shanghai on 03-31 is 15:30 UTC: booked_on is the Shanghai day.
        #expect(try Self.count(session, """
            SELECT count(*) FROM transactions WHERE txn_id = 'T1' AND customer_id = 'C1' AND amount_fen = -500
              AND booked_on = '2026-03-31' AND booked_at = '2026-03-31T15:30:00Z'
            """) == 1)
        let rejects = try session.query(PostgresQuery(
            "SELECT line_number, reason FROM ingest_rejects WHERE batch_id = $1 ORDER BY line_number").binding(result.batchId))
            .map { (try $0.decode(Int.self, at: 0), try $0.decode(String.self, at: 1)) }
        #expect(rejects.map(\.0) == [7, 8])
        #expect(rejects[0].1.hasPrefix("line 7: ") && rejects[0].1.contains("balance"))
        #expect(try Self.count(session, "SELECT count(*) FROM pending_records WHERE account_id = 'A404' AND line_number = 9") == 1)
        let batch = try session.query(PostgresQuery(
            "SELECT accepted, rejected, unchanged, pending, status, checksum FROM ingest_batches WHERE id = $1").binding(result.batchId))[0]
        #expect(try batch.decode(Int.self, at: 0) == 5)
        #expect(try batch.decode(Int.self, at: 1) == 2)
        #expect(try batch.decode(String.self, at: 4) == "applied")
        #expect(try batch.decode(String.self, at: 5).count == 64)
    }

    @Test func theSameFileTwiceChangesNothing() throws {
        let (_, session) = try Self.database()
        defer { session.close() }
        let path = NSTemporaryDirectory() + "ingest-\(UUID().uuidString).ndjson"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lines = [Self.customer("C1"), Self.account("A1", customer: "C1"), Self.balance("A1", "2026-03-31", "1.00"),
                     Self.transaction("T1", account: "A1"), Self.balance("A9", "2026-03-31", "2.00")]
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let first = try FeedIngestor.ingest(session: session, path: path)
        #expect(first.accepted == 4 && first.pending == 1 && first.jobsEnqueued == 1)
        let jobs = try Self.count(session, "SELECT count(*) FROM tg_jobs")
        let second = try FeedIngestor.ingest(session: session, path: path)
        #expect(second.accepted == 0)
        #expect(second.unchanged == 4)
        #expect(second.pending == 1)
        #expect(second.changedCustomers == 0 && second.jobsEnqueued == 0)
        #expect(try Self.count(session, "SELECT count(*) FROM tg_jobs") == jobs)
        #expect(try Self.count(session, "SELECT count(*) FROM archive_changes") == 0)
        #expect(try Self.count(session, "SELECT count(*) FROM customers WHERE last_batch_id = first_batch_id") == 1)
        let checksums = try session.query(PostgresQuery("SELECT DISTINCT checksum FROM ingest_batches")).map { try $0.decode(String.self, at: 0) }
        #expect(checksums.count == 1)
    }

    @Test func aChangedCustomerRecordKeepsWhichFieldsChanged() throws {
        let (_, session) = try Self.database()
        defer { session.close() }
        _ = try Self.ingest(session, [Self.customer("C1", phone: "13812345678", risk: "C3")])
        let second = try Self.ingest(session, [Self.customer("C1", phone: "13912345678", risk: "C4")])
        #expect(second.accepted == 1 && second.changedCustomers == 1)
        let change = try session.query(PostgresQuery(
            "SELECT customer_id, record_type, natural_key, changed_fields, batch_id, line_number FROM archive_changes"))[0]
        #expect(try change.decode(String.self, at: 0) == "C1")
        #expect(try change.decode(String.self, at: 1) == "customer")
        #expect(try change.decode([String].self, at: 3) == ["phone", "risk_level"])
        #expect(try change.decode(Int64.self, at: 4) == second.batchId)
        #expect(try change.decode(Int.self, at: 5) == 1)
        #expect(try session.query(PostgresQuery("SELECT count(*) FROM customers WHERE phone_hmac = $1 AND risk_level = 'C4'")
            .binding(PIIFixture.phoneIndex("13912345678")))[0].decode(Int.self, at: 0) == 1)
    }

    @Test func aBalanceBeforeItsAccountInTheSameFeedApplies() throws {
        let (_, session) = try Self.database()
        defer { session.close() }
        let result = try Self.ingest(session, [Self.balance("A1", "2026-03-31", "7.00"), Self.transaction("T1", account: "A1"),
                                               Self.account("A1", customer: "C1"), Self.customer("C1")])
        #expect(result.accepted == 4 && result.pending == 0)
        #expect(try Self.count(session, "SELECT count(*) FROM balances WHERE customer_id = 'C1'") == 1)
        #expect(try Self.count(session, "SELECT count(*) FROM pending_records") == 0)
    }

    /// Found by an independent oracle: a 7th–9th fraction digit was rounded by PostgreSQL, so
    /// `23:59:59.9999999+08:00` was stored as the next day's midnight while booked_on kept the right
    /// day. The archive keeps microseconds, truncated: both say the same Shanghai day.
    @Test func aNanosecondBeforeMidnightStaysOnItsDay() throws {
        let (_, session) = try Self.database()
        defer { session.close() }
        let result = try Self.ingest(session, [Self.customer("C1"), Self.account("A1", customer: "C1"),
                                               Self.transaction("T1", account: "A1", at: "2026-03-31T23:59:59.9999999+08:00")])
        #expect(result.accepted == 3 && result.rejected == 0)
        let row = try session.query(PostgresQuery("""
            SELECT booked_on::text, (booked_at AT TIME ZONE 'Asia/Shanghai')::text FROM transactions WHERE txn_id = 'T1'
            """))[0]
        #expect(try row.decode(String.self, at: 0) == "2026-03-31")
        #expect(try row.decode(String.self, at: 1) == "2026-03-31 23:59:59.999999")
    }

    /// Found by an independent oracle: one valid date decades from the rest (an upstream "epoch zero")
    /// made the month-partition step refuse the whole feed (a span over 50 years), and an instant
    /// outside years 0001–9999 in UTC failed it in PostgreSQL. Now the first gets its own month
    /// partition and the second is a reject with its reason; every other line applies.
    @Test func farDatesNeverFailAFeed() throws {
        let (_, session) = try Self.database()
        defer { session.close() }
        let result = try Self.ingest(session, [
            Self.customer("C1"), Self.account("A1", customer: "C1"),
            Self.balance("A1", "2026-03-31", "7.00"), Self.balance("A1", "1960-01-01", "1.00"),
            Self.transaction("T1", account: "A1", at: "1970-01-01T00:00:00Z"),
            Self.transaction("T2", account: "A1", at: "0001-01-01T00:00:00+08:00"),
            Self.transaction("T3", account: "A1", at: "9999-12-31T23:59:59-01:00"),
        ])
        #expect(result.accepted == 5 && result.rejected == 2)
        #expect(try Self.count(session, "SELECT count(*) FROM balances") == 2)
        #expect(try Self.count(session, "SELECT count(*) FROM transactions WHERE txn_id = 'T1' AND booked_on = '1970-01-01'") == 1)
        // Only the months that have rows, not the 66 years between them.
        #expect(try Self.count(session, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'balances'::regclass") <= 4)
        let reasons = try session.query(PostgresQuery("SELECT reason FROM ingest_rejects ORDER BY line_number")).map { try $0.decode(String.self, at: 0) }
        #expect(reasons.count == 2)
        #expect(reasons.allSatisfy { $0.contains("booked_at") && $0.contains("outside the years 0001–9999") }, "\(reasons)")
        // The last storable instant: 9999-12-31 23:59:59 in Shanghai, on that day.
        let last = try Self.ingest(session, [Self.transaction("T4", account: "A1", at: "9999-12-31T15:59:59.999999999Z")])
        #expect(last.accepted == 1)
        #expect(try Self.count(session, "SELECT count(*) FROM transactions WHERE txn_id = 'T4' AND booked_on = '9999-12-31'") == 1)
    }

    /// Found by an independent CSV oracle: a changed second line of a record whose account is unknown
    /// was counted `accepted` and written to the change history of a record the archive never held.
    /// Both lines are pending; the later one is what applies when the account arrives.
    @Test func aChangedRepeatOfAPendingRecordIsPendingWithoutHistory() throws {
        let (_, session) = try Self.database()
        defer { session.close() }
        let first = try Self.ingest(session, [Self.balance("A1", "2026-03-31", "1.00"), Self.balance("A1", "2026-03-31", "2.00"),
                                              Self.transaction("T1", account: "A1", amount: "-1.00"),
                                              Self.transaction("T1", account: "A1", amount: "-2.00"),
                                              Self.balance("A1", "2026-03-30", "3.00"), Self.balance("A1", "2026-03-30", "3.00")])
        #expect(first.accepted == 0 && first.pending == 5 && first.unchanged == 1, "\(first)")
        #expect(try Self.count(session, "SELECT count(*) FROM archive_changes") == 0)
        #expect(try Self.count(session, "SELECT count(*) FROM pending_records") == 3)
        let second = try Self.ingest(session, [Self.customer("C1"), Self.account("A1", customer: "C1")])
        #expect(second.appliedPending == 3)
        #expect(try Self.count(session, "SELECT balance_fen FROM balances WHERE as_of = '2026-03-31'") == 200)
        #expect(try Self.count(session, "SELECT amount_fen FROM transactions WHERE txn_id = 'T1'") == -200)
    }

    @Test func aRecordForAnUnknownAccountWaitsThenApplies() throws {
        let (_, session) = try Self.database()
        defer { session.close() }
        let first = try Self.ingest(session, [Self.balance("A1", "2026-03-31", "7.00"), Self.transaction("T1", account: "A1")])
        #expect(first.pending == 2 && first.accepted == 0)
        #expect(try Self.count(session, "SELECT count(*) FROM pending_records") == 2)
        #expect(try Self.count(session, "SELECT count(*) FROM balances") == 0)
        let second = try Self.ingest(session, [Self.customer("C1"), Self.account("A1", customer: "C1")])
        #expect(second.appliedPending == 2)
        #expect(try Self.count(session, "SELECT count(*) FROM pending_records") == 0)
        #expect(try Self.count(session, "SELECT count(*) FROM balances WHERE customer_id = 'C1' AND balance_fen = 700") == 1)
        #expect(try Self.count(session, "SELECT count(*) FROM transactions WHERE customer_id = 'C1'") == 1)
    }

    @Test func withinAFeedTheLaterLineWinsAndIdenticalIsUnchanged() throws {
        let (_, session) = try Self.database()
        defer { session.close() }
        let result = try Self.ingest(session, [
            Self.customer("C1", risk: "C2"),   // line 1: new → accepted
            Self.customer("C1", risk: "C2"),   // line 2: identical to line 1 → unchanged
            Self.customer("C1", risk: "C5"),   // line 3: differs → accepted, change recorded
            Self.customer("C2"),               // line 4: new
        ])
        #expect(result.accepted == 3)
        #expect(result.unchanged == 1)
        #expect(try Self.count(session, "SELECT count(*) FROM customers WHERE customer_id = 'C1' AND risk_level = 'C5'") == 1)
        let change = try session.query(PostgresQuery("SELECT line_number, changed_fields FROM archive_changes")).map {
            (try $0.decode(Int.self, at: 0), try $0.decode([String].self, at: 1))
        }
        #expect(change.count == 1)
        #expect(change.first?.0 == 3 && change.first?.1 == ["risk_level"])
    }

    @Test func oneCoalescedJobPerChangedCustomer() throws {
        let (_, session) = try Self.database()
        defer { session.close() }
        var lines: [String] = []
        for c in 0..<10 { lines.append(Self.customer("C\(c)")); lines.append(Self.account("A\(c)", customer: "C\(c)")) }
        for t in 0..<5000 { lines.append(Self.transaction("T\(t)", account: "A\(t % 10)", amount: "\(t).01")) }
        let result = try Self.ingest(session, lines)
        #expect(result.accepted == 5020)
        #expect(result.jobsEnqueued == 10)
        #expect(try Self.count(session, """
            SELECT count(*) FROM tg_jobs WHERE queue = 'scorer' AND kind = 'score_customer' AND unique_key LIKE 'score:C%'
            """) == 10)
    }

    @Test func aFeedThatFailsAsAWholeLeavesNothingBehind() throws {
        let (_, session) = try Self.database()
        defer { session.close() }
        let path = NSTemporaryDirectory() + "customers-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "customer_id,name,name\nC1,x,y\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: IngestFileFailure.self) { try FeedIngestor.ingest(session: session, path: path) }
        #expect(try Self.count(session, "SELECT count(*) FROM customers") == 0)
        #expect(try Self.count(session, "SELECT count(*) FROM ingest_rejects") == 0)
        #expect(try Self.count(session, "SELECT count(*) FROM tg_jobs") == 0)
        #expect(try Self.count(session, "SELECT count(*) FROM ingest_batches WHERE status = 'failed' AND error <> ''") == 1)
        // The session is usable afterwards.
        #expect(try Self.ingest(session, [Self.customer("C1")]).accepted == 1)
    }
}
