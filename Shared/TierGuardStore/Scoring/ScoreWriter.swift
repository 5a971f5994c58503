import Foundation
import JobQueue
import Postgres
import ServiceKit
import TierGuardModel

/// Persists a batch of scores in the caller's transaction: `customer_score_rows` with their
/// documents in `score_documents` (read together through the view `customer_scores`, migration
/// 0016), the tier history, and the alerts with their notification jobs.
///
/// Set-based whatever the batch size: each kind of row is streamed with COPY into a temporary
/// staging table (`ON COMMIT DELETE ROWS`) and applied with one statement, so one customer and a
/// 1,000-customer chunk of the whole book go through identical SQL.
///
/// Documents (warning, signals, value, recommendations, suitability): each is the model's JSON
/// (`JSONTextWriter`, `JSONEncoder`'s exact bytes) with its own hash, `<kind>_hash`, a 64-bit
/// FNV-1a of that text. A new row reuses the document of the customer's newest row when the
/// hashes are equal, and writes a new `score_documents` row (owned by the customer) otherwise:
/// most documents do not change from one day to the next, and writing every document into every
/// daily row was most of the database's work in the rescore (README "Speed").
///
/// Alerts (one open alert per dedup key, see `CustomerScore.alertConditions`):
/// - a condition with an open alert confirms it (business date and cooldown moved to BD; the payload
///   rewritten only when its hash, `payload_hash` (migration 0018), differs: an unchanged payload is not
///   sent, parsed or compared again);
/// - a condition whose latest alert was resolved but is still inside its cooldown reopens that
///   alert silently — no new alert, no notification (a flapping condition notifies once);
/// - any other condition opens a new alert and enqueues `notify_alert` (queue `notifier`, unique
///   key `alert:<id>`) with `JobEnqueuer.enqueue` in the same transaction;
/// - an open alert whose condition is gone is resolved.
/// Cooldown: `cooldownDays` (7) business days after the last business date the condition held.
///
/// Unchanged scores (`skipUnchanged`, the whole-book path): each row carries `content_hash`, the
/// FNV-1a of its figures' COPY text (every stored column but `id`/`scored_at`/the hashes and
/// document ids; business date, policy and catalog versions included), each document's hash and
/// the COPY text of its tier history, and `history_hash`, the FNV-1a of the history lines alone.
/// A customer whose newest row has the same content hash gets no new score row and no history
/// write — the newest row already says exactly this, and the daily rescore of an unchanged book
/// then writes almost nothing. A customer with a new row but the same history hash (the daily
/// case: month-to-date moves every day, a history at most once a month) gets no history write.
/// Alerts are still decided for every customer (confirming refreshes their business date and
/// cooldown). A false "unchanged" (or a reused document that differs) needs a 64-bit collision
/// between two scorings of the same customer (≈ 2⁻⁶⁴), which we accept. `score_customer` always
/// writes a row and its history, so an operator asking for a score sees a fresh `scored_at`.
public struct ScoreWriter: Sendable {
    public static let cooldownDays = 7
    public static let notifierQueue = "notifier"
    public static let notifyKind = "notify_alert"

    public init() {}

    /// What one write did, for logs and metrics.
    public struct Outcome: Sendable, Hashable {
        public var scores = 0
        /// New `score_documents` rows (documents that differ from the customer's newest row's).
        public var documents = 0
        public var newAlerts: [Int64] = []
        public var reopened = 0
        public var resolved = 0
    }

    /// The explanation documents of a row, in the order of their columns.
    enum DocumentKind: Int, CaseIterable {
        case warning, signals, value, recommendations, suitability
    }

    /// Where a new row's document comes from: absent (the row has no such document), the newest row's
    /// (same hash), or the `n`-th document this write stores.
    enum DocumentReference {
        case absent
        case reused(Int64)
        case fresh(Int)
    }

