import Foundation
import Postgres

/// The append-only record of every unmasked display of personal data (issue 11, "audited unmasking").
///
/// `tierguardctl customer show ID --unmask --reason TEXT` and `tierguardctl rejects --unmask --reason TEXT`
/// call ``record(_:operator:customerIds:reason:command:)`` BEFORE printing anything unmasked, so a display
/// without its audit row cannot happen: if the insert fails, nothing is shown. The table
/// (`pii_access_audit`, Migrations/0005_security.sql) refuses UPDATE, DELETE and TRUNCATE by grant and by
/// trigger, and is kept at least 3 years (PIPL arts. 55–56).
public enum PIIAccessAudit {
    /// A missing or blank `--reason`: the command refuses to unmask (usage error, exit 64).
    public struct MissingReason: Error, CustomStringConvertible, Sendable {
        public init() {}
        public var description: String { "--unmask needs --reason" }
    }

    /// The reason trimmed, or ``MissingReason`` when it is absent or blank.
    public static func requireReason(_ reason: String?) throws -> String {
        guard let trimmed = reason?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else {
            throw MissingReason()
        }
        return trimmed
    }

    static let insert = PostgresQuery("""
        INSERT INTO pii_access_audit (operator, customer_ids, reason, command)
        VALUES ($1, $2::text[], $3, $4) RETURNING id
        """, name: "PIIAccessAudit.insert")

    /// Appends one row (committed by the caller's transaction, or at once outside one); returns its id.
    /// `customerIds` are the customers whose rows are about to be shown, sorted and deduplicated here.
    @discardableResult
    public static func record(_ session: PostgresSession, operator operatorName: String, customerIds: [String],
                              reason: String, command: String) throws -> Int64 {
        let ids = Array(Set(customerIds)).sorted()
        let rows = try session.query(insert.binding(operatorName, ids, try requireReason(reason), command))
        return try rows[0].decode(Int64.self, at: 0)
    }
}
