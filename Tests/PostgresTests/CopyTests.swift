import Foundation
import Postgres
import TestSupport
import Testing

@Suite struct CopyTests {
    @Test func copiesAHundredThousandRows() throws {
        let db = try TestDatabase.create()
        let s = try db.session()
        defer { s.close() }
        try s.execute("CREATE TABLE t (id bigint PRIMARY KEY, label text)")
        let count = try s.copyFrom("COPY t (id, label) FROM STDIN") { writer in
            for i in 0..<100_000 { writer.write("\(i)\t客户\(i)\n") }
        }
        #expect(count == 100_000)
        let row = try s.query("SELECT count(*), sum(id)::bigint, max(label) FROM t WHERE label LIKE '客户%'")[0]
        #expect(try row.decode(Int.self, at: 0) == 100_000)
        #expect(try row.decode(Int64.self, at: 1) == 4_999_950_000)
    }

    @Test func aRejectedRowSurfacesTheServerError() throws {
        let db = try TestDatabase.create()
        let s = try db.session()
        defer { s.close() }
        try s.execute("CREATE TABLE t (id bigint PRIMARY KEY)")
        do {
            try s.copyFrom("COPY t FROM STDIN") { writer in
                writer.write("1\n2\nnot-a-number\n4\n")
            }
            Issue.record("bad row accepted")
        } catch let error as PostgresError {
            #expect(error.sqlState == "22P02")
            #expect(error.message.contains("not-a-number") || error.message.contains("invalid input syntax"))
        }
        // Nothing of the failed COPY remains, and the session works.
        #expect(try s.query("SELECT count(*) FROM t")[0].decode(Int.self, at: 0) == 0)
    }
}
