import Foundation
import PersonalDataVault
import TierGuardModel

/// Where one RM's (or one branch's) messages go.
public struct NotifyRoute: Sendable, Hashable {
    public var channel: ChannelKind
    /// URL (webhook, wecom_robot), WeCom userid (wecom_app), address (email); empty = the RM's own.
    public var target: String

    public init(channel: ChannelKind, target: String) {
        self.channel = channel
        self.target = target
    }

    /// `channel:target` (the target may itself hold colons, as URLs do).
    public init(parsing text: String) throws {
        guard let colon = text.firstIndex(of: ":"), let channel = ChannelKind(rawValue: String(text[..<colon])) else {
            throw NotifyConfigurationError(message: "a route is channel:target with channel one of \(ChannelKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.init(channel: channel, target: String(text[text.index(after: colon)...]))
    }

    /// `TIERGUARD_NOTIFY_FALLBACK_ROUTES`: `B01=webhook:http://…,B02=wecom_robot:https://…`.
    public static func parseFallbacks(_ text: String) throws -> [String: NotifyRoute] {
        var routes: [String: NotifyRoute] = [:]
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            guard let equals = item.firstIndex(of: "=") else {
                throw NotifyConfigurationError(message: "a fallback route is branch=channel:target")
            }
            routes[String(item[..<equals])] = try NotifyRoute(parsing: String(item[item.index(after: equals)...]))
        }
        return routes
    }
}

/// The notifier's wiring: the policy, how RMs are reached, branch fallbacks and the channel adapters.
public struct NotifierConfiguration: Sendable {
    public var policy: NotifyPolicy
    /// The channel every active RM is reached on, unless `rmChannels` names another.
    public var defaultChannel: ChannelKind
    public var rmChannels: [String: ChannelKind]
    /// The CRM / workbench endpoint for `webhook` (the RM is named in the body).
    public var webhookURL: String?
    /// The group robot URL for `wecom_robot`.
    public var robotURL: String?
    /// Branch → route for customers whose RM is unknown or inactive.
    public var fallbackRoutes: [String: NotifyRoute]
    public var channels: [ChannelKind: any NotificationChannel]
    /// The SMS template code of the birthday greeting.
    public var birthdayTemplate: String
    /// Opens the sealed phone number of a birthday greeting (the only personal identifier the notifier
    /// ever decrypts); `.process` reads the key files of the environment.
    public var vault: PersonalDataVault

    public init(policy: NotifyPolicy = NotifyPolicy(), defaultChannel: ChannelKind = .webhook,
                rmChannels: [String: ChannelKind] = [:], webhookURL: String? = nil, robotURL: String? = nil,
                fallbackRoutes: [String: NotifyRoute] = [:], channels: [any NotificationChannel],
                birthdayTemplate: String = "SMS_BIRTHDAY", vault: PersonalDataVault = .process) {
        self.policy = policy
        self.defaultChannel = defaultChannel
        self.rmChannels = rmChannels
        self.webhookURL = webhookURL
        self.robotURL = robotURL
        self.fallbackRoutes = fallbackRoutes
        self.channels = Dictionary(channels.map { ($0.kind, $0) }, uniquingKeysWith: { $1 })
        self.birthdayTemplate = birthdayTemplate
        self.vault = vault
    }

    /// The RM's own route, or nil when the channel has no target for this RM.
    public func route(rmId: String, wecomUserId: String?, email: String?) -> NotifyRoute? {
        let channel = rmChannels[rmId] ?? defaultChannel
        let target: String?
        switch channel {
        case .webhook: target = webhookURL
        case .wecomRobot: target = robotURL
        case .wecomApp: target = wecomUserId
        case .email: target = email
        case .sms: target = nil   // SMS is for customer-facing messages only, never RM alerts
        }
        guard let target, !target.isEmpty else { return nil }
        return NotifyRoute(channel: channel, target: target)
    }

    /// Routing: an active RM with a target → the RM; otherwise the branch fallback (addressed as
    /// `branch:<id>`, listed by `tierguardctl notify unrouted`); otherwise suppressed — `no_route`
    /// for an unknown RM or an RM without a target, `rm_inactive` for an inactive one.
    public func resolve(_ facts: AlertFacts) -> Result<(rmId: String, route: NotifyRoute), SuppressReason> {
        if facts.rmKnown, facts.rmActive,
           let route = route(rmId: facts.rmId, wecomUserId: facts.rmWeComUserId, email: facts.rmEmail) {
            return .success((facts.rmId, route))
        }
        if let fallback = fallbackRoutes[facts.branchId] { return .success(("branch:\(facts.branchId)", fallback)) }
        return .failure(facts.rmKnown && !facts.rmActive ? .rmInactive : .noRoute)
    }
}

/// Why a notification was deliberately not sent.
public enum SuppressReason: String, Sendable, Error {
    case quietHours = "quiet_hours", optOut = "opt_out", duplicate, noRoute = "no_route", rmInactive = "rm_inactive"
}
