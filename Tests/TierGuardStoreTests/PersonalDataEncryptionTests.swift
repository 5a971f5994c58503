import Foundation
import JobQueue
import PersonalDataVault
import Postgres
import SampleFeed
import TestSupport
import Testing
import TierGuardStore

/// Helpers for tests that look identifiers up by blind index (the plaintext columns are gone, 0006).
enum PIIFixture {
    /// The blind index this test process writes for a phone (the development keys: tests set no key files).
    static func phoneIndex(_ phone: String) -> Data { Data(PersonalDataVault.process.blindIndex(phone, field: .phone)) }
    static func idIndex(_ id: String) -> Data { Data(PersonalDataVault.process.blindIndex(id, field: .idNumber)) }
}

/// Issue 11: identifiers are encrypted before PostgreSQL (Migrations/0006, StagingRowWriter, ArchiveApply),
/// and `tierguardctl customer erase` anonymises a closed customer after retention.
@Suite struct PersonalDataEncryptionTests {
    static func customer(_ id: String, name: String = "张三", idNumber: String, phone: String?, status: String = "active",
                         birth: String = "1949-12-31") -> String {
        let phonePart = phone.map { ",\"phone\":\"\($0)\"" } ?? ""
        return """
            {"type":"customer","customer_id":"\(id)","name":"\(name)","id_type":"resident_id","id_number":"\(idNumber)"\(phonePart),"birth_date":"\(birth)","gender":"M","risk_level":"C3","risk_assessed_on":"2026-01-05","rm_id":"RM1","branch_id":"B1","opened_on":"2020-01-01","status":"\(status)"}
            """
    }

    static func ingest(_ session: PostgresSession, _ lines: [String]) throws -> IngestResult {
        try FeedIngestor.ingest(session: session, bytes: Array((lines.joined(separator: "\n") + "\n").utf8), source: .http)
    }

