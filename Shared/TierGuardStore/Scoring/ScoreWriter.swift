import Foundation
import JobQueue
import Postgres
import ServiceKit
import TierGuardModel

/// Persists a batch of scores in the caller's transaction: `customer_scores` rows, the tier
/// history, and the alerts with their notification jobs.
///
/// Set-based whatever the batch size: each kind of row is streamed with COPY into a temporary
/// staging table (`ON COMMIT DELETE ROWS`) and applied with one statement, so one customer and a
/// 1,000-customer chunk of the whole book go through identical SQL.
///
/// Alerts (one open alert per dedup key, see `CustomerScore.alertConditions`):
/// - a condition with an open alert confirms it (payload, business date, cooldown refreshed);
/// - a condition whose latest alert was resolved but is still inside its cooldown reopens that
///   alert silently — no new alert, no notification (a flapping condition notifies once);
/// - any other condition opens a new alert and enqueues `notify_alert` (queue `notifier`, unique
///   key `alert:<id>`) with `JobEnqueuer.enqueue` in the same transaction;
/// - an open alert whose condition is gone is resolved.
/// Cooldown: `cooldownDays` (7) business days after the last business date the condition held.
///
/// Unchanged scores (`skipUnchanged`, the whole-book path): each row carries `content_hash`, a
/// 64-bit FNV-1a of its COPY text (every stored column but `id`/`scored_at`/the hashes, business
/// date, policy and catalog versions included, shared documents in full) followed by the COPY
/// text of its tier history, and `history_hash`, the FNV-1a of the history lines alone.
/// A customer whose newest row has the same content hash gets no new score row and no history
/// write — the newest row already says exactly this, and the daily rescore of an unchanged book
/// then writes almost nothing. A customer with a new row but the same history hash (the daily
/// case: month-to-date moves every day, a history at most once a month) gets no history write.
/// Alerts are still decided for every customer (confirming refreshes their business date and
/// cooldown). A false "unchanged" needs a 64-bit collision between two scorings of the same
/// customer (≈ 2⁻⁶⁴), which we accept. `score_customer` always writes a row and its history, so
/// an operator asking for a score sees a fresh `scored_at`.
public struct ScoreWriter: Sendable {
    public static let cooldownDays = 7
    public static let notifierQueue = "notifier"
    public static let notifyKind = "notify_alert"

    public init() {}

    /// What one write did, for logs and metrics.
    public struct Outcome: Sendable, Hashable {
        public var scores = 0
        public var newAlerts: [Int64] = []
        public var reopened = 0
        public var resolved = 0
    }

    /// The staging tables, emptied: they empty themselves at commit, and a second `write` in the
    /// same transaction must not apply the first one's rows again (nor reuse its document numbers).
    /// `tg_score_stage` keeps its ~2 KB rows uncompressed (`toast_tuple_target`): they are
    /// compressed once, on their way into `customer_scores`, not twice.
    static let createStages = """
        CREATE TEMP TABLE IF NOT EXISTS tg_score_stage (
            customer_id text, business_date date, policy_version text, catalog_version text, tier text,
            is_provisional boolean, first_balance_date date, aum_fen bigint, mtd_sum_fen bigint, mtd_days integer,
            m3_month date, m3_sum_fen bigint, m3_days integer, m3_before_first boolean,
            m2_month date, m2_sum_fen bigint, m2_days integer, m2_before_first boolean,
            m1_month date, m1_sum_fen bigint, m1_days integer, m1_before_first boolean,
            watch_months integer, warning_date date, warning_from_tier text, warning_to_tier text,
            warning_gap_fen bigint, warning_extra_daily_fen bigint, warning jsonb, signals_doc integer, signal_codes text[],
            value jsonb, contribution_fen bigint, retention_probability double precision,
            recommendations jsonb, suitability_doc integer, content_hash bigint, history_hash bigint)
            WITH (toast_tuple_target = 8160) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE IF NOT EXISTS tg_document_stage (doc integer PRIMARY KEY, body jsonb NOT NULL) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE IF NOT EXISTS tg_history_stage (
            customer_id text, effective_on date, from_tier text, to_tier text, kind text, deciding_month date,
            floor_fen bigint, reason text, policy_version text) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE IF NOT EXISTS tg_alert_stage (
            action text, alert_id bigint, customer_id text, kind text, dedup_key text, payload jsonb) ON COMMIT DELETE ROWS;
        DELETE FROM tg_score_stage; DELETE FROM tg_document_stage; DELETE FROM tg_history_stage; DELETE FROM tg_alert_stage;
        """

