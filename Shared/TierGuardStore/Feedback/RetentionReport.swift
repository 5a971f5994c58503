import Foundation
import Postgres

/// Does TierGuard work? Over the downgrade_risk alerts first raised in [from, to] (business dates,
/// inclusive), from the `retention_report` view: per RM action (no visit, or the latest visit's
/// outcome) how many customers kept the tier at the projected date, were downgraded, or are not
/// there yet; the median lead time from alert to projected date (days, the mean of the two middle
/// values for an even count); and the share of the alerts that RMs marked useful (marked useful ÷
/// all alerts in the window; `withFeedback` says how many got any feedback).
public struct RetentionReport: Sendable, Codable, Equatable {
    public struct Group: Sendable, Codable, Equatable {
        public var rmAction: String
        public var alerts = 0, kept = 0, downgraded = 0, pending = 0
        /// kept ÷ (kept + downgraded); nil when none is decided yet.
        public var keptShare: Double?
    }

    public var from: String
    public var to: String
    public var alerts = 0
    public var groups: [Group] = []
    public var medianLeadDays: Double?
    public var markedUseful = 0
    public var withFeedback = 0
    public var usefulShare: Double?

    public static let actions = ["no_visit", "retained", "committed_deposit", "declined", "not_reached"]

    public static func load(_ session: PostgresSession, from: PostgresDate, to: PostgresDate) throws -> RetentionReport {
        var report = RetentionReport(from: from.description, to: to.description)
        var byAction: [String: Group] = [:]
        for row in try session.query(PostgresQuery("""
            SELECT rm_action, count(*)::bigint, count(*) FILTER (WHERE outcome = 'kept')::bigint,
                   count(*) FILTER (WHERE outcome = 'downgraded')::bigint, count(*) FILTER (WHERE outcome = 'pending')::bigint
            FROM retention_report WHERE raised_on BETWEEN $1::date AND $2::date GROUP BY rm_action
            """, name: "RetentionReportSQL.groups").binding(from, to)) {
            let action = try row.decode(String.self, at: 0)
            var group = Group(rmAction: action)
            group.alerts = Int(try row.decode(Int64.self, at: 1))
            group.kept = Int(try row.decode(Int64.self, at: 2))
            group.downgraded = Int(try row.decode(Int64.self, at: 3))
            group.pending = Int(try row.decode(Int64.self, at: 4))
            if group.kept + group.downgraded > 0 { group.keptShare = Double(group.kept) / Double(group.kept + group.downgraded) }
            byAction[action] = group
        }
        report.groups = actions.map { byAction[$0] ?? Group(rmAction: $0) }
        let overall = try session.query(PostgresQuery("""
            SELECT count(*)::bigint, percentile_cont(0.5) WITHIN GROUP (ORDER BY lead_days),
                   count(*) FILTER (WHERE useful)::bigint, count(useful)::bigint
            FROM retention_report WHERE raised_on BETWEEN $1::date AND $2::date
            """, name: "RetentionReportSQL.overall").binding(from, to))[0]
        report.alerts = Int(try overall.decode(Int64.self, at: 0))
        report.medianLeadDays = try overall.decode(Double?.self, at: 1)
        report.markedUseful = Int(try overall.decode(Int64.self, at: 2))
        report.withFeedback = Int(try overall.decode(Int64.self, at: 3))
        if report.alerts > 0 { report.usefulShare = Double(report.markedUseful) / Double(report.alerts) }
        return report
    }

    /// The terminal table.
    public var table: String {
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", $0 * 100) } ?? "-" }
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        var lines = ["Retention report, downgrade_risk alerts raised \(from) … \(to): \(alerts)", ""]
        lines.append([pad("rm action", 18), pad("alerts", 7), pad("kept", 6), pad("downgraded", 11), pad("pending", 8), "kept share"].joined(separator: " "))
        for g in groups {
            lines.append([pad(g.rmAction, 18), pad(String(g.alerts), 7), pad(String(g.kept), 6), pad(String(g.downgraded), 11),
                          pad(String(g.pending), 8), percent(g.keptShare)].joined(separator: " "))
        }
        lines.append("")
        lines.append("median lead time alert → projected date: " + (medianLeadDays.map { String(format: "%.1f days", $0) } ?? "-"))
        lines.append("marked useful: \(markedUseful) of \(alerts) (\(percent(usefulShare))); with any feedback: \(withFeedback)")
        return lines.joined(separator: "\n")
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}
