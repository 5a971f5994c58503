import Foundation
import Postgres
import TestSupport
import Testing

@Suite struct TypeRoundTripTests {
    struct Payload: Codable, Equatable { var name: String; var amounts: [Int64] }

    @Test func everySupportedTypeRoundTripsIncludingNulls() throws {
        let db = try TestDatabase.create()
        let s = try db.session()
        defer { s.close() }
        try s.execute("""
            CREATE TABLE t (i integer, b bigint, f boolean, s text, d double precision, ts timestamptz,
                            day date, bin bytea, j jsonb, ai bigint[], at text[])
            """)
        let when = Date(timeIntervalSince1970: 1_764_662_400.123456)
        let payload = Payload(name: "欧阳娜娜", amounts: [1, -2, 9_000_000_000_000_000])
        try s.execute(PostgresQuery("INSERT INTO t VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10::bigint[],$11::text[])").binding(
            42, Int64.min, true, "中文 'quoted' \"x\" \\", 3.25, when, PostgresDate(year: 2024, month: 2, day: 29),
            Data([0, 1, 2, 255]), PostgresJSON(payload), [Int64(1), -5, Int64.max], ["a b", "中\"文", "NULL", ""]))
        try s.execute(PostgresQuery("INSERT INTO t VALUES (NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL)"))
        let rows = try s.query("SELECT * FROM t ORDER BY i NULLS LAST")
        let r = rows[0]
        #expect(try r.decode(Int.self, column: "i") == 42)
        #expect(try r.decode(Int64.self, column: "b") == Int64.min)
        #expect(try r.decode(Bool.self, column: "f") == true)
        #expect(try r.decode(String.self, column: "s") == "中文 'quoted' \"x\" \\")
        #expect(try r.decode(Double.self, column: "d") == 3.25)
        let decoded = try r.decode(Date.self, column: "ts")
        #expect(abs(decoded.timeIntervalSince1970 - when.timeIntervalSince1970) < 0.000_001)
        #expect(try r.decode(PostgresDate.self, column: "day") == PostgresDate(year: 2024, month: 2, day: 29))
        #expect(try r.decode(Data.self, column: "bin") == Data([0, 1, 2, 255]))
        #expect(try r.decode(PostgresJSON<Payload>.self, column: "j").value == payload)
        #expect(try r.decode([Int64].self, column: "ai") == [1, -5, Int64.max])
        #expect(try r.decode([String].self, column: "at") == ["a b", "中\"文", "NULL", ""])
        let n = rows[1]
        #expect(try n.decode(Int?.self, column: "i") == nil)
        #expect(try n.decode(String?.self, column: "s") == nil)
        #expect(try n.decode(Date?.self, column: "ts") == nil)
        #expect(try n.decode(PostgresDate?.self, column: "day") == nil)
        #expect(try n.decode(Data?.self, column: "bin") == nil)
        #expect(try n.decode([Int64]?.self, column: "ai") == nil)
    }

    @Test func aTenMegabyteByteaRoundTrips() throws {
        let db = try TestDatabase.create()
        let s = try db.session()
        defer { s.close() }
        var generator = SystemRandomNumberGenerator()
        let blob = Data((0..<10_000_000).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let back = try s.query(PostgresQuery("SELECT $1::bytea").binding(blob))[0].decode(Data.self, at: 0)
        #expect(back == blob)
    }

    @Test func nullInANonOptionalNamesTheColumn() throws {
        let db = try TestDatabase.create()
        let s = try db.session()
        defer { s.close() }
        let row = try s.query("SELECT NULL::bigint AS amount_fen, 'x'::text AS label")[0]
        do {
            _ = try row.decode(Int64.self, column: "amount_fen")
            Issue.record("NULL decoded as a non-optional")
        } catch let error as PostgresDecodingError {
            #expect(error.code == .unexpectedNull)
            #expect(error.description.contains("amount_fen"))
            #expect(error.description.contains("Int64"))
        }
        do {
            _ = try row.decode(Int64.self, column: "label")
            Issue.record("text decoded as Int64")
        } catch let error as PostgresDecodingError {
            #expect(error.code == .typeMismatch)
            #expect(error.description.contains("label") && error.description.contains("text"))
        }
    }
}
