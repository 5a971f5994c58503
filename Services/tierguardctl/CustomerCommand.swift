import Foundation
import PersonalDataVault
import Postgres
import ServiceKit
import TierGuardModel
import TierGuardStore

/// `tierguardctl customer show ID [--json] [--unmask --reason TEXT]`: what `customer_status` shows
/// for the customer, plus its tier history, open alerts, signals with their figures and the
/// recommendations of its newest score. Name, ID number and phone are masked (`张*`,
/// `110105********002X`, `138****5678`) unless `--unmask` is given with a `--reason`, after appending a
/// `pii_access_audit` row (operator, customer, reason; issue 11). ID number and phone are stored
/// encrypted (`PersonalDataVault`); only the one row shown is decrypted, in this process, with the keys
/// from `TIERGUARD_PII_KEYS_FILE` (a value under an unknown key shows as `(undecryptable: key id)`).
///
/// `tierguardctl customer erase ID --reason TEXT [--force-before-retention] [--retention-days N]`:
/// anonymises a closed customer's personal fields after the retention period (`CustomerErasure`):
/// exit 0 when erased or already erased, 1 when refused (not closed, retention running, unknown id).
///
/// `tierguardctl customer explain ID`: PIPL art. 24 — in plain Chinese, why the customer has its
/// tier, warning and recommendations, with the figures and the policy version. It runs the model
/// on the current business date without writing anything, so it explains exactly what the next
/// scoring will store.
enum CustomerCommand: CtlCommand {
    static let spec = CommandSpec(name: "customer", abstract: "Show or explain a customer's tier, warnings and history", subcommands: [
        CommandSpec(name: "show", abstract: "Status, tier history, open alerts, signals and recommendations",
                    flags: [.init("json", help: "Print JSON"), .init("unmask", help: "Show the name unmasked (needs --reason)")],
                    options: [.init("reason", valueName: "TEXT", help: "Why the name must be shown unmasked")],
                    positionals: [.init("ID", help: "Customer id")]),
        CommandSpec(name: "explain", abstract: "Explain tier, warning and recommendations in plain Chinese (PIPL art. 24)",
                    positionals: [.init("ID", help: "Customer id")]),
        CommandSpec(name: "erase", abstract: "Anonymise a closed customer's personal fields after retention (PIPL art. 47)",
                    flags: [.init("force-before-retention", help: "Erase even though the retention period has not passed (recorded)")],
                    options: [.init("reason", valueName: "TEXT", help: "Why (required; kept in customer_erasures)"),
                              .init("retention-days", valueName: "N", help: "Retention period in days from the last activity (default 1095)")],
                    positionals: [.init("ID", help: "Customer id")]),
    ])

    static func run(_ arguments: Arguments, _ context: CtlContext) throws -> ExitCode {
        guard let id = arguments.positionals.first else { throw arguments.usageError("ID is required") }
        let session = try context.connect()
        defer { session.close() }
        switch arguments.subcommands.dropFirst().first {
        case "show": return try show(id, arguments, context, session)
        case "explain": return try explain(id, context, session)
        case "erase": return try erase(id, arguments, context, session)
        default: throw arguments.usageError("expected show, explain or erase")
        }
    }

