import FeedContract
import Foundation
import Postgres
import TestSupport
import Testing
import TierGuardStore

/// A refused CSV line still says whose it is (`ingest_rejects.customer_id`, `natural_key`), as an
/// NDJSON line does: from its cells when they line up with the header.
@Suite struct IngestRejectKeysTests {
    static func rejects(_ session: PostgresSession, _ batch: Int64) throws -> [String] {
        try session.query(PostgresQuery("""
            SELECT line_number || '|' || coalesce(customer_id, '-') || '|' || coalesce(natural_key, '-')
            FROM ingest_rejects WHERE batch_id = $1 ORDER BY line_number
            """).binding(batch)).map { try $0.decode(String.self, at: 0) }
    }

    @Test func csvRejectsNameTheirCustomerAndKey() throws {
        let (_, session) = try IngestTests.database()
        defer { session.close() }
        _ = try IngestTests.ingest(session, [IngestTests.customer("C1"), IngestTests.account("A1", customer: "C1")])

        let transactions = """
            txn_id,account_id,booked_at,amount,category,channel
            T1,A1,2026-03-31T10:00:00+08:00,-5.00,withdrawal,atm
            T2,A1,2026-03-31T10:00:00+08:00,-5.001,withdrawal,atm
            T3,A1,"2026-03-31T10:00:00+08:00"x,-5.00,withdrawal,atm
            T4,A1,2026-03-31,-5.00,withdrawal
            """
        let txnBatch = try Self.ingestCSV(session, "transactions", transactions)
        // Line 3: bad amount, key and (through the account) customer known. Line 4: the fields do not
        // split, so nothing is guessed. Line 5: five cells for six columns: nothing is guessed either.
        #expect(try Self.rejects(session, txnBatch) == ["3|C1|T2", "4|-|-", "5|-|-"])

        let balances = """
            account_id,as_of,balance
            A1,2026-03-31,12.345
            """
        #expect(try Self.rejects(session, try Self.ingestCSV(session, "balances", balances)) == ["2|C1|A1 2026-03-31"])

        let customers = """
            customer_id,name,id_type,id_number,risk_level,risk_assessed_on,rm_id,branch_id,opened_on,status
            C9,王五,passport,E12345,C7,2026-01-05,RM1,B1,2020-01-01,active
            bad id!,王五,passport,E12345,C3,2026-01-05,RM1,B1,2020-01-01,active
            """
        // A customer_id that breaks the contract is not copied (nor is it a key).
        #expect(try Self.rejects(session, try Self.ingestCSV(session, "customers", customers)) == ["2|C9|C9", "3|-|-"])
    }

    /// "Every batch is recorded": a file whose name tells no format is a failed batch with the reason,
    /// like any other whole-file failure (found by an independent oracle: it left no batch row).
    @Test func aFileOfUnknownFormatIsAFailedBatch() throws {
        let (_, session) = try IngestTests.database()
        defer { session.close() }
        let path = NSTemporaryDirectory() + "BALANCES-\(UUID().uuidString).CSV"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "account_id,as_of,balance\nA1,2026-03-31,1.00\n".write(toFile: path, atomically: true, encoding: .utf8)
        let failure = try #require(throws: IngestFileFailure.self) { try FeedIngestor.ingest(session: session, path: path) }
        #expect(failure.batchId != nil && failure.message.contains("cannot tell the format"))
        let row = try session.query(PostgresQuery("SELECT status, format, error FROM ingest_batches"))
        #expect(row.count == 1)
        #expect(try row[0].decode(String.self, at: 0) == "failed" && row[0].decode(String.self, at: 1) == "unknown")
        #expect(try row[0].decode(String.self, at: 2).contains("cannot tell the format"))
    }

    static func ingestCSV(_ session: PostgresSession, _ kind: String, _ text: String) throws -> Int64 {
        let path = NSTemporaryDirectory() + "\(kind)-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try (text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return try FeedIngestor.ingest(session: session, path: path).batchId
    }
}