    /// The staging tables, emptied: they empty themselves at commit, and a second `write` in the
    /// same transaction must not apply the first one's rows again. Rows and documents are staged too
    /// although they need no transformation: PostgreSQL refuses COPY FROM into a table with row-level
    /// security (both tables have it, migration 0016), so they arrive with one INSERT … SELECT each.
    static let createStages = """
        CREATE TEMP TABLE IF NOT EXISTS tg_score_row_stage ON COMMIT DELETE ROWS AS
            SELECT \(rowColumns) FROM customer_score_rows WITH NO DATA;
        CREATE TEMP TABLE IF NOT EXISTS tg_score_document_stage (id bigint, customer_id text, body text) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE IF NOT EXISTS tg_history_stage (
            customer_id text, effective_on date, from_tier text, to_tier text, kind text, deciding_month date,
            floor_fen bigint, reason text, policy_version text) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE IF NOT EXISTS tg_alert_stage (
            action text, alert_id bigint, customer_id text, kind text, dedup_key text, payload jsonb, payload_hash bigint)
            ON COMMIT DELETE ROWS;
        DELETE FROM tg_score_row_stage; DELETE FROM tg_score_document_stage; DELETE FROM tg_history_stage; DELETE FROM tg_alert_stage;
        """

    /// The columns a row is written with: the figures (`preparedRow`'s fields, in order), the two
    /// hashes, then each document's id and hash in `DocumentKind` order.
    static let rowColumns = """
        customer_id, business_date, policy_version, catalog_version, tier, is_provisional,
        first_balance_date, aum_fen, mtd_sum_fen, mtd_days, m3_month, m3_sum_fen, m3_days, m3_before_first,
        m2_month, m2_sum_fen, m2_days, m2_before_first, m1_month, m1_sum_fen, m1_days, m1_before_first,
        watch_months, warning_date, warning_from_tier, warning_to_tier, warning_gap_fen, warning_extra_daily_fen,
        signal_codes, contribution_fen, retention_probability, content_hash, history_hash,
        warning_doc, warning_hash, signals_doc, signals_hash, value_doc, value_hash,
        recommendations_doc, recommendations_hash, suitability_doc, suitability_hash
        """

    static let copyRows = PostgresQuery(unsafeSQL: "COPY tg_score_row_stage (\(rowColumns)) FROM STDIN", name: "ScoreWriter.copyRows")

    static let insertRows = PostgresQuery(unsafeSQL: """
        INSERT INTO customer_score_rows (\(rowColumns)) SELECT \(rowColumns) FROM tg_score_row_stage
        """, name: "ScoreWriter.insertRows")

    static let copyDocuments = PostgresQuery(unsafeSQL: "COPY tg_score_document_stage (id, customer_id, body) FROM STDIN",
                                             name: "ScoreWriter.copyDocuments")

    static let insertDocuments = PostgresQuery(unsafeSQL: """
        INSERT INTO score_documents (id, customer_id, body) SELECT id, customer_id, body FROM tg_score_document_stage
        """, name: "ScoreWriter.insertDocuments")

    /// Ids for `$1` new documents, drawn from the table's sequence (COPY returns none).
    static let documentIds = PostgresQuery(
        "SELECT nextval('score_documents_id_seq') FROM generate_series(1, $1::int)", name: "ScoreWriter.documentIds")

    /// The newest row's hashes and document ids per customer: one index probe each
    /// (`customer_score_rows_latest`).
    static let latestRows = PostgresQuery("""
        SELECT c.id, s.content_hash, s.history_hash, s.warning_doc, s.warning_hash, s.signals_doc, s.signals_hash,
               s.value_doc, s.value_hash, s.recommendations_doc, s.recommendations_hash, s.suitability_doc, s.suitability_hash
        FROM unnest($1::text[]) AS c(id)
        CROSS JOIN LATERAL (SELECT * FROM customer_score_rows WHERE customer_id = c.id ORDER BY id DESC LIMIT 1) s
        """, name: "ScoreWriter.latestRows")

    static let deleteStaleHistory = PostgresQuery("""
        DELETE FROM customer_tier_history h USING unnest($1::text[]) c(id) WHERE h.customer_id = c.id AND NOT EXISTS (
            SELECT 1 FROM tg_history_stage s WHERE s.customer_id = h.customer_id AND s.effective_on = h.effective_on)
        """, name: "ScoreWriter.deleteStaleHistory")