    static func show(_ id: String, _ arguments: Arguments, _ context: CtlContext, _ session: PostgresSession) throws -> ExitCode {
        let unmask = arguments.flag("unmask")
        var reason: String?
        if unmask {
            do { reason = try PIIAccessAudit.requireReason(arguments.option("reason")) } catch {
                throw arguments.usageError("--unmask needs --reason")
            }
        }
        let vault: PersonalDataVault
        switch PersonalDataVault.processResult {
        case .success(let v): vault = v
        case .failure(let error):
            context.logger.critical("configuration: \(error)")
            return .configuration
        }
        let rows = try session.query(PostgresQuery("""
            SELECT c.name, jsonb_build_object(
                'customer_id', c.customer_id, 'status', to_jsonb(st) - 'customer_id',
                'signals', coalesce(s.signals, '[]'), 'recommendations', coalesce(s.recommendations, '[]'),
                'warning', s.warning, 'value', s.value, 'last_three_months', jsonb_build_array(
                    jsonb_build_object('month', st.m3_month, 'sum_fen', s.m3_sum_fen, 'days', s.m3_days, 'before_first_balance', s.m3_before_first),
                    jsonb_build_object('month', st.m2_month, 'sum_fen', s.m2_sum_fen, 'days', s.m2_days, 'before_first_balance', s.m2_before_first),
                    jsonb_build_object('month', st.m1_month, 'sum_fen', s.m1_sum_fen, 'days', s.m1_days, 'before_first_balance', s.m1_before_first)),
                'tier_history', coalesce((SELECT jsonb_agg(to_jsonb(h) - 'customer_id' ORDER BY h.effective_on)
                                          FROM customer_tier_history h WHERE h.customer_id = c.customer_id), '[]'),
                'open_alerts', coalesce((SELECT jsonb_agg(jsonb_build_object('id', a.id, 'kind', a.kind, 'since', a.first_business_date,
                                                 'business_date', a.business_date, 'cooldown_until', a.cooldown_until) ORDER BY a.id)
                                         FROM alerts a WHERE a.customer_id = c.customer_id AND a.state = 'open'), '[]'))::text,
                   c.id_number_enc, c.phone_enc
            FROM customers c
            JOIN customer_status st ON st.customer_id = c.customer_id
            LEFT JOIN LATERAL (SELECT * FROM customer_scores x WHERE x.customer_id = c.customer_id ORDER BY x.id DESC LIMIT 1) s ON true
            WHERE c.customer_id = $1
            """, name: "CustomerCommand.show").binding(id))
        guard rows.count == 1 else {
            context.print("customer \(id) is not in the archive")
            return .failure
        }
        if let reason {
            // Audit row first (committed on its own): if it cannot be written, nothing unmasked is shown.
            try PIIAccessAudit.record(session, operator: context.operatorName, customerIds: [id], reason: reason,
                                      command: "customer show")
            context.logger.notice("customer name unmasked", metadata: ["customer_id": id, "operator": context.operatorName])
        }
        let name: String = try rows[0].decode(at: 0)
        let shownName = unmask ? name : Masking.name(name)
        guard var object = try JSONSerialization.jsonObject(with: Data(try rows[0].decode(String.self, at: 1).utf8)) as? [String: Any] else {
            throw ScoringError("customer show: unexpected JSON from the database")
        }
        object["name"] = shownName
        // Decrypt this one row only; masked unless --unmask (audited above).
        func identifier(_ column: Int, _ field: PersonalField) throws -> String? {
            guard let sealed = try rows[0].decode(Data?.self, at: column) else { return nil }
            do {
                let plain = try vault.open(Array(sealed), field: field)
                return unmask ? plain : field == .idNumber ? Masking.idNumber(plain) : Masking.phone(plain)
            } catch {
                return "(undecryptable: \(PersonalDataVault.keyId(of: Array(sealed)) ?? "malformed"))"
            }
        }
        let idNumber = try identifier(2, .idNumber), phone = try identifier(3, .phone)
        object["id_number"] = idNumber ?? NSNull()
        object["phone"] = phone ?? NSNull()
        if arguments.flag("json") {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            context.print(String(decoding: data, as: UTF8.self))
            return .success
        }
        let status = object["status"] as? [String: Any] ?? [:]
        func fen(_ key: String, _ dict: [String: Any] = status) -> String {
            (dict[key] as? NSNumber).map { Fen($0.int64Value).displayText } ?? "-"
        }
        func text(_ key: String, _ dict: [String: Any] = status) -> String {
            dict[key].flatMap { $0 is NSNull ? nil : "\($0)" } ?? "-"
        }
        var out: [String] = []
        out.append("客户 \(id)  \(shownName)  证件 \(idNumber ?? "-")  手机 \(phone ?? "-")  RM \(text("rm_id"))  网点 \(text("branch_id"))")
        guard status["tier"] is String else {
            out.append("尚未评分（没有 customer_scores 记录）。")
            context.print(out.joined(separator: "\n"))
            return .success
        }
        let tier = Tier(code: text("tier"))
        out.append("业务日期 \(text("business_date"))  策略 \(text("policy_version"))  评分时间 \(text("scored_at"))")
        out.append("等级 \(tier?.chineseName ?? text("tier"))\((status["is_provisional"] as? Bool) == true ? "（暂定）" : "")"
                   + "  观察期 \(text("watch_months")) 个月  AUM \(fen("aum_fen"))  流失风险 \(String(format: "%.1f%%", ((status["retention_probability"] as? NSNumber)?.doubleValue ?? 0) * 100))")
        out.append("月日均  本月至今 \(fen("mtd_avg_fen"))  \(text("m3_month")) \(fen("m3_avg_fen"))  \(text("m2_month")) \(fen("m2_avg_fen"))  \(text("m1_month")) \(fen("m1_avg_fen"))")
        if status["downgrade_date"] is String {
            let to = Tier(code: text("downgrade_to_tier"))?.chineseName ?? text("downgrade_to_tier")
            let gap = status["gap_fen"] is NSNull || status["gap_fen"] == nil ? "已无法通过存入避免" : "缺口 \(fen("gap_fen"))"
            out.append("降级预警  预计 \(text("downgrade_date")) 降为\(to)，\(gap)，本月日均还差 \(fen("extra_daily_fen"))")
        } else {
            out.append("降级预警  无")
        }
        let signals = object["signals"] as? [[String: Any]] ?? []
        out.append("信号（\(signals.count)）")
        for s in signals { out.append("  - \(text("code", s)): \(text("reason", s))") }
        let recommendations = object["recommendations"] as? [[String: Any]] ?? []
        out.append("建议（\(recommendations.count)）")
        for r in recommendations { out.append("  \(text("rank", r)). [\(text("kind", r))] \(text("code", r)): \(text("reason", r))") }
        let history = object["tier_history"] as? [[String: Any]] ?? []
        out.append("等级历史（\(history.count)）")
        for h in history { out.append("  \(text("effective_on", h))  \(text("kind", h))  → \(text("to_tier", h)): \(text("reason", h))") }
        let alerts = object["open_alerts"] as? [[String: Any]] ?? []
        out.append("未结预警（\(alerts.count)）")
        for a in alerts { out.append("  #\(text("id", a))  \(text("kind", a))  自 \(text("since", a))  冷却至 \(text("cooldown_until", a))") }
        context.print(out.joined(separator: "\n"))
        return .success
    }

