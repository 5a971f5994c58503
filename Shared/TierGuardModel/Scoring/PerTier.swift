/// One value per tier, encoded as a JSON object keyed by tier code
/// (`{"standard": …, "gold": …, "platinum": …, "diamond": …, "private": …}`).
///
/// Why not `[Tier: Value]`: a dictionary can miss a tier, and a missing floor would be a silent
/// scoring bug; here every tier has a value by construction.
public struct PerTier<Value: Codable & Sendable & Hashable>: Codable, Sendable, Hashable {
    public var standard: Value
    public var gold: Value
    public var platinum: Value
    public var diamond: Value
    public var privateBanking: Value

    public init(standard: Value, gold: Value, platinum: Value, diamond: Value, privateBanking: Value) {
        self.standard = standard
        self.gold = gold
        self.platinum = platinum
        self.diamond = diamond
        self.privateBanking = privateBanking
    }

    public subscript(tier: Tier) -> Value {
        get {
            switch tier {
            case .standard: standard
            case .gold: gold
            case .platinum: platinum
            case .diamond: diamond
            case .privateBanking: privateBanking
            }
        }
        set {
            switch tier {
            case .standard: standard = newValue
            case .gold: gold = newValue
            case .platinum: platinum = newValue
            case .diamond: diamond = newValue
            case .privateBanking: privateBanking = newValue
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case standard, gold, platinum, diamond
        case privateBanking = "private"
    }
}