    @Test func ingestStoresOnlyCiphertextKeyIdAndBlindIndexAndAnUnchangedLineStaysUnchanged() throws {
        let db = try TestDatabase.create(migrations: TierGuardSchema.migrations(), prefix: "pii")
        let s = try db.session(applicationName: "tierguard-ingest")
        defer { s.close() }
        let line = Self.customer("C1", idNumber: "11010519491231002X", phone: "13812345678")
        let rm = #"{"type":"relationship_manager","rm_id":"RM1","name":"李四","branch_id":"B1","mobile":"13912345678","active":true}"#
        let first = try Self.ingest(s, [rm, line])
        #expect(first.accepted == 2)
        let row = try s.query("""
            SELECT id_number_enc, id_number_key_id, id_number_hmac, phone_enc, phone_key_id, phone_hmac FROM customers
            """)[0]
        let vault = PersonalDataVault.process
        let idEnc = try row.decode(Data.self, at: 0), phoneEnc = try row.decode(Data.self, at: 3)
        #expect(try row.decode(String.self, at: 1) == vault.activeKeyId)
        #expect(try row.decode(String.self, at: 4) == vault.activeKeyId)
        #expect(try vault.open(Array(idEnc), field: .idNumber) == "11010519491231002X")
        #expect(try vault.open(Array(phoneEnc), field: .phone) == "13812345678")
        #expect(try row.decode(Data.self, at: 2) == PIIFixture.idIndex("11010519491231002X"))
        #expect(try row.decode(Data.self, at: 5) == PIIFixture.phoneIndex("13812345678"))
        #expect(!idEnc.contains(Data("11010519491231002X".utf8)))
        let mobile = try s.query("SELECT mobile_enc, mobile_hmac FROM relationship_managers")[0]
        #expect(try vault.open(Array(try mobile.decode(Data.self, at: 0)), field: .phone) == "13912345678")
        #expect(try mobile.decode(Data.self, at: 1) == PIIFixture.phoneIndex("13912345678"))
        // Same content again: unchanged, though a new encryption would give other bytes (fresh nonce).
        let again = try Self.ingest(s, [rm, line])
        #expect(again.unchanged == 2 && again.accepted == 0)
        #expect(try s.query("SELECT id_number_enc FROM customers")[0].decode(Data.self, at: 0) == idEnc)
        // A changed ID number is a change of `id_number`, seen through the blind index.
        let changed = try Self.ingest(s, [Self.customer("C1", idNumber: "110105194912310038", phone: "13812345678")])
        #expect(changed.accepted == 1)
        #expect(try s.query("SELECT changed_fields FROM archive_changes ORDER BY id DESC LIMIT 1")[0]
            .decode([String].self, at: 0) == ["id_number"])
        #expect(try vault.open(Array(try s.query("SELECT id_number_enc FROM customers")[0].decode(Data.self, at: 0)),
                               field: .idNumber) == "110105194912310038")
    }

    /// After ingesting the generated sample feed, no column of any table holds a resident ID or a phone of
    /// the feed in plaintext: every text, json and array column is searched as text, every bytea column
    /// for the UTF-8 bytes — refused lines included: `ingest_rejects.raw_text` is masked, the line as received
    /// only sealed (0012), and the sample feed's refused lines do carry identifiers.
    @Test func afterTheSampleFeedNoTableHoldsAPlaintextIdentifier() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pii-scan-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try SampleFeed.write(SampleFeedOptions(customers: 40, days: 62, seed: 11), toDirectory: directory)
        // Lossy: the invalid lines include one that is not UTF-8.
        let feed = String(decoding: try Data(contentsOf: URL(fileURLWithPath: directory + "/feed.ndjson")), as: UTF8.self)
        var needles: Set<String> = []
        for line in feed.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            for key in ["id_number", "phone", "mobile"] {
                if let value = object[key] as? String, value.count >= 11 { needles.insert(value) }
            }
        }
        #expect(needles.count >= 40, "the fixture has identifiers to look for")
        let db = try TestDatabase.create(migrations: TierGuardSchema.migrations(), prefix: "pii")
        let s = try db.session(applicationName: "tierguard-ingest")
        defer { s.close() }
        let result = try FeedIngestor.ingest(session: s, path: directory + "/feed.ndjson")
        #expect(result.accepted > 1000)
        let columns = try s.query("""
            SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
              AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'bytea')
            ORDER BY 1, 2
            """)
        let list = Array(needles).sorted()
        let patterns = list.map { "%\($0)%" }
        var hits: [String] = [], scanned = 0
        for column in columns {
            let table = try column.decode(String.self, at: 0), name = try column.decode(String.self, at: 1)
            let type = try column.decode(String.self, at: 2)
            let quoted = "\"\(table)\".\"\(name)\""
            let sql = type == "bytea"
                ? "SELECT count(*) FROM \"\(table)\" WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) n WHERE position(convert_to(n, 'UTF8') IN \(quoted)) > 0)"
                : "SELECT count(*) FROM \"\(table)\" WHERE \(quoted)::text LIKE ANY ($1::text[])"
            let count = try s.query(PostgresQuery(unsafeSQL: sql).binding(type == "bytea" ? list : patterns))[0].decode(Int.self, at: 0)
            scanned += 1
            if count > 0 { hits.append("\(table).\(name): \(count)") }
        }
        #expect(scanned > 50)
        #expect(hits == [], "plaintext identifiers found")
        let sealedRejects = try s.query(PostgresQuery(
            "SELECT count(*) FROM ingest_rejects WHERE raw_text_enc IS NOT NULL AND raw_text_key_id IS NOT NULL"))[0].decode(Int.self, at: 0)
        #expect(sealedRejects > 0, "the sample feed's refused lines were not sealed")
        // The scan would find one: a plaintext phone put into a bytea and a text column is reported.
        try s.execute(PostgresQuery(unsafeSQL: "CREATE TABLE scan_probe (t text, b bytea)"))
        try s.execute(PostgresQuery("INSERT INTO scan_probe VALUES ('x' || $1 || 'y', convert_to('z' || $1, 'UTF8'))").binding(list[0]))
        #expect(try s.query(PostgresQuery("SELECT count(*) FROM scan_probe WHERE t LIKE ANY ($1::text[])").binding(patterns))[0].decode(Int.self, at: 0) == 1)
        #expect(try s.query(PostgresQuery("""
            SELECT count(*) FROM scan_probe WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) n WHERE position(convert_to(n, 'UTF8') IN b) > 0)
            """).binding(list))[0].decode(Int.self, at: 0) == 1)
    }

    /// `tierguardctl customer erase` as real processes: refused for an active customer, without a reason, and
    /// while the retention period runs; after it (or forced) the personal fields are anonymised, aggregates
    /// stay, one append-only audit row is written; a second run changes nothing; a re-sent feed line cannot
    /// bring the fields back; `customer show` then prints the anonymised row.
    @Test func eraseAnonymisesAClosedCustomerAfterRetentionOnceAndAudited() throws {
        let db = try TestDatabase.create(migrations: TierGuardSchema.migrations(), prefix: "pii")
        let s = try db.session(applicationName: "tierguard-test")
        defer { s.close() }
        let c2 = Self.customer("C2", name: "王五", idNumber: "110105199001010010", phone: "13900000002", status: "closed",
                               birth: "1990-01-01")
        _ = try Self.ingest(s, [
            Self.customer("C1", idNumber: "11010519491231002X", phone: "13812345678"), c2,
            Self.customer("C3", name: "赵六", idNumber: "110105194912310038", phone: "13900000003", status: "closed"),
            #"{"type":"account","account_id":"A2","customer_id":"C2","product":"demand_deposit","currency":"CNY","opened_on":"2020-01-01"}"#,
            #"{"type":"balance","account_id":"A2","as_of":"2021-06-30","balance":"5000.00"}"#,
            #"{"type":"transaction","txn_id":"T2","account_id":"A2","booked_at":"2021-06-30T10:00:00+08:00","amount":"-20.00","category":"withdrawal","channel":"atm"}"#,
        ])
        // C2's record last changed over four years ago; its balance and transaction are from 2021.
        try s.execute("UPDATE customers SET updated_at = now() - interval '4 years' WHERE customer_id = 'C2'")
        let env = ["DATABASE_URL": db.url, "TIERGUARD_OPERATOR": "ops.li"]
        func erase(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
            try ServiceProcess.run("tierguardctl", ["customer", "erase"] + args, environment: env)
        }
        func audit() throws -> [String] {
            try s.query("SELECT customer_id || ' ' || operator || ' ' || reason || ' ' || forced::text FROM customer_erasures ORDER BY id")
                .map { try $0.decode(String.self, at: 0) }
        }

        let noReason = try erase(["C2"])
        #expect(noReason.status == 64, "\(noReason.stderr)")
        let active = try erase(["C1", "--reason", "closure request"])
        #expect(active.status == 1 && active.stdout.contains("is active, not closed"), "\(active.stdout)")
        let running = try erase(["C3", "--reason", "closure request"])
        #expect(running.status == 1 && running.stdout.contains("runs until"), "\(running.stdout)")
        #expect(try audit() == [])

        let erased = try erase(["C2", "--reason", "closure request 7"])
        #expect(erased.status == 0, "\(erased.stdout)\(erased.stderr)")
        #expect(erased.stdout.contains("customer C2 erased") && !erased.stdout.contains("王五"))
        let row = try s.query("""
            SELECT name, id_number_enc IS NULL AND id_number_hmac IS NULL AND id_number_key_id IS NULL
                   AND phone_enc IS NULL AND phone_hmac IS NULL AND phone_key_id IS NULL,
                   gender IS NULL, birth_date::text, erased_at IS NOT NULL, status FROM customers WHERE customer_id = 'C2'
            """)[0]
        #expect(try row.decode(String.self, at: 0) == "已注销")
        #expect(try row.decode(Bool.self, at: 1) && row.decode(Bool.self, at: 2))
        #expect(try row.decode(String.self, at: 3) == "1990-01-01")
        #expect(try row.decode(Bool.self, at: 4))
        #expect(try s.query("SELECT count(*) FROM balances WHERE customer_id = 'C2' AND balance_fen = 500000")[0].decode(Int.self, at: 0) == 1)
        #expect(try s.query("SELECT count(*) FROM transactions WHERE customer_id = 'C2' AND amount_fen = -2000")[0].decode(Int.self, at: 0) == 1)
        #expect(try audit() == ["C2 ops.li closure request 7 false"])

        // Idempotent: nothing changes, no second audit row.
        let again = try erase(["C2", "--reason", "closure request 7"])
        #expect(again.status == 0 && again.stdout.contains("already erased"), "\(again.stdout)")
        #expect(try audit() == ["C2 ops.li closure request 7 false"])

        // A re-sent feed line cannot restore the personal fields.
        _ = try Self.ingest(s, [c2])
        #expect(try s.query("SELECT name, phone_enc IS NULL, birth_date::text FROM customers WHERE customer_id = 'C2'")[0]
            .decode(String.self, at: 0) == "已注销")
        #expect(try s.query(PostgresQuery("SELECT count(*) FROM customers WHERE phone_hmac = $1").binding(PIIFixture.phoneIndex("13900000002")))[0]
            .decode(Int.self, at: 0) == 0)

        // Forced before the retention period ends: allowed, recorded as forced.
        let forced = try erase(["C3", "--reason", "court order", "--force-before-retention"])
        #expect(forced.status == 0 && forced.stdout.contains("forced"), "\(forced.stdout)")
        #expect(try audit() == ["C2 ops.li closure request 7 false", "C3 ops.li court order true"])

        // The audit is append-only, even for the owner.
        #expect(SecurityTests.sqlState { try s.execute("UPDATE customer_erasures SET reason = 'x'") } == "42501")
        #expect(SecurityTests.sqlState { try s.execute("DELETE FROM customer_erasures") } == "42501")

        // customer show: identifiers masked by default, decrypted with --unmask (audited), absent when erased.
        let masked = try ServiceProcess.run("tierguardctl", ["customer", "show", "C1"], environment: env)
        #expect(masked.status == 0, "\(masked.stderr)")
        #expect(masked.stdout.contains("110105********002X") && masked.stdout.contains("138****5678"))
        #expect(!masked.stdout.contains("11010519491231002X") && !masked.stdout.contains("13812345678"))
        let shown = try ServiceProcess.run("tierguardctl", ["customer", "show", "C1", "--unmask", "--reason", "KYC check"], environment: env)
        #expect(shown.stdout.contains("11010519491231002X") && shown.stdout.contains("13812345678"), "\(shown.stdout)")
        let gone = try ServiceProcess.run("tierguardctl", ["customer", "show", "C2", "--json"], environment: env)
        #expect(gone.stdout.contains("已注销") || gone.stdout.contains("已*"), "\(gone.stdout)")
    }

    /// A service in production refuses to start without the key files (exit 78, before touching the
    /// database), and with the development key id in them; the error names the variables, never a key.
    @Test func aServiceInProductionRefusesToStartWithoutRealKeys() throws {
        let base = ["DATABASE_URL": "postgresql://127.0.0.1:1/none", "TIERGUARD_ENVIRONMENT": "production",
                    "TIERGUARD_HTTP_PORT": "0"]
        let missing = try ServiceProcess.run("tierguard-ingest", ["load", "-"], environment: base, timeout: 30)
        #expect(missing.status == 78, "\(missing.stdout)\(missing.stderr)")
        #expect((missing.stdout + missing.stderr).contains("TIERGUARD_PII_KEYS_FILE"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pii-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let secret = Data((0..<32).map { UInt8($0 * 3 % 256) }).base64EncodedString()
        try "dev-insecure:\(secret)\n".write(to: directory.appendingPathComponent("keys"), atomically: true, encoding: .utf8)
        try "\(secret)\n".write(to: directory.appendingPathComponent("index"), atomically: true, encoding: .utf8)
        let devKey = try ServiceProcess.run("tierguard-ingest", ["load", "-"], environment: base.merging([
            "TIERGUARD_PII_KEYS_FILE": directory.appendingPathComponent("keys").path,
            "TIERGUARD_PII_INDEX_KEY_FILE": directory.appendingPathComponent("index").path]) { $1 }, timeout: 30)
        #expect(devKey.status == 78, "\(devKey.stdout)\(devKey.stderr)")
        #expect((devKey.stdout + devKey.stderr).contains("dev-insecure is refused in production"))
        #expect(!(devKey.stdout + devKey.stderr).contains(secret))
    }
}
