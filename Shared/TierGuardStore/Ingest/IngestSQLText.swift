import Foundation
import Postgres

/// The ingest statements kept as files (`Ingest/SQL/<name>.sql`, a package resource), read once on the
/// first use and kept for the life of the process.
///
/// Why files: `deploy/isolation/run.sh` pastes the very same text into the isolation spec
/// `customer-upsert-two-feeds` (`@ingest:<name>@`), so the concurrency the spec proves is that of the
/// SQL ingest runs, byte for byte. The files hold plain SQL only (no comments, no `}`), their trailing
/// newlines dropped, like `JobSQLText`. Only the statements that write `customers` and the apply lock
/// live here; the rest of the apply is generated from `ArchiveTableSpec` (ArchiveApply.swift).
///
/// A missing file is a packaging defect: the process stops naming it rather than ingest without it.
enum IngestSQLText {
    static let folder = SQLResourceFolder(
        Bundle.module.url(forResource: "SQL", withExtension: nil), name: "Ingest/SQL of TierGuardStore")

    /// The text of `Ingest/SQL/<name>.sql`.
    static func statement(_ name: String) -> String { folder.statement(name) }
}

/// The ingest statements read from `Ingest/SQL` (see `IngestSQLText`).
enum IngestSQL {
    /// One feed applies at a time across ingest replicas (`FeedIngestor`), held to the commit.
    static let applyLock = PostgresQuery(unsafeSQL: IngestSQLText.statement("archive_apply_lock"))
    /// Changed customers in place ($1 batch id); changed keys go to `tg_touched`.
    static let customersUpdate = PostgresQuery(unsafeSQL: IngestSQLText.statement("customers_update"))
    /// New customers by anti-join ($1 batch id, $2 probe: false skips the per-row existence check when
    /// classification found no staged key in the archive). Run inside a savepoint.
    static let customersInsert = PostgresQuery(unsafeSQL: IngestSQLText.statement("customers_insert"))
    /// The redo after a unique violation of `customersInsert` (a concurrent writer inserted a key
    /// meanwhile): the same rows with ON CONFLICT DO UPDATE where the content differs ($1 batch id).
    static let customersUpsert = PostgresQuery(unsafeSQL: IngestSQLText.statement("customers_upsert"))
}
