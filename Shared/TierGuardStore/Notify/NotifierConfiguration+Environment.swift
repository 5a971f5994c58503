import Foundation
import ServiceKit

extension NotifierConfiguration {
    /// The notifier's environment variables (`tierguard-notifier --help` lists them).
    public static let configVariables: [ConfigVariable] = [
        ConfigVariable("TIERGUARD_NOTIFY_CHANNEL", default: "webhook",
                       "channel for RMs: webhook, wecom_robot, wecom_app or email"),
        ConfigVariable("TIERGUARD_NOTIFY_RM_CHANNELS", default: "", "per-RM override: RM01=wecom_app,RM02=email"),
        ConfigVariable("TIERGUARD_NOTIFY_WEBHOOK_URL", default: "", "CRM / RM workbench endpoint for the webhook channel"),
        ConfigVariable("TIERGUARD_NOTIFY_WEBHOOK_SECRETS", default: "",
                       "active signing secrets whsec_<base64>, space-separated (two during rotation)", isSecret: true),
        ConfigVariable("TIERGUARD_NOTIFY_ROBOT_URL", default: "", "WeCom group robot URL (holds its key)", isSecret: true),
        ConfigVariable("TIERGUARD_NOTIFY_FALLBACK_ROUTES", default: "",
                       "branch=channel:target list for customers whose RM is unknown or inactive"),
        ConfigVariable("TIERGUARD_WECOM_BASE_URL", default: "https://qyapi.weixin.qq.com", "WeCom API base URL"),
        ConfigVariable("TIERGUARD_WECOM_CORP_ID", default: "", "WeCom corp id (wecom_app)"),
        ConfigVariable("TIERGUARD_WECOM_CORP_SECRET", default: "", "WeCom application secret (wecom_app)", isSecret: true),
        ConfigVariable("TIERGUARD_WECOM_AGENT_ID", default: "0", "WeCom application agent id (wecom_app)"),
        ConfigVariable("TIERGUARD_SMS_GATEWAY_URL", default: "", "SMS template API endpoint; empty = no SMS"),
        ConfigVariable("TIERGUARD_SMS_SIGN_NAME", default: "", "SMS sign name (签名)"),
        ConfigVariable("TIERGUARD_SMS_BIRTHDAY_TEMPLATE", default: "SMS_BIRTHDAY", "SMS template code of the birthday greeting"),
        ConfigVariable("TIERGUARD_SMTP_HOST", default: "", "SMTP relay host; empty = no email"),
        ConfigVariable("TIERGUARD_SMTP_PORT", default: "25", "SMTP relay port"),
        ConfigVariable("TIERGUARD_SMTP_FROM", default: "tierguard@localhost", "envelope and From address"),
        ConfigVariable("TIERGUARD_SMTP_USER", default: "", "AUTH PLAIN user; empty = no AUTH"),
        ConfigVariable("TIERGUARD_SMTP_PASSWORD", default: "", "AUTH PLAIN password", isSecret: true),
        ConfigVariable("TIERGUARD_NOTIFY_DAILY_BUDGET", default: "15", "alerts per RM per daily digest"),
        ConfigVariable("TIERGUARD_NOTIFY_URGENT_IN_QUIET_HOURS", default: "false",
                       "send urgent alerts during quiet hours 21:00-08:00 instead of at 08:00"),
        ConfigVariable("TIERGUARD_NOTIFY_TIMEOUT_SECONDS", default: "10", "per-request timeout of every channel"),
    ]

    /// Builds the configuration from the environment; throws on a malformed route or secret.
    public static func load(_ env: EnvironmentConfig, urgentKinds: [String]) throws -> NotifierConfiguration {
        func text(_ name: String) throws -> String { (try env.optionalString(name)) ?? "" }
        let timeout = Double(try env.int("TIERGUARD_NOTIFY_TIMEOUT_SECONDS", in: 1...300))
        let client = NotifyHTTPClient(timeoutSeconds: timeout, maxConnectionsPerHost: 16)
        var channels: [any NotificationChannel] = [WeComRobotChannel(client: client)]
        let secrets = try text("TIERGUARD_NOTIFY_WEBHOOK_SECRETS").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        channels.append(try WebhookChannel(secrets: secrets, client: client))
        let corp = try text("TIERGUARD_WECOM_CORP_ID")
        if !corp.isEmpty {
            channels.append(WeComAppChannel(baseURL: try text("TIERGUARD_WECOM_BASE_URL"), corpId: corp,
                                            corpSecret: try text("TIERGUARD_WECOM_CORP_SECRET"),
                                            agentId: try env.int("TIERGUARD_WECOM_AGENT_ID"), client: client))
        }
        let sms = try text("TIERGUARD_SMS_GATEWAY_URL")
        if !sms.isEmpty { channels.append(SMSChannel(gatewayURL: sms, signName: try text("TIERGUARD_SMS_SIGN_NAME"), client: client)) }
        let smtp = try text("TIERGUARD_SMTP_HOST")
        if !smtp.isEmpty {
            let user = try text("TIERGUARD_SMTP_USER")
            channels.append(SMTPChannel(host: smtp, port: try env.int("TIERGUARD_SMTP_PORT", in: 1...65535),
                                        from: try text("TIERGUARD_SMTP_FROM"), username: user.isEmpty ? nil : user,
                                        password: user.isEmpty ? nil : try text("TIERGUARD_SMTP_PASSWORD"),
                                        timeoutSeconds: Int(timeout)))
        }
        var rmChannels: [String: ChannelKind] = [:]
        for item in try text("TIERGUARD_NOTIFY_RM_CHANNELS").split(separator: ",") {
            let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, let kind = ChannelKind(rawValue: pair[1]) else {
                throw NotifyConfigurationError(message: "TIERGUARD_NOTIFY_RM_CHANNELS: expected RM=channel, got \(item)")
            }
            rmChannels[pair[0]] = kind
        }
        guard let channel = ChannelKind(rawValue: try text("TIERGUARD_NOTIFY_CHANNEL")) else {
            throw NotifyConfigurationError(message: "TIERGUARD_NOTIFY_CHANNEL: one of webhook, wecom_robot, wecom_app, email")
        }
        var policy = NotifyPolicy(urgentKinds: urgentKinds)
        policy.dailyBudget = try env.int("TIERGUARD_NOTIFY_DAILY_BUDGET", in: 1...1000)
        policy.urgentIgnoresQuietHours = try env.bool("TIERGUARD_NOTIFY_URGENT_IN_QUIET_HOURS")
        let webhook = try text("TIERGUARD_NOTIFY_WEBHOOK_URL")
        let robot = try text("TIERGUARD_NOTIFY_ROBOT_URL")
        return NotifierConfiguration(
            policy: policy, defaultChannel: channel, rmChannels: rmChannels, webhookURL: webhook.isEmpty ? nil : webhook,
            robotURL: robot.isEmpty ? nil : robot,
            fallbackRoutes: try NotifyRoute.parseFallbacks(try text("TIERGUARD_NOTIFY_FALLBACK_ROUTES")),
            channels: channels, birthdayTemplate: try text("TIERGUARD_SMS_BIRTHDAY_TEMPLATE"))
    }
}
