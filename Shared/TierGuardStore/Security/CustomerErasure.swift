import Foundation
import Postgres

/// Right to deletion on account closure (PIPL art. 47; issue 11): `tierguardctl customer erase ID --reason`.
///
/// Rules, each checked in one transaction holding the customer's row lock:
/// - Only a customer whose `status` is `closed`; an active customer is refused.
/// - Only after the retention period: `retentionDays` (default 1095 = 3 years, the PIPL arts. 55–56 floor
///   the bank keeps records for) counted from the customer's last activity — the latest of the last
///   change of its customer record (`customers.updated_at`, which includes the feed that closed it), its
///   last transaction day, its last non-zero balance day and its last account closing day. The clock is
///   PostgreSQL's (`now()` in Asia/Shanghai), not the business date: a legal period runs in real time,
///   and a closed customer's business date stops moving. Earlier only with `force` (recorded as such).
/// - What is anonymised: `name` → `已注销`; ID number and phone ciphertext, key ids and blind indexes →
///   NULL (so the customer can no longer be found by identifier either); `gender` → NULL; `birth_date` →
///   1 January of its year (an age band stays for aggregates, the birthday does not); the raw text of the
///   customer's refused feed lines (`ingest_rejects.raw_text`, which may hold identifiers) → `''`; feedback
///   free text (survey comments, complaint descriptions and decisions, visit notes) → NULL, as the
///   feedback retention purge does. Kept: ids, scores, tier history, alerts, accounts, balances and
///   transaction amounts (aggregates and the records arts. 55–56 require), with `customers.erased_at` set.
/// - Audited: one `customer_erasures` row (append-only, Migrations/0006) in the same transaction.
/// - Idempotent: a customer already erased is reported as such; nothing is written, no second audit row.
/// A later feed re-sending the customer cannot restore the fields (trigger `customers_keep_erased`).
public enum CustomerErasure {
    public static let defaultRetentionDays = 1095
    /// The fields reported in the audit row, in this order.
    public static let fields = ["name", "id_number", "phone", "gender", "birth_date (year kept)",
                                "ingest_rejects.raw_text", "feedback free text"]

    public enum Outcome: Sendable, Equatable {
        case erased(auditId: Int64, retentionFrom: String?, forced: Bool)
        case alreadyErased(at: String)
        case notFound
        case notClosed(status: String)
        /// The retention period ends on `until` (exclusive: erasable from that day on).
        case retentionRunning(from: String, until: String)
    }

    static let check = PostgresQuery("""
        SELECT c.status, c.erased_at::text, r.last_activity::text,
               (r.last_activity + $2::int)::text,
               r.last_activity IS NULL OR r.last_activity + $2::int <= (now() AT TIME ZONE 'Asia/Shanghai')::date
        FROM customers c
        CROSS JOIN LATERAL (SELECT GREATEST(
            (c.updated_at AT TIME ZONE 'Asia/Shanghai')::date,
            (SELECT max(t.booked_on) FROM transactions t WHERE t.customer_id = c.customer_id),
            (SELECT max(b.as_of) FROM balances b WHERE b.customer_id = c.customer_id AND b.balance_fen <> 0),
            (SELECT max(a.closed_on) FROM accounts a WHERE a.customer_id = c.customer_id)) AS last_activity) r
        WHERE c.customer_id = $1
        FOR UPDATE OF c
        """, name: "CustomerErasure.check")

    static let anonymise = PostgresQuery("""
        UPDATE customers SET name = '已注销',
            id_number_enc = NULL, id_number_key_id = NULL, id_number_hmac = NULL,
            phone_enc = NULL, phone_key_id = NULL, phone_hmac = NULL,
            gender = NULL, birth_date = make_date(extract(year FROM birth_date)::int, 1, 1), erased_at = now()
        WHERE customer_id = $1
        """, name: "CustomerErasure.anonymise")

    static let others: [PostgresQuery] = [
        PostgresQuery("UPDATE ingest_rejects SET raw_text = '', raw_text_enc = NULL, raw_text_key_id = NULL WHERE customer_id = $1 AND (raw_text <> '' OR raw_text_enc IS NOT NULL)",
                      name: "CustomerErasure.rejects"),
        PostgresQuery("""
            UPDATE feedback_surveys SET comment = NULL, comment_purged_at = now() WHERE customer_id = $1 AND comment IS NOT NULL
            """, name: "CustomerErasure.surveys"),
        PostgresQuery("""
            UPDATE complaints SET description = NULL, decision = NULL, description_purged_at = now()
            WHERE customer_id = $1 AND (description IS NOT NULL OR decision IS NOT NULL)
            """, name: "CustomerErasure.complaints"),
        PostgresQuery("""
            UPDATE rm_visits SET note = NULL, note_purged_at = now() WHERE customer_id = $1 AND note IS NOT NULL
            """, name: "CustomerErasure.visits"),
    ]

    static let audit = PostgresQuery("""
        INSERT INTO customer_erasures (customer_id, operator, reason, retention_from, retention_days, forced, fields)
        VALUES ($1, $2, $3, $4::date, $5, $6, $7::text[]) RETURNING id
        """, name: "CustomerErasure.audit")

    /// Erases one customer (see the type's rules) in its own transaction.
    public static func erase(_ session: PostgresSession, customerId: String, operator operatorName: String,
                             reason: String, retentionDays: Int = defaultRetentionDays, force: Bool) throws -> Outcome {
        let reason = try PIIAccessAudit.requireReason(reason)
        return try session.withTransaction { s in
            let rows = try s.query(check.binding(customerId, retentionDays))
            guard rows.count == 1 else { return .notFound }
            let row = rows[0]
            let status = try row.decode(String.self, at: 0)
            if let at = try row.decode(String?.self, at: 1) { return .alreadyErased(at: at) }
            guard status == "closed" else { return .notClosed(status: status) }
            let from = try row.decode(String?.self, at: 2)
            let until = try row.decode(String?.self, at: 3)
            let over = try row.decode(Bool.self, at: 4)
            if !over && !force { return .retentionRunning(from: from ?? "-", until: until ?? "-") }
            try s.execute(anonymise.binding(customerId))
            for query in others { try s.execute(query.binding(customerId)) }
            let id = try s.query(audit.binding(customerId, operatorName, reason, from, retentionDays, !over,
                                               fields))[0].decode(Int64.self, at: 0)
            return .erased(auditId: id, retentionFrom: from, forced: !over)
        }
    }
}