    static let scoreColumns = """
        customer_id, business_date, policy_version, catalog_version, tier, is_provisional, first_balance_date, aum_fen,
        mtd_sum_fen, mtd_days, m3_month, m3_sum_fen, m3_days, m3_before_first, m2_month, m2_sum_fen, m2_days,
        m2_before_first, m1_month, m1_sum_fen, m1_days, m1_before_first, watch_months, warning_date, warning_from_tier,
        warning_to_tier, warning_gap_fen, warning_extra_daily_fen, warning, signals, signal_codes, value,
        contribution_fen, retention_probability, recommendations, suitability, content_hash, history_hash
        """

    /// The stage's columns in `scoreColumns` order; each shared document is looked up by its
    /// number (a primary-key probe of the chunk's few documents, so the plan and the row order
    /// stay those of the stage).
    static let insertScores = PostgresQuery(unsafeSQL: """
        INSERT INTO customer_scores (\(scoreColumns))
        SELECT customer_id, business_date, policy_version, catalog_version, tier, is_provisional, first_balance_date,
            aum_fen, mtd_sum_fen, mtd_days, m3_month, m3_sum_fen, m3_days, m3_before_first, m2_month, m2_sum_fen,
            m2_days, m2_before_first, m1_month, m1_sum_fen, m1_days, m1_before_first, watch_months, warning_date,
            warning_from_tier, warning_to_tier, warning_gap_fen, warning_extra_daily_fen, warning,
            (SELECT body FROM tg_document_stage WHERE doc = signals_doc), signal_codes, value,
            contribution_fen, retention_probability, recommendations,
            (SELECT body FROM tg_document_stage WHERE doc = suitability_doc), content_hash, history_hash
        FROM tg_score_stage
        """, name: "ScoreWriter.insertScores")

    /// The newest row's hashes per customer: one index probe each (`customer_scores_latest`).
    static let latestHashes = PostgresQuery("""
        SELECT c.id, s.content_hash, s.history_hash FROM unnest($1::text[]) AS c(id)
        CROSS JOIN LATERAL (SELECT content_hash, history_hash FROM customer_scores WHERE customer_id = c.id ORDER BY id DESC LIMIT 1) s
        """, name: "ScoreWriter.latestHashes")

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
    /// that changed the alert).
    static let refreshAlerts = PostgresQuery("""
        UPDATE alerts a SET state = 'open', last_raised_at = now(), business_date = $1::date,
            cooldown_until = $1::date + 7, payload = s.payload, resolved_at = NULL, resolved_business_date = NULL
        FROM tg_alert_stage s WHERE s.action IN ('confirm', 'reopen') AND a.id = s.alert_id
          AND (a.state <> 'open' OR a.business_date <> $1::date OR a.payload IS DISTINCT FROM s.payload)
        """, name: "ScoreWriter.refreshAlerts")

    static let resolveAlerts = PostgresQuery("""
        UPDATE alerts a SET state = 'resolved', resolved_at = now(), resolved_business_date = $1::date
        FROM tg_alert_stage s WHERE s.action = 'resolve' AND a.id = s.alert_id AND a.state = 'open'
        """, name: "ScoreWriter.resolveAlerts")

    static let insertAlerts = PostgresQuery("""
        INSERT INTO alerts (customer_id, kind, dedup_key, business_date, first_business_date, cooldown_until, payload)
        SELECT customer_id, kind, dedup_key, $1::date, $1::date, $1::date + 7, payload
        FROM tg_alert_stage WHERE action = 'new' ORDER BY dedup_key
        RETURNING id
        """, name: "ScoreWriter.insertAlerts")