    static func erase(_ id: String, _ arguments: Arguments, _ context: CtlContext, _ session: PostgresSession) throws -> ExitCode {
        let reason: String
        do { reason = try PIIAccessAudit.requireReason(arguments.option("reason")) } catch {
            throw arguments.usageError("erase needs --reason")
        }
        var days = CustomerErasure.defaultRetentionDays
        if let text = arguments.option("retention-days") {
            guard let value = Int(text), value >= 0 else { throw arguments.usageError("--retention-days must be a whole number of days") }
            days = value
        }
        let force = arguments.flag("force-before-retention")
        switch try CustomerErasure.erase(session, customerId: id, operator: context.operatorName, reason: reason,
                                         retentionDays: days, force: force) {
        case .erased(let auditId, let from, let forced):
            context.logger.notice("customer erased", metadata: ["customer_id": id, "operator": context.operatorName,
                                                                "audit_id": "\(auditId)", "forced": "\(forced)"])
            context.print("customer \(id) erased (customer_erasures #\(auditId)\(forced ? ", before the retention period ended: forced" : "")): "
                          + CustomerErasure.fields.joined(separator: ", ")
                          + "; last activity \(from ?? "-"); scores, balances and transactions kept")
            return .success
        case .alreadyErased(let at):
            context.print("customer \(id) was already erased at \(at); nothing changed")
            return .success
        case .notFound:
            context.print("customer \(id) is not in the archive")
            return .failure
        case .notClosed(let status):
            context.print("customer \(id) is \(status), not closed: only a closed customer can be erased")
            return .failure
        case .retentionRunning(let from, let until):
            context.print("customer \(id): the retention period (\(days) days from the last activity on \(from)) runs until \(until); "
                          + "refused (--force-before-retention erases now and records that it was forced)")
            return .failure
        }
    }

    static func explain(_ id: String, _ context: CtlContext, _ session: PostgresSession) throws -> ExitCode {
        let settings = try ScoringSettings.load()
        let scorer = CustomerScorer(settings: settings, logger: context.logger)
        guard let (score, input) = try scorer.evaluate(session, customerId: id) else {
            context.print("customer \(id) is not in the archive, or the archive has no balance yet")
            return .failure
        }
        context.print(CustomerExplanation.text(score: score, input: input, policy: settings.policy))
        return .success
    }
}