    static let upsertHistory = PostgresQuery("""
        INSERT INTO customer_tier_history AS h
            (customer_id, effective_on, from_tier, to_tier, kind, deciding_month, floor_fen, reason, policy_version)
        SELECT customer_id, effective_on, from_tier, to_tier, kind, deciding_month, floor_fen, reason, policy_version
        FROM tg_history_stage
        ON CONFLICT (customer_id, effective_on) DO UPDATE SET
            from_tier = excluded.from_tier, to_tier = excluded.to_tier, kind = excluded.kind,
            deciding_month = excluded.deciding_month, floor_fen = excluded.floor_fen, reason = excluded.reason,
            policy_version = excluded.policy_version, recorded_at = now()
        WHERE (h.from_tier, h.to_tier, h.kind, h.deciding_month, h.floor_fen, h.reason)
              IS DISTINCT FROM (excluded.from_tier, excluded.to_tier, excluded.kind, excluded.deciding_month,
                                excluded.floor_fen, excluded.reason)
        """, name: "ScoreWriter.upsertHistory")

    /// Confirm or reopen; an open alert already confirmed on this BD with these figures is left
    /// alone (a rerun of the same day rewrites no alert row; `last_raised_at` is the last scoring
    /// that changed the alert). A confirmation staged without a payload (its hash is the stored one)
    /// keeps the stored payload.
    static let refreshAlerts = PostgresQuery("""
        UPDATE alerts a SET state = 'open', last_raised_at = now(), business_date = $1::date,
            cooldown_until = $1::date + 7, payload = coalesce(s.payload, a.payload),
            payload_hash = coalesce(s.payload_hash, a.payload_hash), resolved_at = NULL, resolved_business_date = NULL
        FROM tg_alert_stage s WHERE s.action IN ('confirm', 'reopen') AND a.id = s.alert_id
          AND (a.state <> 'open' OR a.business_date <> $1::date
               OR (s.payload IS NOT NULL AND a.payload IS DISTINCT FROM s.payload))
        """, name: "ScoreWriter.refreshAlerts")

    static let resolveAlerts = PostgresQuery("""
        UPDATE alerts a SET state = 'resolved', resolved_at = now(), resolved_business_date = $1::date
        FROM tg_alert_stage s WHERE s.action = 'resolve' AND a.id = s.alert_id AND a.state = 'open'
        """, name: "ScoreWriter.resolveAlerts")

    static let insertAlerts = PostgresQuery("""
        INSERT INTO alerts (customer_id, kind, dedup_key, business_date, first_business_date, cooldown_until, payload, payload_hash)
        SELECT customer_id, kind, dedup_key, $1::date, $1::date, $1::date + 7, payload, payload_hash
        FROM tg_alert_stage WHERE action = 'new' ORDER BY dedup_key
        RETURNING id, customer_id
        """, name: "ScoreWriter.insertAlerts")

