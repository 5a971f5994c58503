import Foundation
import Postgres
import TestSupport
import Testing

@Suite struct TransactionTests {
    struct Boom: Error {}

    @Test func rollsBackWhenBodyThrows() throws {
        let db = try TestDatabase.create()
        let s = try db.session()
        defer { s.close() }
        try s.execute("CREATE TABLE t (v int)")
        #expect(throws: Boom.self) {
            try s.withTransaction { tx in
                try tx.execute(PostgresQuery("INSERT INTO t VALUES (1)"))
                throw Boom()
            }
        }
        #expect(try s.query("SELECT count(*) FROM t")[0].decode(Int.self, at: 0) == 0)
        #expect(!s.isInTransaction)
    }

    @Test func commitsWhenBodyReturns() throws {
        let db = try TestDatabase.create()
        let s = try db.session()
        defer { s.close() }
        try s.execute("CREATE TABLE t (v int)")
        let value = try s.withTransaction { tx in
            try tx.execute(PostgresQuery("INSERT INTO t VALUES (7)"))
            return 7
        }
        #expect(value == 7)
        let other = try db.session()
        defer { other.close() }
        #expect(try other.query("SELECT sum(v) FROM t")[0].decode(Int.self, at: 0) == 7)
    }

    @Test func aSavepointRollsBackOnlyTheInnerWork() throws {
        let db = try TestDatabase.create()
        let s = try db.session()
        defer { s.close() }
        try s.execute("CREATE TABLE t (v int PRIMARY KEY)")
        try s.withTransaction { tx in
            try tx.execute(PostgresQuery("INSERT INTO t VALUES (1)"))
            do {
                try tx.withTransaction { inner in
                    try inner.execute(PostgresQuery("INSERT INTO t VALUES (2)"))
                    try inner.execute(PostgresQuery("INSERT INTO t VALUES (1)")) // unique violation
                }
            } catch let error as PostgresError where error.isUniqueViolation {}
            try tx.execute(PostgresQuery("INSERT INTO t VALUES (3)"))
        }
        let values = try s.query("SELECT v FROM t ORDER BY v").map { try $0.decode(Int.self, at: 0) }
        #expect(values == [1, 3])
    }

    @Test func theAsyncConnectionRunsTransactionsOnItsOwnThread() async throws {
        let db = try TestDatabase.create()
        let connection = try await db.connection()
        try await connection.execute("CREATE TABLE t (v int)")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<20 {
                group.addTask {
                    try await connection.withTransaction { tx in
                        try tx.execute(PostgresQuery("INSERT INTO t VALUES ($1)").binding(i))
                        try tx.execute(PostgresQuery("INSERT INTO t VALUES ($1)").binding(i + 100))
                    }
                }
            }
            try await group.waitForAll()
        }
        let count = try await connection.query("SELECT count(*) FROM t") { try $0.decode(Int.self, at: 0) }
        #expect(count == [40])
        await connection.close()
    }
}
