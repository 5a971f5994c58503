import Foundation

/// One versioned schema change: a `.sql` file named `NNNN_name.sql`.
public struct Migration: Sendable, Hashable {
    /// Which module's schema this belongs to (`jobqueue`, `tierguard`); versions count per component.
    public var component: String
    public var version: Int
    public var name: String
    public var sql: String

    public init(component: String, version: Int, name: String, sql: String) {
        self.component = component; self.version = version; self.name = name; self.sql = sql
    }

    /// Reads every `NNNN_name.sql` in `directory`, in version order.
    /// Throws when a file name does not follow the pattern or two files share a version.
    public static func load(component: String, directory: URL) throws -> [Migration] {
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
        var migrations: [Migration] = []
        for file in files {
            let base = file.deletingPathExtension().lastPathComponent
            let parts = base.split(separator: "_", maxSplits: 1)
            guard parts.count == 2, let version = Int(parts[0]) else {
                throw MigrationError(message: "migration file \(file.lastPathComponent) must be named NNNN_name.sql")
            }
            let sql = try String(contentsOf: file, encoding: .utf8)
            migrations.append(Migration(component: component, version: version, name: String(parts[1]), sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (a, b) in zip(migrations, migrations.dropFirst()) where a.version == b.version {
            throw MigrationError(message: "two \(component) migrations share version \(a.version): \(a.name), \(b.name)")
        }
        return migrations
    }
}

public struct MigrationError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// Applies migrations in order, each in its own transaction, under a PostgreSQL advisory lock.
///
/// Several services starting at the same moment all call `migrate`; the advisory lock makes them
/// queue, and each one that gets the lock applies only what is still missing, so every migration
/// is applied exactly once. Applied migrations are recorded in `schema_migrations` with a SHA-256
/// checksum (computed by the server); a file whose checksum changed after it was applied is an
/// error, because the database no longer matches the code.
public enum Migrator {
    /// `hashtext('tierguard.migrate')`-style constant key for `pg_advisory_lock`.
    static let lockKey: Int64 = 0x5447_4D49_4752_4154 // "TGMIGRAT"

    public struct Applied: Sendable, Hashable {
        public var component: String
        public var version: Int
        public var name: String
    }

    /// Applies what is missing; returns what this call applied.
    @discardableResult
    public static func migrate(_ session: PostgresSession, _ migrations: [Migration]) throws -> [Applied] {
        try session.execute(PostgresQuery("SELECT pg_advisory_lock($1)").binding(lockKey))
        defer { _ = try? session.execute(PostgresQuery("SELECT pg_advisory_unlock($1)").binding(lockKey)) }
        try session.execute(PostgresQuery("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                component text NOT NULL,
                version integer NOT NULL,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (component, version)
            )
            """))
        var known: [String: (name: String, checksum: String)] = [:]
        for row in try session.query(PostgresQuery("SELECT component, version, name, checksum FROM schema_migrations")) {
            known["\(try row.decode(String.self, at: 0))/\(try row.decode(Int.self, at: 1))"] =
                (try row.decode(String.self, at: 2), try row.decode(String.self, at: 3))
        }
        var applied: [Applied] = []
        for migration in migrations {
            let checksum = try session.query(PostgresQuery(
                "SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')").binding(migration.sql))[0].decode(String.self, at: 0)
            let key = "\(migration.component)/\(migration.version)"
            if let existing = known[key] {
                guard existing.checksum == checksum else {
                    throw MigrationError(message: """
                        migration \(migration.component) \(migration.version)_\(migration.name) was changed after it \
                        was applied (checksum \(existing.checksum.prefix(12))… in the database, \(checksum.prefix(12))… \
                        in the code); add a new migration instead of editing an applied one
                        """)
                }
                continue
            }
            try session.withTransaction { tx in
                do {
                    try tx.executeScript(unsafeSQL: migration.sql, name: "\(migration.component) \(migration.version)_\(migration.name)")
                } catch let error as PostgresError {
                    throw MigrationError(message: "migration \(migration.component) \(migration.version)_\(migration.name) failed: \(error.debugDescription)")
                }
                try tx.execute(PostgresQuery(
                    "INSERT INTO schema_migrations (component, version, name, checksum) VALUES ($1, $2, $3, $4)")
                    .binding(migration.component, migration.version, migration.name, checksum))
            }
            applied.append(Applied(component: migration.component, version: migration.version, name: migration.name))
        }
        return applied
    }

    /// Migrations in the code that the database has not applied (for `/readyz`).
    public static func pending(_ session: PostgresSession, _ migrations: [Migration]) throws -> [Migration] {
        let exists = try session.query(PostgresQuery("SELECT to_regclass('schema_migrations') IS NOT NULL"))[0].decode(Bool.self, at: 0)
        guard exists else { return migrations }
        var known = Set<String>()
        for row in try session.query(PostgresQuery("SELECT component, version FROM schema_migrations")) {
            known.insert("\(try row.decode(String.self, at: 0))/\(try row.decode(Int.self, at: 1))")
        }
        return migrations.filter { !known.contains("\($0.component)/\($0.version)") }
    }
}
