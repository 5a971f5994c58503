import FeedContract
import Postgres

/// How one record type maps from its staging partition onto its archive table.
///
/// Only constant identifiers are spliced into the SQL built from these specs; values are always bound.
struct ArchiveTableSpec: Sendable {
    var type: FeedRecordType
    var table: String
    /// Staging partition holding this type's rows.
    var staging: String
    /// (archive column, staging column, contract field name) of the natural key.
    var keys: [(String, String, String)]
    /// (archive column, staging column, contract field name) of the rest of the content.
    var content: [(String, String, String)]
    /// Staging column of the account the record hangs on (balances, transactions): the record waits in
    /// `pending_records` while that account is not in the archive.
    var accountColumn: String?
    /// SQL for the record's customer given the staging alias `s` (and `acc` for the account join).
    var customerExpression: String
    /// (archive column, staging column) written with the content but never compared: the sealed
    /// identifiers and their key ids (a fresh GCM nonce per write makes ciphertext differ for equal
    /// values). Their blind indexes (`*_hmac`) are in `content` and carry the change detection.
    var stored: [(String, String)] = []

    var isPendable: Bool { accountColumn != nil }

    /// `LEFT JOIN accounts acc` on the staged row `s`'s account (empty for a type without one), and the
    /// condition that the account is in the archive (always true without one).
    var accountJoin: String { accountColumn.map { "LEFT JOIN accounts acc ON acc.account_id = s.\($0)" } ?? "" }
    var accountKnown: String { accountColumn == nil ? "true" : "acc.account_id IS NOT NULL" }

    /// The archive table's primary key, the target of `ON CONFLICT`: the natural key, except for the
    /// month-partitioned transactions, whose key must include the partition column (0010 migration).
    var conflictKeys: [String] { type == .transaction ? ["txn_id", "booked_on"] : keys.map(\.0) }

    func keyExpression(_ alias: String) -> String {
        keys.map { "\(alias).\($0.1)::text" }.joined(separator: " || ' ' || ")
    }

    func keyMatch(archive: String, staging: String) -> String {
        keys.map { "\(archive).\($0.0) = \(staging).\($0.1)" }.joined(separator: " AND ")
    }

    /// `array_remove(ARRAY[CASE WHEN old.x IS DISTINCT FROM new.x THEN 'x' END, …], NULL)`.
    func changedFields(old: String, oldIsStaging: Bool, new: String) -> String {
        let parts = content.filter { $0.0 != "booked_on" }.map { column in
            "CASE WHEN \(old).\(oldIsStaging ? column.1 : column.0) IS DISTINCT FROM \(new).\(column.1) THEN '\(column.2)' END"
        }
        return "array_remove(ARRAY[\(parts.joined(separator: ", "))]::text[], NULL)"
    }

    static let customers = ArchiveTableSpec(
        type: .customer, table: "customers", staging: "tg_stg_c",
        keys: [("customer_id", "c_customer_id", "customer_id")],
        content: [("name", "c_name", "name"), ("id_type", "c_id_type", "id_type"),
                  ("id_number_hmac", "c_id_number_hmac", "id_number"), ("phone_hmac", "c_phone_hmac", "phone"),
                  ("birth_date", "c_birth_date", "birth_date"), ("gender", "c_gender", "gender"),
                  ("risk_level", "c_risk_level", "risk_level"), ("risk_assessed_on", "c_risk_assessed_on", "risk_assessed_on"),
                  ("annual_income_fen", "c_annual_income_fen", "annual_income"), ("rm_id", "c_rm_id", "rm_id"),
                  ("branch_id", "c_branch_id", "branch_id"), ("opened_on", "c_opened_on", "opened_on"),
                  ("status", "c_status", "status"), ("marketing_opt_out", "c_marketing_opt_out", "marketing_opt_out")],
        accountColumn: nil, customerExpression: "s.c_customer_id",
        stored: [("id_number_enc", "c_id_number_enc"), ("id_number_key_id", "c_id_number_key_id"),
                 ("phone_enc", "c_phone_enc"), ("phone_key_id", "c_phone_key_id")])

