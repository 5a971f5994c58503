import Foundation
import Postgres
import TierGuardModel

/// Everything the notifier needs about one alert, read in one statement: the alert and its payload
/// (as the scorer wrote it: `{"kind","tier","warning":{…}}` or `{"kind","tier","signal":{…}}`), the
/// customer, its RM (null when unknown), and the newest score (AUM, retention-risk probability,
/// recommended actions; null before the first scoring). No identifier: the notifier's role may not read
/// the customer's phone or ID number (0005_security.sql); the birthday SMS has its own path (`BirthdayGreetings`).
public struct AlertFacts: Sendable {
    public var alertId: Int64
    public var customerId: String
    public var kind: String
    public var isOpen: Bool
    public var businessDate: CalendarDate
    public var customerName: String
    public var branchId: String
    public var rmId: String
    public var marketingOptOut: Bool
    public var rmKnown: Bool
    public var rmActive: Bool
    public var rmWeComUserId: String?
    public var rmEmail: String?
    public var managerRmId: String?
    public var tier: Tier?
    public var aum: Fen?
    public var retentionRisk: Double
    // downgrade_risk
    public var downgradeDate: CalendarDate?
    public var fromTier: Tier?
    public var toTier: Tier?
    public var gap: Fen?
    public var extraDaily: Fen?
    // signals
    public var reasons: [String]
    public var actions: [String]

    /// AUM × retention-risk probability, in fen (rounded down): the digest's ranking key.
    public var moneyAtRisk: Fen {
        guard let aum, aum.value > 0 else { return .zero }
        let risk = max(0, min(1, retentionRisk))
        return Fen(Int64((Double(aum.value) * risk).rounded(.down)))
    }

    static let load = PostgresQuery("""
        SELECT a.id, a.customer_id, a.kind, a.state = 'open', a.business_date::text, a.payload::text,
               c.name, c.branch_id, c.rm_id, c.marketing_opt_out,
               r.rm_id IS NOT NULL, coalesce(r.active, false), r.wecom_userid, r.email, r.manager_rm_id,
               s.aum_fen, coalesce(s.retention_probability, 0), s.recommendations::text
        FROM alerts a
        JOIN customers c ON c.customer_id = a.customer_id
        LEFT JOIN relationship_managers r ON r.rm_id = c.rm_id
        LEFT JOIN LATERAL (
            SELECT cs.aum_fen, cs.retention_probability, cs.recommendations
            FROM customer_scores cs WHERE cs.customer_id = a.customer_id ORDER BY cs.id DESC LIMIT 1
        ) s ON true
        WHERE a.id = ANY($1::bigint[])
        """, name: "AlertFacts.load")

    /// The facts of each alert in `ids` that exists (an alert of an unknown customer is left out).
    public static func load(_ session: PostgresSession, ids: [Int64]) throws -> [Int64: AlertFacts] {
        var out: [Int64: AlertFacts] = [:]
        for row in try session.query(load.binding(ids)) {
            var facts = AlertFacts(
                alertId: try row.decode(Int64.self, at: 0), customerId: try row.decode(String.self, at: 1),
                kind: try row.decode(String.self, at: 2), isOpen: try row.decode(Bool.self, at: 3),
                businessDate: CalendarDate(try row.decode(String.self, at: 4)) ?? CalendarDate(dayNumber: 0),
                customerName: try row.decode(String.self, at: 6), branchId: try row.decode(String.self, at: 7),
                rmId: try row.decode(String.self, at: 8), marketingOptOut: try row.decode(Bool.self, at: 9),
                rmKnown: try row.decode(Bool.self, at: 10),
                rmActive: try row.decode(Bool.self, at: 11), rmWeComUserId: try row.decode(String?.self, at: 12),
                rmEmail: try row.decode(String?.self, at: 13), managerRmId: try row.decode(String?.self, at: 14),
                tier: nil, aum: try row.decode(Int64?.self, at: 15).map { Fen($0) },
                retentionRisk: try row.decode(Double.self, at: 16), reasons: [], actions: [])
            facts.readPayload(try row.decode(String.self, at: 5))
            facts.readRecommendations(try row.decode(String?.self, at: 17))
            out[facts.alertId] = facts
        }
        return out
    }

    mutating func readPayload(_ json: String) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] else { return }
        tier = (object["tier"] as? String).flatMap(Tier.init(code:))
        if let warning = object["warning"] as? [String: Any] {
            downgradeDate = (warning["date"] as? String).flatMap { CalendarDate($0) }
            fromTier = (warning["from_tier"] as? String).flatMap(Tier.init(code:))
            toTier = (warning["to_tier"] as? String).flatMap(Tier.init(code:))
            gap = (warning["gap"] as? NSNumber).map { Fen($0.int64Value) }
            extraDaily = (warning["extra_daily_average_needed"] as? NSNumber).map { Fen($0.int64Value) }
        }
        if let signal = object["signal"] as? [String: Any], let reason = signal["reason"] as? String {
            reasons.append(reason)
        }
        if let list = object["reasons"] as? [String] { reasons += list }
        if aum == nil, let value = object["aum_fen"] as? NSNumber { aum = Fen(value.int64Value) }
        if retentionRisk == 0, let value = object["retention_probability"] as? NSNumber { retentionRisk = value.doubleValue }
    }

    mutating func readRecommendations(_ json: String?) {
        guard let json, let list = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [[String: Any]] else { return }
        actions = list.prefix(3).compactMap { ($0["reason"] as? String) ?? ($0["code"] as? String) }
    }
}