    /// Writes `scores` (all of one business date and policy) inside the session's current transaction.
    /// With `skipUnchanged`, a customer whose newest score row has the same content hash gets no
    /// new row, and one with the same history hash no history write (see the type's notes);
    /// alerts are decided for all. `traceparents`: per customer, the traceparent its new alerts'
    /// `notify_alert` jobs carry.
    public func write(_ session: PostgresSession, scores: [CustomerScore], businessDate: CalendarDate,
                      policy: ScoringPolicy, skipUnchanged: Bool = false, traceparents: [String: String] = [:]) throws -> Outcome {
        precondition(session.isInTransaction, "ScoreWriter.write runs inside the caller's transaction")
        var outcome = Outcome()
        guard !scores.isEmpty else { return outcome }
        let bd = PostgresDate(year: businessDate.year, month: businessDate.month, day: businessDate.day)
        let ids = scores.map(\.customerId)
        try session.executeScript(unsafeSQL: Self.createStages, name: "ScoreWriter.createStages")

        // JSONEncoder's bytes ([.sortedKeys, .withoutEscapingSlashes]) at a fraction of its cost
        // (`JSONTextWriter`; JSONTextDocumentsTests check every document byte for byte).
        var json = JSONTextWriter(capacity: 4_096)
        let rows = try scores.map { try Self.preparedRow($0, policy: policy, json: &json) }

        // The newest row of each customer: its hashes decide what is unchanged, its documents are reused.
        var latest: [String: LatestRow] = [:]
        latest.reserveCapacity(scores.count)
        for row in try session.query(Self.latestRows.binding(ids)) {
            var documents: [(id: Int64?, hash: Int64?)] = []
            for kind in DocumentKind.allCases {
                documents.append((try row.decode(Int64?.self, at: 3 + 2 * kind.rawValue),
                                  try row.decode(Int64?.self, at: 4 + 2 * kind.rawValue)))
            }
            latest[try row.decode(String.self, at: 0)] = LatestRow(
                content: try row.decode(Int64?.self, at: 1), history: try row.decode(Int64?.self, at: 2), documents: documents)
        }
        var changed = Array(rows.indices)
        var historyChanged = changed
        if skipUnchanged {
            changed = rows.indices.filter { latest[rows[$0].customerId]?.content != rows[$0].contentHash }
            historyChanged = changed.filter { latest[rows[$0].customerId]?.history != rows[$0].historyHash }
        }
        if !changed.isEmpty {
            // Each document: the newest row's when the hash is the same, else a new one.
            var references = [[DocumentReference]](repeating: [], count: rows.count)
            var fresh: [(row: Int, kind: Int)] = []
            for i in changed {
                let previous = latest[rows[i].customerId]?.documents
                references[i] = DocumentKind.allCases.map { kind in
                    guard let hash = rows[i].documentHashes[kind.rawValue] else { return .absent }
                    if let previous, previous[kind.rawValue].hash == hash, let id = previous[kind.rawValue].id { return .reused(id) }
                    fresh.append((i, kind.rawValue))
                    return .fresh(fresh.count - 1)
                }
            }
            var newIds: [Int64] = []
            if !fresh.isEmpty {
                newIds = try session.query(Self.documentIds.binding(fresh.count)).map { try $0.decode(Int64.self, at: 0) }
                guard newIds.count == fresh.count else {
                    throw ScoringError("score_documents_id_seq gave \(newIds.count) ids for \(fresh.count) documents")
                }
                try session.copyFrom(Self.copyDocuments) { w in
                    var line = ""
                    for (n, slot) in fresh.enumerated() {
                        line.removeAll(keepingCapacity: true)
                        line += String(newIds[n])
                        line += "\t"
                        CopyText.field(rows[slot.row].customerId, &line)
                        CopyText.field(rows[slot.row].documents[slot.kind], &line, last: true)
                        w.write(line)
                    }
                }
                try session.execute(Self.insertDocuments)
                outcome.documents = fresh.count
            }
            try session.copyFrom(Self.copyRows) { w in
                var line = ""
                for i in changed {
                    let row = rows[i]
                    line.removeAll(keepingCapacity: true)
                    line += row.figures
                    line += String(row.contentHash)
                    line += "\t"
                    line += String(row.historyHash)
                    for kind in DocumentKind.allCases {
                        line += "\t"
                        let id: Int64?
                        switch references[i][kind.rawValue] {
                        case .absent: id = nil
                        case .reused(let reused): id = reused
                        case .fresh(let n): id = newIds[n]
                        }
                        if let id, let hash = row.documentHashes[kind.rawValue] {
                            line += String(id)
                            line += "\t"
                            line += String(hash)
                        } else {
                            line += "\\N\t\\N"
                        }
                    }
                    line += "\n"
                    w.write(line)
                }
            }
            outcome.scores = try session.execute(Self.insertRows)
        }
        if !historyChanged.isEmpty {
            try session.copyFrom(PostgresQuery(unsafeSQL: "COPY tg_history_stage FROM STDIN", name: "ScoreWriter.copyHistory")) { w in
                for i in historyChanged where !rows[i].history.isEmpty { w.write(rows[i].history) }
            }
            try session.execute(Self.deleteStaleHistory.binding(historyChanged.map { ids[$0] }))
            try session.execute(Self.upsertHistory)
        }

        // Alerts: decide in Swift from the chunk's current alerts, apply set-based.
        // Read by the chunk's id range (`ScoringSQL`); alerts of customers outside the chunk are
        // not this write's to confirm or resolve.
        var current: [String: (id: Int64, open: Bool, payloadHash: Int64?)] = [:]
        let chunk = Set(ids)
        for row in try session.query(ScoringSQL.currentAlerts.binding(ids, bd, ScoringSQL.scorerAlertKinds)) {
            guard chunk.contains(try row.decode(String.self, at: 1)) else { continue }
            current[try row.decode(String.self, at: 2)] = (try row.decode(Int64.self, at: 0),
                                                            try row.decode(String.self, at: 3) == "open",
                                                            try row.decode(Int64?.self, at: 4))
        }
        var seen = Set<String>()
        var actions = 0
        try session.copyFrom(PostgresQuery(unsafeSQL: "COPY tg_alert_stage FROM STDIN", name: "ScoreWriter.copyAlerts")) { w in
            var line = ""
            func stage(_ action: String, _ id: Int64?, _ customer: String, _ kind: String, _ key: String,
                       _ payload: (text: String, hash: Int64)?) {
                line.removeAll(keepingCapacity: true)
                CopyText.field(action, &line)
                CopyText.field(id.map { String($0) }, &line)
                CopyText.field(customer, &line)
                CopyText.field(kind, &line)
                CopyText.field(key, &line)
                CopyText.field(payload?.text, &line)
                CopyText.field(payload.map { String($0.hash) }, &line, last: true)
                w.write(line)
                actions += 1
            }
            for score in scores {
                for condition in score.alertConditions {
                    seen.insert(condition.dedupKey)
                    let text = try json.text(of: condition.payload)
                    let payload = (text: text, hash: FNV1a64.hash(text))
                    if let existing = current[condition.dedupKey] {
                        if !existing.open { outcome.reopened += 1 }
                        // An open alert whose payload is unchanged is confirmed without it.
                        let unchanged = existing.open && existing.payloadHash == payload.hash
                        stage(existing.open ? "confirm" : "reopen", existing.id, score.customerId, condition.kind,
                              condition.dedupKey, unchanged ? nil : payload)
                    } else {
                        stage("new", nil, score.customerId, condition.kind, condition.dedupKey, payload)
                    }
                }
            }
            for (key, existing) in current where existing.open && !seen.contains(key) {
                stage("resolve", existing.id, "", "", key, nil)
            }
        }
        if actions > 0 {
            try session.execute(Self.refreshAlerts.binding(bd))
            outcome.resolved = try session.execute(Self.resolveAlerts.binding(bd))
            var jobs: [NewJob] = []
            for row in try session.query(Self.insertAlerts.binding(bd)) {
                let id = try row.decode(Int64.self, at: 0)
                outcome.newAlerts.append(id)
                jobs.append(try NewJob(queue: Self.notifierQueue, kind: Self.notifyKind, args: ["alert_id": id],
                                       uniqueKey: "alert:\(id)", traceparent: traceparents[try row.decode(String.self, at: 1)]))
            }
            try JobEnqueuer.enqueue(session, jobs)
        }
        return outcome
    }