    static let accounts = ArchiveTableSpec(
        type: .account, table: "accounts", staging: "tg_stg_a",
        keys: [("account_id", "a_account_id", "account_id")],
        content: [("customer_id", "a_customer_id", "customer_id"), ("product", "a_product", "product"),
                  ("product_code", "a_product_code", "product_code"), ("currency", "a_currency", "currency"),
                  ("opened_on", "a_opened_on", "opened_on"), ("maturity_on", "a_maturity_on", "maturity_on"),
                  ("closed_on", "a_closed_on", "closed_on")],
        accountColumn: nil, customerExpression: "s.a_customer_id")

    static let balances = ArchiveTableSpec(
        type: .balance, table: "balances", staging: "tg_stg_b",
        keys: [("account_id", "b_account_id", "account_id"), ("as_of", "b_as_of", "as_of")],
        content: [("balance_fen", "b_balance_fen", "balance")],
        accountColumn: "b_account_id", customerExpression: "acc.customer_id")

    static let transactions = ArchiveTableSpec(
        type: .transaction, table: "transactions", staging: "tg_stg_t",
        keys: [("txn_id", "t_txn_id", "txn_id")],
        content: [("account_id", "t_account_id", "account_id"), ("booked_at", "t_booked_at", "booked_at"),
                  ("booked_on", "t_booked_on", "booked_on"), ("amount_fen", "t_amount_fen", "amount"),
                  ("category", "t_category", "category"), ("channel", "t_channel", "channel"),
                  ("counterparty_bank", "t_counterparty_bank", "counterparty_bank"),
                  ("description", "t_description", "description")],
        accountColumn: "t_account_id", customerExpression: "acc.customer_id")

    static let relationshipManagers = ArchiveTableSpec(
        type: .relationshipManager, table: "relationship_managers", staging: "tg_stg_r",
        keys: [("rm_id", "r_rm_id", "rm_id")],
        content: [("name", "r_name", "name"), ("branch_id", "r_branch_id", "branch_id"),
                  ("manager_rm_id", "r_manager_rm_id", "manager_rm_id"), ("wecom_userid", "r_wecom_userid", "wecom_userid"),
                  ("email", "r_email", "email"), ("mobile_hmac", "r_mobile_hmac", "mobile"), ("active", "r_active", "active")],
        accountColumn: nil, customerExpression: "NULL::text",
        stored: [("mobile_enc", "r_mobile_enc"), ("mobile_key_id", "r_mobile_key_id")])

    /// Apply order: accounts need nothing, balances and transactions need this feed's accounts applied.
    static let applyOrder: [ArchiveTableSpec] = [customers, relationshipManagers, accounts, balances, transactions]
}

/// Line counts of one record type.
struct ApplyCounts {
    var accepted = 0
    var unchanged = 0
    var pending = 0
    var appliedPending = 0
    /// Staged rows whose key the archive already held (unchanged + changed), and of those the changed:
    /// when both are 0 and no key repeats, the update and the anti-join have nothing to find.
    var matchedArchive = 0
    var changedArchive = 0
}

