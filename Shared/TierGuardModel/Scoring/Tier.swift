/// A customer tier (客户等级), ordered from 普通 to 私人银行.
///
/// The raw value orders the tiers so `Comparable` means "higher tier"; the `code` is the stable
/// string stored in the database and policy files, and never changes with a rename in Swift.
public enum Tier: Int, Codable, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case standard = 0, gold, platinum, diamond, privateBanking

    /// The name an RM reads: 普通, 金卡, 白金, 钻石, 私人银行.
    public var chineseName: String {
        switch self {
        case .standard: "普通"
        case .gold: "金卡"
        case .platinum: "白金"
        case .diamond: "钻石"
        case .privateBanking: "私人银行"
        }
    }

    /// Stable code for storage and JSON: `standard`, `gold`, `platinum`, `diamond`, `private`.
    public var code: String {
        switch self {
        case .standard: "standard"
        case .gold: "gold"
        case .platinum: "platinum"
        case .diamond: "diamond"
        case .privateBanking: "private"
        }
    }

    /// The tier of a stable `code`, or nil for an unknown one.
    public init?(code: String) {
        guard let tier = Tier.allCases.first(where: { $0.code == code }) else { return nil }
        self = tier
    }

    /// The next tier down, nil for 普通.
    public var below: Tier? { Tier(rawValue: rawValue - 1) }

    public var description: String { code }

    public static func < (lhs: Tier, rhs: Tier) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Encoded as its `code` (`"private"`), so stored JSON reads the same to people and survives a reordering.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let code = try container.decode(String.self)
        guard let tier = Tier(code: code) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "unknown tier \(code); expected standard, gold, platinum, diamond or private")
        }
        self = tier
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }
}