    /// The newest stored row of a customer, as `latestRows` reads it.
    struct LatestRow {
        var content: Int64?
        var history: Int64?
        /// Per `DocumentKind`: the document's id and hash (nil for an absent warning, or both for a row
        /// written before migration 0016 moved its documents).
        var documents: [(id: Int64?, hash: Int64?)]
    }

    /// One customer's row before it meets the database: the figures' COPY fields, each document's
    /// JSON and hash, the tier history lines, and the two row hashes.
    struct PreparedRow {
        var customerId: String
        /// Every figure column of `copyRows` up to `retention_probability`, each field followed by a tab.
        var figures: String
        /// Per `DocumentKind`: the document's JSON text, nil when absent (no warning); escaped for COPY
        /// only when written (a reused document is not sent).
        var documents: [String?]
        var documentHashes: [Int64?]
        var history: String
        var contentHash: Int64
        var historyHash: Int64
    }

    /// Builds a customer's `PreparedRow`. The content hash is the FNV-1a of the figures' text, then
    /// each document's hash (or `\N`) and a tab, then the history lines: equal hashes mean the same
    /// figures, the same documents and the same history.
    static func preparedRow(_ score: CustomerScore, policy: ScoringPolicy, json: inout JSONTextWriter) throws -> PreparedRow {
        var history = ""
        if !score.assessment.isProvisional {
            for change in score.assessment.history {
                CopyText.field(score.customerId, &history)
                CopyText.field(change.effectiveOn.description, &history)
                CopyText.field(change.from?.code, &history)
                CopyText.field(change.to.code, &history)
                CopyText.field(change.kind.rawValue, &history)
                CopyText.field(change.decidingMonth.first.description, &history)
                CopyText.field(String(change.floor.value), &history)
                CopyText.field(change.reason, &history)
                CopyText.field(policy.version, &history, last: true)
            }
        }

        let a = score.assessment
        var figures = ""
        figures.reserveCapacity(512)
        CopyText.field(score.customerId, &figures)
        CopyText.field(a.businessDate.description, &figures)
        CopyText.field(a.policyVersion, &figures)
        CopyText.field(score.catalogVersion, &figures)
        CopyText.field(a.tier.code, &figures)
        CopyText.field(a.isProvisional ? "t" : "f", &figures)
        CopyText.field(a.firstBalanceDate?.description, &figures)
        CopyText.field(String(a.aum.value), &figures)
        CopyText.field(String(a.monthToDate.sum), &figures)
        CopyText.field(String(a.monthToDate.days), &figures)
        for month in a.lastThreeMonths {
            CopyText.field(month.month.first.description, &figures)
            CopyText.field(String(month.sum), &figures)
            CopyText.field(String(month.days), &figures)
            CopyText.field(month.isBeforeFirstBalance ? "t" : "f", &figures)
        }
        CopyText.field(String(a.watchMonths), &figures)
        let w = a.warning
        CopyText.field(w?.date.description, &figures)
        CopyText.field(w?.fromTier.code, &figures)
        CopyText.field(w?.toTier.code, &figures)
        CopyText.field(w?.gap.map { String($0.value) }, &figures)
        CopyText.field(w.map { String($0.extraDailyAverageNeeded.value) }, &figures)
        CopyText.field("{" + score.signals.map(\.code.rawValue).joined(separator: ",") + "}", &figures)
        CopyText.field(String(score.value.contribution.total.value), &figures)
        CopyText.field("\(score.value.retention.probability)", &figures)

        var documents: [String?] = []
        documents.reserveCapacity(DocumentKind.allCases.count)
        for kind in DocumentKind.allCases {
            let text: String?
            switch kind {
            case .warning: text = try w.map { try json.text(of: $0) }
            case .signals: text = try json.text(of: score.signals)
            case .value: text = try json.text(of: score.value)
            case .recommendations: text = try json.text(of: score.nextBestAction.recommendations)
            case .suitability: text = try json.text(of: score.nextBestAction.suitability)
            }
            documents.append(text)
        }
        var hasher = FNV1a64()
        hasher.add(figures)
        var documentHashes: [Int64?] = []
        documentHashes.reserveCapacity(documents.count)
        for document in documents {
            if let document {
                let documentHash = FNV1a64.hash(document)
                documentHashes.append(documentHash)
                hasher.add(String(documentHash))
            } else {
                documentHashes.append(nil)
                hasher.add("\\N")
            }
            hasher.add("\t")
        }
        hasher.add(history)
        return PreparedRow(customerId: score.customerId, figures: figures, documents: documents, documentHashes: documentHashes,
                           history: history, contentHash: hasher.value, historyHash: FNV1a64.hash(history))
    }