/// The set-based apply of one staged feed, inside the caller's transaction.
///
/// Classification of each record line (RULES.md "Feed contract"), per natural key with lines L1 < … < Ln
/// in the feed:
/// - L1 is compared with the archive: not there → `accepted` (or `pending` when its account is not in
///   the archive after this feed's accounts were applied); identical content → `unchanged`; different →
///   `accepted`, with an `archive_changes` row naming the changed fields.
/// - Lj (j > 1) is compared with L(j−1): identical → `unchanged`; different → `accepted` with an
///   `archive_changes` row (the later line wins), or `pending` without one when its account is unknown.
/// - Ln's content is what the archive ends up holding (or `pending_records`, when its account is unknown).
/// So accepted + unchanged + pending = record lines, and every change is in the audit trail.
///
/// Where the time goes (`tierguard-bench ingest --phases`, 1,000,000 transactions, 2 cores, PostgreSQL
/// 15, durable defaults, quiet machine, 2026-12-07): stream 2.4–2.7 s, analyze 0.3 s, apply transactions
/// 5.4–5.9 s, jobs 0.2 s, commit 0.03 s. The apply is PostgreSQL's row-at-a-time `INSERT … SELECT` (no
/// multi-insert before 16) into a table with two indexes (the key and the scorer's `(customer_id,
/// booked_on)`); a COPY into the same table measured as slow (index maintenance and WAL dominate), so
/// streaming the anti-join out and back in would not help. The steps that classification proves empty are
/// skipped (`mayRepeatKeys`, `ApplyCounts.matchedArchive`), and when every staged row is new the touched
/// customers come from the staged accounts instead of a `RETURNING` of every row (~1.6 s of 1M rows,
/// a hand psql measurement).
enum ArchiveApply {
    /// `mayRepeatKeys`: false when the stream saw every key of this type once (`RepeatedKeyDetector`);
    /// then the exact repeated-key check is skipped, and so are the steps the classification counts
    /// prove empty (no archive match: no update, no anti-join probe; no unknown account: no pending).
    static func apply(_ spec: ArchiveTableSpec, session: PostgresSession, batchId: Int64,
                      mayRepeatKeys: Bool = true) throws -> ApplyCounts {
        var counts = ApplyCounts()
        let stg = spec.staging
        let keyCols = spec.keys.map { "s.\($0.1)" }.joined(separator: ", ")
        let accJoin = spec.accountJoin, accKnown = spec.accountKnown

        // 1. Keys delivered more than once in this feed: count and record their later lines here, keep Ln.
        var dupCount = 0
        if mayRepeatKeys {
            try session.execute(PostgresQuery(unsafeSQL: """
                CREATE TEMP TABLE tg_dup ON COMMIT DROP AS
                SELECT \(keyCols) FROM \(stg) s GROUP BY \(keyCols) HAVING count(*) > 1
                """))
            dupCount = try session.query(PostgresQuery("SELECT count(*) FROM tg_dup"))
                .ingestFirst.map { try $0.decode(Int.self, at: 0) } ?? 0
        }
        // Every staged row was classified against the archive, and none repeats a key.
        let singleLines = dupCount == 0
        if dupCount > 0 {
            try session.execute(PostgresQuery(unsafeSQL: """
                CREATE TEMP TABLE tg_seq ON COMMIT DROP AS
                SELECT s.line, lag(s.line) OVER w AS prev_line, lead(s.line) OVER w IS NULL AS is_last
                FROM \(stg) s
                WHERE (\(keyCols)) IN (SELECT * FROM tg_dup)
                WINDOW w AS (PARTITION BY \(keyCols) ORDER BY s.line)
                """))
            // Lj against L(j-1). A changed line of a record whose account is still unknown replaces the
            // earlier one in pending_records: pending, and no change history (the archive never held it).
            try session.execute(PostgresQuery(unsafeSQL: """
                INSERT INTO archive_changes (customer_id, record_type, natural_key, batch_id, line_number, changed_fields)
                SELECT \(spec.customerExpression), '\(spec.type.rawValue)', \(spec.keyExpression("s")), $1, s.line,
                       \(spec.changedFields(old: "p", oldIsStaging: true, new: "s"))
                FROM tg_seq q JOIN \(stg) s ON s.line = q.line JOIN \(stg) p ON p.line = q.prev_line \(accJoin)
                WHERE s.h <> p.h AND \(accKnown)
                """).binding(batchId))
            if let row = try session.query(PostgresQuery(unsafeSQL: """
                SELECT count(*) FILTER (WHERE s.h = p.h), count(*) FILTER (WHERE s.h <> p.h AND \(accKnown)),
                       count(*) FILTER (WHERE s.h <> p.h AND NOT (\(accKnown)))
                FROM tg_seq q JOIN \(stg) s ON s.line = q.line JOIN \(stg) p ON p.line = q.prev_line \(accJoin)
                """)).ingestFirst {
                counts.unchanged += try row.decode(Int.self, at: 0)
                counts.accepted += try row.decode(Int.self, at: 1)
                counts.pending += try row.decode(Int.self, at: 2)
            }
            // L1 against the archive.
            try classifyAgainstArchive(spec, session: session, batchId: batchId, counts: &counts,
                                       filter: "s.line IN (SELECT line FROM tg_seq WHERE prev_line IS NULL)")
            // Keep Ln only, marked as counted.
            try session.execute(PostgresQuery(unsafeSQL: """
                DELETE FROM \(stg) s USING tg_seq q WHERE s.line = q.line AND NOT q.is_last
                """))
            try session.execute(PostgresQuery(unsafeSQL: """
                UPDATE \(stg) s SET counted = true FROM tg_seq q WHERE s.line = q.line AND q.is_last
                """))
            try session.execute(PostgresQuery("DROP TABLE tg_seq"))
            try session.execute(PostgresQuery("DROP TABLE tg_dup"))
            try classifyAgainstArchive(spec, session: session, batchId: batchId, counts: &counts, filter: "NOT s.counted")
        } else {
            if mayRepeatKeys { try session.execute(PostgresQuery("DROP TABLE tg_dup")) }
            try classifyAgainstArchive(spec, session: session, batchId: batchId, counts: &counts, filter: "true")
        }

        // 2. Changed records: update in place.
        let contentCols = spec.content.map(\.0) + spec.stored.map(\.0)
        let setList = (spec.content.map { ($0.0, $0.1) } + spec.stored).map { "\($0.0) = s.\($0.1)" }
            + (spec.isPendable ? ["customer_id = acc.customer_id"] : [])
            + ["content_hash = s.h", "last_batch_id = $1"]
            + (spec.isPendable ? [] : ["updated_at = now()"])
        let updateFrom = spec.accountColumn.map { "\(stg) s JOIN accounts acc ON acc.account_id = s.\($0)" } ?? "\(stg) s"
        let touchedCustomer = spec.type == .relationshipManager ? nil : "customer_id"
        let update = """
            UPDATE \(spec.table) a SET \(setList.joined(separator: ", "))
            FROM \(updateFrom)
            WHERE \(spec.keyMatch(archive: "a", staging: "s")) AND a.content_hash <> s.h
            """
        if singleLines && counts.changedArchive == 0 {
            // Nothing staged differs from what the archive holds.
        } else if spec.type == .customer {
            try session.execute(IngestSQL.customersUpdate.binding(batchId))
        } else if let touchedCustomer {
            try session.execute(PostgresQuery(unsafeSQL: """
                WITH u AS (\(update) RETURNING a.\(touchedCustomer) AS customer_id)
                INSERT INTO tg_touched SELECT DISTINCT customer_id FROM u
                """).binding(batchId))
        } else {
            try session.execute(PostgresQuery(unsafeSQL: update).binding(batchId))
        }

        // 3. New records: anti-join insert in a savepoint; redo with ON CONFLICT only if a concurrent
        //    feed inserted one of the keys meanwhile (PERFORMANCE-NOTES: the anti-join is ~2x faster).
        let insertCols = spec.keys.map(\.0) + contentCols + (spec.isPendable ? ["customer_id"] : [])
            + ["content_hash", "first_batch_id", "last_batch_id"]
        let selectCols = spec.keys.map { "s.\($0.1)" } + spec.content.map { "s.\($0.1)" } + spec.stored.map { "s.\($0.1)" }
            + (spec.isPendable ? ["acc.customer_id"] : []) + ["s.h", "$1", "$1"]
        let insertFrom = spec.accountColumn.map { "\(stg) s JOIN accounts acc ON acc.account_id = s.\($0)" } ?? "\(stg) s"
        // No staged key was in the archive at classification: skip the per-row probe (a concurrent
        // feed inserting one meanwhile still ends in the unique violation and the ON CONFLICT redo).
        let probe = !(singleLines && counts.matchedArchive == 0)
        let notExists = probe
            ? "NOT EXISTS (SELECT 1 FROM \(spec.table) a WHERE \(spec.keyMatch(archive: "a", staging: "s")))" : "true"
        // Every staged row whose account is known becomes a new archive row (no key repeats, none was in
        // the archive): the customers it touches are those of the staged accounts, found from their few
        // distinct ids instead of a `RETURNING` of every inserted row.
        let touchedFromAccounts = !probe && spec.accountColumn != nil
        func insertSQL(onConflict: Bool) -> String {
            let conflict = onConflict ? """
                 ON CONFLICT (\(spec.conflictKeys.joined(separator: ", "))) DO UPDATE SET
                 \((contentCols.filter { !spec.conflictKeys.contains($0) } + (spec.isPendable ? ["customer_id"] : [])
                    + ["content_hash"]).map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")),
                 last_batch_id = EXCLUDED.last_batch_id
                 WHERE \(spec.table).content_hash <> EXCLUDED.content_hash
                """ : ""
            let insert = """
                INSERT INTO \(spec.table) (\(insertCols.joined(separator: ", ")))
                SELECT \(selectCols.joined(separator: ", ")) FROM \(insertFrom) WHERE \(onConflict ? "true" : notExists)\(conflict)
                """
            guard let touchedCustomer else { return insert }
            if touchedFromAccounts && !onConflict { return insert }
            return """
                WITH i AS (\(insert) RETURNING \(touchedCustomer) AS customer_id)
                INSERT INTO tg_touched SELECT DISTINCT customer_id FROM i
                """
        }
        // Customers: the same statements as files (`IngestSQL`), shared with the isolation spec
        // customer-upsert-two-feeds; the generator above is not used for them.
        let insert = spec.type == .customer ? IngestSQL.customersInsert.binding(batchId, probe)
            : PostgresQuery(unsafeSQL: insertSQL(onConflict: false)).binding(batchId)
        let redo = spec.type == .customer ? IngestSQL.customersUpsert.binding(batchId)
            : PostgresQuery(unsafeSQL: insertSQL(onConflict: true)).binding(batchId)
        do {
            _ = try session.withTransaction { s in
                try s.execute(insert)
                if touchedFromAccounts, let accountColumn = spec.accountColumn {
                    try s.execute(PostgresQuery(unsafeSQL: """
                        INSERT INTO tg_touched SELECT DISTINCT acc.customer_id
                        FROM (SELECT DISTINCT s.\(accountColumn) AS account_id FROM \(stg) s) d
                        JOIN accounts acc ON acc.account_id = d.account_id
                        """))
                }
            }
        } catch let error as PostgresError where error.isUniqueViolation {
            try session.execute(redo)
        }

        guard let accountColumn = spec.accountColumn else { return counts }

        // 4. Records of this feed whose account is unknown wait in pending_records (later line wins);
        //    pending rows of keys this feed applied are gone.
        let anyUnknownAccount = !(singleLines && counts.pending == 0)
        let pendingCols = spec.type == .balance
            ? ["as_of", "balance_fen"] : ["txn_id", "booked_at", "booked_on", "amount_fen", "category", "channel",
                                         "counterparty_bank", "description"]
        let pendingSelect = spec.type == .balance
            ? ["s.b_as_of", "s.b_balance_fen"] : ["s.t_txn_id", "s.t_booked_at", "s.t_booked_on", "s.t_amount_fen", "s.t_category",
                                                   "s.t_channel", "s.t_counterparty_bank", "s.t_description"]
        if anyUnknownAccount { try session.execute(PostgresQuery(unsafeSQL: """
            INSERT INTO pending_records (record_type, natural_key, account_id, batch_id, line_number, first_batch_id,
                                         content_hash, \(pendingCols.joined(separator: ", ")))
            SELECT '\(spec.type.rawValue)', \(spec.keyExpression("s")), s.\(accountColumn), $1, s.line, $1, s.h,
                   \(pendingSelect.joined(separator: ", "))
            FROM \(stg) s WHERE NOT EXISTS (SELECT 1 FROM accounts acc WHERE acc.account_id = s.\(accountColumn))
            ON CONFLICT (record_type, natural_key) DO UPDATE SET
                account_id = EXCLUDED.account_id, batch_id = EXCLUDED.batch_id, line_number = EXCLUDED.line_number,
                content_hash = EXCLUDED.content_hash,
                \(pendingCols.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", "))
            WHERE pending_records.content_hash <> EXCLUDED.content_hash
            """).binding(batchId)) }
        let anyPending = try session.query(PostgresQuery(
            "SELECT EXISTS (SELECT 1 FROM pending_records WHERE record_type = $1)")
            .binding(spec.type.rawValue)).ingestFirst.map { try $0.decode(Bool.self, at: 0) } ?? false
        guard anyPending else { return counts }
        try session.execute(PostgresQuery(unsafeSQL: """
            DELETE FROM pending_records p USING \(stg) s JOIN accounts acc ON acc.account_id = s.\(accountColumn)
            WHERE p.record_type = '\(spec.type.rawValue)' AND p.natural_key = \(spec.keyExpression("s"))
            """))

        // 5. Earlier feeds' pending records whose account is now in the archive: apply and forget them.
        let archiveCols = spec.type == .balance
            ? ["account_id", "as_of", "balance_fen"]
            : ["txn_id", "account_id", "booked_at", "booked_on", "amount_fen", "category", "channel", "counterparty_bank", "description"]
        let updatable = archiveCols.filter { !spec.conflictKeys.contains($0) } + ["customer_id", "content_hash"]
        let applied = try session.query(PostgresQuery(unsafeSQL: """
            WITH moved AS (
                DELETE FROM pending_records p
                WHERE p.record_type = '\(spec.type.rawValue)'
                  AND EXISTS (SELECT 1 FROM accounts acc WHERE acc.account_id = p.account_id)
                RETURNING p.*),
            ins AS (
                INSERT INTO \(spec.table) (\(archiveCols.joined(separator: ", ")), customer_id, content_hash, first_batch_id, last_batch_id)
                SELECT \(archiveCols.map { "m.\($0)" }.joined(separator: ", ")), acc.customer_id, m.content_hash, $1, $1
                FROM moved m JOIN accounts acc ON acc.account_id = m.account_id
                ON CONFLICT (\(spec.conflictKeys.joined(separator: ", "))) DO UPDATE SET
                    \(updatable.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")), last_batch_id = EXCLUDED.last_batch_id
                WHERE \(spec.table).content_hash <> EXCLUDED.content_hash
                RETURNING customer_id),
            t AS (INSERT INTO tg_touched SELECT DISTINCT customer_id FROM ins)
            SELECT count(*) FROM moved
            """).binding(batchId))
        counts.appliedPending = try applied.ingestFirst.map { try $0.decode(Int.self, at: 0) } ?? 0
        return counts
    }

