import Foundation
import TierGuardModel

/// The Chinese text an RM reads. Names are always masked (`Masking.name`: 张*); figures use
/// `Fen.displayText` (¥123,456.78). Each alert says who (masked name, tier), what happened with its
/// figures, the top reasons, the recommended actions, and the alert id for `tierguardctl customer show`.
public enum NotifyMessage {
    static let kindNames: [String: String] = [
        "downgrade_risk": "降级预警", "sudden_drop": "资产骤降", "outflow_to_competitor": "资金流向他行",
        "maturity_upcoming": "大额到期", "inactive": "长期未活跃", "credit_risk": "信用卡消费异常",
        "risk_assessment_expired": "风险测评过期", "dissatisfied": "客户不满",
    ]

    public static func kindName(_ kind: String) -> String { kindNames[kind] ?? kind }

    /// `预计 2026-12-01 由钻石降为白金, 需在 11-30 前补足日均 ¥123,456.78`.
    public static func downgradeLine(_ facts: AlertFacts) -> String? {
        guard let date = facts.downgradeDate, let from = facts.fromTier ?? facts.tier, let to = facts.toTier else { return nil }
        var line = "预计 \(date) 由\(from.chineseName)降为\(to.chineseName)"
        let deadline = date.adding(days: -1)
        let month = deadline.month < 10 ? "0\(deadline.month)" : "\(deadline.month)"
        let day = deadline.day < 10 ? "0\(deadline.day)" : "\(deadline.day)"
        if let extra = facts.extraDaily, extra.value > 0 {
            line += ", 需在 \(month)-\(day) 前补足日均 \(extra.displayText)"
        }
        if let gap = facts.gap, gap.value > 0 {
            line += " (或一次性存入 \(gap.displayText))"
        } else if facts.gap == nil {
            line += " (本月已无法通过存入避免)"
        }
        return line
    }

    /// One alert as markdown lines.
    public static func alertLines(_ facts: AlertFacts, urgent: Bool) -> [String] {
        let tier = facts.tier?.chineseName ?? "未评级"
        var lines = ["**\(urgent ? "【紧急】" : "")\(kindName(facts.kind))** \(Masking.name(facts.customerName)) (\(tier))"]
        if let line = downgradeLine(facts) { lines.append("> \(line)") }
        if let aum = facts.aum { lines.append("> 当前资产 \(aum.displayText), 风险金额 \(facts.moneyAtRisk.displayText)") }
        for reason in facts.reasons.prefix(3) { lines.append("> 原因: \(reason)") }
        for action in facts.actions.prefix(3) { lines.append("> 建议: \(action)") }
        lines.append("> 预警编号 \(facts.alertId) · 详情: tierguardctl customer show \(facts.customerId)")
        return lines
    }

    public static func urgent(_ facts: AlertFacts) -> (title: String, text: String) {
        let title = "【紧急】\(kindName(facts.kind)): \(Masking.name(facts.customerName))"
        return (title, alertLines(facts, urgent: true).joined(separator: "\n"))
    }

    /// The morning digest: the alerts chosen by budget, ranked by money at risk, and how many more wait.
    public static func digest(day: CalendarDate, alerts: [AlertFacts], waiting: Int) -> (title: String, text: String) {
        let title = "\(day) 客户维护日报: \(alerts.count) 位客户需关注"
        var lines = ["## \(title)"]
        for (index, facts) in alerts.enumerated() {
            var block = alertLines(facts, urgent: false)
            block[0] = "\(index + 1). " + block[0]
            lines += block
        }
        if waiting > 0 { lines.append("另有 \(waiting) 条预警超出今日额度, 见 tierguardctl notify waiting") }
        return (title, lines.joined(separator: "\n"))
    }
}