    /// FNV-1a, 64 bits, over UTF-8: stable across processes and runs (Swift's `Hasher` is seeded
    /// per process), cheap, and good enough to tell "same row" from "changed row".
    struct FNV1a64 {
        private var state: UInt64 = 0xcbf2_9ce4_8422_2325
        mutating func add(_ text: String) {
            func fold(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
                var h = state
                for byte in bytes { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
                return h
            }
            if let h = text.utf8.withContiguousStorageIfAvailable(fold) {
                state = h
            } else {
                var copy = text
                state = copy.withUTF8(fold)
            }
        }
        var value: Int64 { Int64(bitPattern: state) }

        /// The hash of one text.
        static func hash(_ text: String) -> Int64 {
            var hasher = FNV1a64()
            hasher.add(text)
            return hasher.value
        }
    }
}

/// COPY text format: fields separated by a tab, rows ended by a newline, `\N` for NULL, and
/// backslash, tab, newline and carriage return escaped.
enum CopyText {
    /// Whether `value` holds a backslash, tab, newline or carriage return: a plain loop over the
    /// contiguous UTF-8 (every new score document is scanned, up to ~1.3 KB each).
    static func needsEscaping(_ value: String) -> Bool {
        func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            for byte in bytes where byte == 92 || byte == 9 || byte == 10 || byte == 13 { return true }
            return false
        }
        if let found = value.utf8.withContiguousStorageIfAvailable(scan) { return found }
        var copy = value
        return copy.withUTF8(scan)
    }

    static func field(_ value: String?, _ line: inout String, last: Bool = false) {
        if let value { append(value, &line) } else { line += "\\N" }
        line += last ? "\n" : "\t"
    }

    private static func append(_ value: String, _ line: inout String) {
        guard needsEscaping(value) else {
            line += value
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": line += "\\\\"
            case "\t": line += "\\t"
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            default: line.unicodeScalars.append(scalar)
            }
        }
    }
}