/// The plain-Chinese explanation of one score (PIPL art. 24), every figure from the model.
enum CustomerExplanation {
    static func text(score: CustomerScore, input: CustomerInput, policy: ScoringPolicy) -> String {
        let a = score.assessment
        let bd = a.businessDate
        var out: [String] = []
        out.append("客户 \(score.customerId)（\(Masking.name(input.customer.name))）在业务日期 \(bd) 的自动化评估说明")
        out.append("策略版本 \(a.policyVersion)，产品目录版本 \(score.catalogVersion)。业务日期取最新余额日期，不使用系统时钟。")
        out.append("")
        out.append("一、等级：\(a.tier.chineseName)\(a.isProvisional ? "（暂定）" : "")")
        out.append("  规则：按完整自然月的月日均（该月每日资产之和 ÷ 当月天数）定级，门槛 "
                   + Tier.allCases.map { "\($0.chineseName) \(policy.floors[$0].displayText)" }.joined(separator: "、")
                   + "；达到更高门槛的次月 1 日升级，连续 \(policy.graceMonths[.gold]) 个完整月（私人银行 \(policy.graceMonths[.privateBanking]) 个）低于当前等级门槛才降级。")
        if a.isProvisional {
            out.append("  首个完整月尚未结束：按本月至今月日均 \(a.monthToDate.average.displayText)（\(a.monthToDate.days) 天）暂定，可能每天变化，不写入等级历史。")
        }
        for change in a.history {
            out.append("  \(change.effectiveOn) 起\(change.to.chineseName)：" + changeText(change))
        }
        if a.watchMonths > 0 {
            let months = a.completeMonths.suffix(a.watchMonths).map { "\($0.month) \($0.average.displayText)" }.joined(separator: "、")
            out.append("  观察期：最近 \(a.watchMonths) 个完整月月日均低于\(a.tier.chineseName)门槛 \(policy.floors[a.tier].displayText)（\(months)）。")
        }
        out.append("  月日均：本月至今 \(a.monthToDate.average.displayText)（\(a.monthToDate.days) 天）；"
                   + a.lastThreeMonths.map { "\($0.month) \($0.isBeforeFirstBalance ? "无余额（计 0）" : $0.average.displayText)" }.joined(separator: "；")
                   + "。业务日期资产 \(a.aum.displayText)。")
        out.append("")
        if let w = a.warning {
            let window = w.window.map { "\($0.month) \($0.average.displayText)\($0.projectedDays > 0 ? "（含 \($0.projectedDays) 天预测）" : "")" }.joined(separator: "、")
            out.append("二、降级预警：预计 \(w.date) 由\(w.fromTier.chineseName)降为\(w.toTier.chineseName)。")
            out.append("  依据：\(window) 均低于门槛 \(w.floor.displayText)；预测按业务日期资产 \(a.aum.displayText) 保持不变，"
                       + "降至窗口内最高月（\(w.bestMonth)）对应的等级。")
            if let gap = w.gap {
                out.append("  自 \(bd.adding(days: 1)) 起一次性存入 \(gap.displayText) 并保持，可避免此次降级；本月日均还差 \(w.extraDailyAverageNeeded.displayText)。")
            } else {
                out.append("  决定月已无剩余天数，已无法通过存入避免；本月日均差 \(w.extraDailyAverageNeeded.displayText)。")
            }
        } else {
            out.append("二、降级预警：未来 \(policy.horizonDays) 天内没有预计的降级。")
        }
        out.append("")
        out.append("三、信号（\(score.signals.count)）")
        if score.signals.isEmpty { out.append("  无。") }
        for s in score.signals { out.append("  - \(s.reason)") }
        let r = score.value.retention
        out.append("  流失风险概率 \(String(format: "%.1f%%", r.probability * 100))：逻辑回归 z = 截距 \(policy.retention.intercept)"
                   + r.codes.map { " + \($0) \(policy.retention.coefficients[$0] ?? 0)" }.joined() + String(format: " = %.2f", r.linearScore) + "。")
        let c = score.value.contribution
        out.append("  年贡献估算 \(c.total.displayText)（资产收益 \(c.aumRevenue.displayText) + 近一年手续费 \(c.feeIncome.displayText)）。")
        out.append("")
        out.append("四、建议（\(score.nextBestAction.recommendations.count)）")
        for rec in score.nextBestAction.recommendations { out.append("  \(rec.rank). \(rec.reason)") }
        let decisions = score.nextBestAction.suitability
        let allowed = decisions.filter(\.allowed)
        out.append("  适当性：客户风险等级 \(input.customer.riskLevel.code)，测评日期 \(input.customer.riskAssessedOn)"
                   + "\(decisions.first?.assessmentExpired == true ? "（已过期，仅可推荐 R1）" : "")；目录 \(decisions.count) 个产品中允许 \(allowed.count) 个。")
        if input.customer.marketingOptOut || input.consent.marketingRefused {
            out.append("  客户已拒绝个性化营销：不推荐任何产品，仅保留服务类行动（PIPL 第 24 条）。")
        } else if input.consent.automatedProfilingRefused {
            out.append("  客户已拒绝自动化决策画像：不推荐产品，保留服务提醒（PIPL 第 24 条）。")
        } else if input.feedback.openComplaints > 0 {
            out.append("  客户有未结投诉：结案前不推荐产品。")
        }
        for d in decisions where !d.allowed { out.append("    \(d.summary)") }
        return out.joined(separator: "\n")
    }

    static func changeText(_ change: TierChange) -> String {
        let months = change.months.map { "\($0.month) 月日均 \($0.average.displayText)" }.joined(separator: "、")
        switch change.kind {
        case .initial: return "首个完整月 \(months) 达到门槛 \(change.floor.displayText)（初始等级）。"
        case .upgrade: return "\(months) 达到门槛 \(change.floor.displayText)，由\(change.from?.chineseName ?? "-")升级。"
        case .downgrade: return "\(months) 均低于\(change.from?.chineseName ?? "-")门槛 \(change.floor.displayText)，降至最高月对应等级。"
        }
    }
}