    /// Counts the staged rows matching `filter` against the archive and records their changes.
    private static func classifyAgainstArchive(_ spec: ArchiveTableSpec, session: PostgresSession, batchId: Int64,
                                               counts: inout ApplyCounts, filter: String) throws {
        let stg = spec.staging
        let accJoin = spec.accountJoin, accKnown = spec.accountKnown
        let archiveJoin = "LEFT JOIN \(spec.table) a ON \(spec.keyMatch(archive: "a", staging: "s"))"
        if let row = try session.query(PostgresQuery(unsafeSQL: """
            SELECT count(*) FILTER (WHERE NOT (\(accKnown))),
                   count(*) FILTER (WHERE \(accKnown) AND a.content_hash IS NULL),
                   count(*) FILTER (WHERE \(accKnown) AND a.content_hash = s.h),
                   count(*) FILTER (WHERE \(accKnown) AND a.content_hash <> s.h)
            FROM \(stg) s \(accJoin) \(archiveJoin) WHERE \(filter)
            """)).ingestFirst {
            counts.pending += try row.decode(Int.self, at: 0)
            counts.accepted += try row.decode(Int.self, at: 1)
            let unchanged = try row.decode(Int.self, at: 2)
            counts.unchanged += unchanged
            let changed = try row.decode(Int.self, at: 3)
            counts.accepted += changed
            counts.matchedArchive += unchanged + changed
            counts.changedArchive += changed
            guard changed > 0 else { return }
        }
        try session.execute(PostgresQuery(unsafeSQL: """
            INSERT INTO archive_changes (customer_id, record_type, natural_key, batch_id, line_number, changed_fields)
            SELECT \(spec.customerExpression), '\(spec.type.rawValue)', \(spec.keyExpression("s")), $1, s.line,
                   \(spec.changedFields(old: "a", oldIsStaging: false, new: "s"))
            FROM \(stg) s \(accJoin) JOIN \(spec.table) a ON \(spec.keyMatch(archive: "a", staging: "s"))
            WHERE \(filter) AND \(accKnown) AND a.content_hash <> s.h
            """).binding(batchId))
    }
}

extension PostgresRows {
    /// The first row, or nil when the result is empty.
    var ingestFirst: PostgresRow? { count > 0 ? self[0] : nil }
}