    /// Writes `scores` (all of one business date and policy) inside the session's current transaction.
    /// With `skipUnchanged`, a customer whose newest score row has the same content hash gets no
    /// new row, and one with the same history hash no history write (see the type's notes);
    /// alerts are decided for all.
    public func write(_ session: PostgresSession, scores: [CustomerScore], businessDate: CalendarDate,
                      policy: ScoringPolicy, skipUnchanged: Bool = false, traceparent: String? = nil) throws -> Outcome {
        precondition(session.isInTransaction, "ScoreWriter.write runs inside the caller's transaction")
        var outcome = Outcome()
        guard !scores.isEmpty else { return outcome }
        let bd = PostgresDate(year: businessDate.year, month: businessDate.month, day: businessDate.day)
        let ids = scores.map(\.customerId)
        try session.executeScript(unsafeSQL: Self.createStages, name: "ScoreWriter.createStages")

        // JSONEncoder's bytes ([.sortedKeys, .withoutEscapingSlashes]) at a fraction of its cost
        // (`JSONTextWriter`; JSONTextDocumentsTests check every document byte for byte).
        var json = JSONTextWriter(capacity: 4_096)
        // Each customer's stage line (shared documents by number) and its content hash.
        var scoreLines: [String] = []
        var historyLines: [String] = []
        var hashes: [Int64] = []
        var historyHashes: [Int64] = []
        scoreLines.reserveCapacity(scores.count)
        hashes.reserveCapacity(scores.count)
        var shared = SharedDocuments()
        for score in scores {
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
            var historyHasher = FNV1a64()
            historyHasher.add(history)
            let (line, hash) = try Self.stageLine(score, policy: policy, json: &json, shared: &shared, history: history,
                                                  historyHash: historyHasher.value)
            scoreLines.append(line)
            historyLines.append(history)
            hashes.append(hash)
            historyHashes.append(historyHasher.value)
        }
        var changed = Array(scores.indices)
        var historyChanged = changed
        if skipUnchanged {
            var latest: [String: (content: Int64?, history: Int64?)] = [:]
            latest.reserveCapacity(scores.count)
            for row in try session.query(Self.latestHashes.binding(ids)) {
                latest[try row.decode(String.self, at: 0)] = (try row.decode(Int64?.self, at: 1), try row.decode(Int64?.self, at: 2))
            }
            changed = scores.indices.filter { latest[scores[$0].customerId]?.content != hashes[$0] }
            historyChanged = changed.filter { latest[scores[$0].customerId]?.history != historyHashes[$0] }
        }
        if !changed.isEmpty {
            try session.copyFrom(PostgresQuery(unsafeSQL: "COPY tg_document_stage FROM STDIN", name: "ScoreWriter.copyDocuments")) { w in
                for (number, field) in shared.fields.enumerated() { w.write(String(number) + "\t" + field + "\n") }
            }
            try session.copyFrom(PostgresQuery(unsafeSQL: "COPY tg_score_stage FROM STDIN", name: "ScoreWriter.copyScores")) { w in
                for i in changed { w.write(scoreLines[i]) }
            }
            outcome.scores = try session.execute(Self.insertScores)
        }
        if !historyChanged.isEmpty {
            try session.copyFrom(PostgresQuery(unsafeSQL: "COPY tg_history_stage FROM STDIN", name: "ScoreWriter.copyHistory")) { w in
                for i in historyChanged where !historyLines[i].isEmpty { w.write(historyLines[i]) }
            }
            try session.execute(Self.deleteStaleHistory.binding(historyChanged.map { ids[$0] }))
            try session.execute(Self.upsertHistory)
        }

        // Alerts: decide in Swift from the chunk's current alerts, apply set-based.
        // Read by the chunk's id range (`ScoringSQL`); alerts of customers outside the chunk are
        // not this write's to confirm or resolve.
        var current: [String: (id: Int64, open: Bool)] = [:]
        let chunk = Set(ids)
        for row in try session.query(ScoringSQL.currentAlerts.binding(ids, bd)) {
            guard chunk.contains(try row.decode(String.self, at: 1)) else { continue }
            current[try row.decode(String.self, at: 2)] = (try row.decode(Int64.self, at: 0),
                                                            try row.decode(String.self, at: 3) == "open")
        }
        var seen = Set<String>()
        var actions = 0
        try session.copyFrom(PostgresQuery(unsafeSQL: "COPY tg_alert_stage FROM STDIN", name: "ScoreWriter.copyAlerts")) { w in
            var line = ""
            func stage(_ action: String, _ id: Int64?, _ customer: String, _ kind: String, _ key: String, _ payload: String?) {
                line.removeAll(keepingCapacity: true)
                CopyText.field(action, &line)
                CopyText.field(id.map { String($0) }, &line)
                CopyText.field(customer, &line)
                CopyText.field(kind, &line)
                CopyText.field(key, &line)
                CopyText.field(payload, &line, last: true)
                w.write(line)
                actions += 1
            }
            for score in scores {
                for condition in score.alertConditions {
                    seen.insert(condition.dedupKey)
                    let payload = try json.text(of: condition.payload)
                    if let existing = current[condition.dedupKey] {
                        if !existing.open { outcome.reopened += 1 }
                        stage(existing.open ? "confirm" : "reopen", existing.id, score.customerId, condition.kind,
                              condition.dedupKey, payload)
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
            for row in try session.query(Self.insertAlerts.binding(bd)) { outcome.newAlerts.append(try row.decode(Int64.self, at: 0)) }
            if !outcome.newAlerts.isEmpty {
                let jobs = try outcome.newAlerts.map { id in
                    try NewJob(queue: Self.notifierQueue, kind: Self.notifyKind, args: ["alert_id": id],
                               uniqueKey: "alert:\(id)", traceparent: traceparent)
                }
                try JobEnqueuer.enqueue(session, jobs)
            }
        }
        return outcome
    }

    /// The documents many customers of a chunk share, each encoded, sent and parsed once: the
    /// suitability decisions depend only on the customer's risk level, assessment age, consent and
    /// complaints against the catalog (a handful of distinct lists in a book), and most customers
    /// raise no signal or the same few. Each distinct value gets a number within the chunk; the
    /// stage row carries the number and `insertScores` puts the parsed document in its place, so
    /// PostgreSQL parses ~1.5 KB of JSON per chunk document instead of per customer.
    struct SharedDocuments {
        var suitability: [[SuitabilityDecision]: Int] = [:]
        var signals: [[Signal]: Int] = [:]
        /// Each document's JSON as a COPY field (escaped, no separator), by number.
        var fields: [String] = []

        mutating func number<T: JSONTextEncodable & Hashable>(_ value: T, _ numbers: WritableKeyPath<Self, [T: Int]>,
                                                       json: inout JSONTextWriter) throws -> Int {
            if let number = self[keyPath: numbers][value] { return number }
            var field = CopyText.escaped(try json.text(of: value))
            field.makeContiguousUTF8()
            fields.append(field)
            self[keyPath: numbers][value] = fields.count - 1
            return fields.count - 1
        }
    }

    /// One customer's `tg_score_stage` line (shared documents by number, the two hashes last) and
    /// its content hash: FNV-1a over the row's COPY text with each shared document written in
    /// full (so the hash does not depend on the chunk's numbering), then its tier history lines.
    static func stageLine(_ score: CustomerScore, policy: ScoringPolicy, json: inout JSONTextWriter,
                          shared: inout SharedDocuments, history: String, historyHash: Int64) throws -> (line: String, hash: Int64) {
        let a = score.assessment
        var head = ""
        head.reserveCapacity(512)
        CopyText.field(score.customerId, &head)
        CopyText.field(a.businessDate.description, &head)
        CopyText.field(a.policyVersion, &head)
        CopyText.field(score.catalogVersion, &head)
        CopyText.field(a.tier.code, &head)
        CopyText.field(a.isProvisional ? "t" : "f", &head)
        CopyText.field(a.firstBalanceDate?.description, &head)
        CopyText.field(String(a.aum.value), &head)
        CopyText.field(String(a.monthToDate.sum), &head)
        CopyText.field(String(a.monthToDate.days), &head)
        for month in a.lastThreeMonths {
            CopyText.field(month.month.first.description, &head)
            CopyText.field(String(month.sum), &head)
            CopyText.field(String(month.days), &head)
            CopyText.field(month.isBeforeFirstBalance ? "t" : "f", &head)
        }
        CopyText.field(String(a.watchMonths), &head)
        let w = a.warning
        CopyText.field(w?.date.description, &head)
        CopyText.field(w?.fromTier.code, &head)
        CopyText.field(w?.toTier.code, &head)
        CopyText.field(w?.gap.map { String($0.value) }, &head)
        CopyText.field(w.map { String($0.extraDailyAverageNeeded.value) }, &head)
        CopyText.field(try w.map { try json.text(of: $0) }, &head)
        let signals = try shared.number(score.signals, \.signals, json: &json)
        var middle = ""
        middle.reserveCapacity(2048)
        CopyText.field("{" + score.signals.map(\.code.rawValue).joined(separator: ",") + "}", &middle)
        CopyText.field(try json.text(of: score.value), &middle)
        CopyText.field(String(score.value.contribution.total.value), &middle)
        CopyText.field("\(score.value.retention.probability)", &middle)
        CopyText.field(try json.text(of: score.nextBestAction.recommendations), &middle)
        let suitability = try shared.number(score.nextBestAction.suitability, \.suitability, json: &json)

        var hasher = FNV1a64()
        hasher.add(head)
        hasher.add(shared.fields[signals])
        hasher.add("\t")
        hasher.add(middle)
        hasher.add(shared.fields[suitability])
        hasher.add("\t")
        hasher.add(history)
        let hash = hasher.value
        return (head + String(signals) + "\t" + middle + String(suitability) + "\t" + String(hash) + "\t" + String(historyHash) + "\n",
                hash)
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
    }
}

/// COPY text format: fields separated by a tab, rows ended by a newline, `\N` for NULL, and
/// backslash, tab, newline and carriage return escaped.
enum CopyText {
    /// Whether `value` holds a backslash, tab, newline or carriage return: a plain loop over the
    /// contiguous UTF-8 (every score document is scanned, ~3 KB a row).
    static func needsEscaping(_ value: String) -> Bool {
        func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            for byte in bytes where byte == 92 || byte == 9 || byte == 10 || byte == 13 { return true }
            return false
        }
        if let found = value.utf8.withContiguousStorageIfAvailable(scan) { return found }
        var copy = value
        return copy.withUTF8(scan)
    }

    /// `value` escaped for a COPY text field, without a separator.
    static func escaped(_ value: String) -> String {
        var text = ""
        append(value, &text)
        return text
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
