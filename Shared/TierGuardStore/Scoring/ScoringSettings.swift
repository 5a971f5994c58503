import Foundation
import Postgres
import ServiceKit
import TierGuardModel

/// The policy and product catalog in force, and how the business date is chosen.
///
/// - Policy: the JSON file named by `TIERGUARD_POLICY_FILE`, else `ScoringPolicy.builtIn`. A file
///   that does not load (malformed or invalid) is an error, never a silent fallback to the defaults.
/// - Catalog: the JSON file named by `TIERGUARD_CATALOG_FILE`, else `ProductCatalog.builtIn`; same rule.
/// - Business date: `TIERGUARD_BUSINESS_DATE` (YYYY-MM-DD, for replays) when set, else
///   `tierguard_business_date()` — the latest `as_of` of any accepted balance.
public struct ScoringSettings: Sendable {
    public static let policyFileVariable = "TIERGUARD_POLICY_FILE"
    public static let catalogFileVariable = "TIERGUARD_CATALOG_FILE"
    public static let businessDateVariable = "TIERGUARD_BUSINESS_DATE"

    /// The variables a service declares to read these settings.
    public static let configVariables: [ConfigVariable] = [
        ConfigVariable(policyFileVariable, default: "", "Scoring policy JSON file (empty: the built-in policy)"),
        ConfigVariable(catalogFileVariable, default: "", "Product catalog JSON file (empty: the built-in catalog)"),
        ConfigVariable(businessDateVariable, default: "", "Business date override YYYY-MM-DD (empty: latest balance as_of)"),
    ]

    public var policy: ScoringPolicy
    public var catalog: ProductCatalog
    public var businessDateOverride: CalendarDate?

    public init(policy: ScoringPolicy = .builtIn, catalog: ProductCatalog = .builtIn, businessDateOverride: CalendarDate? = nil) {
        self.policy = policy
        self.catalog = catalog
        self.businessDateOverride = businessDateOverride
    }

    /// Reads the three variables from an environment (empty or absent: the defaults).
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ScoringSettings {
        var settings = ScoringSettings()
        if let path = environment[policyFileVariable], !path.isEmpty {
            settings.policy = try loadPolicy(path: path)
        }
        if let path = environment[catalogFileVariable], !path.isEmpty {
            settings.catalog = try loadCatalog(path: path)
        }
        if let text = environment[businessDateVariable], !text.isEmpty {
            guard let date = CalendarDate(text) else {
                throw ScoringError("\(businessDateVariable) must be a date YYYY-MM-DD, got \"\(text)\"")
            }
            settings.businessDateOverride = date
        }
        return settings
    }

    public static func loadPolicy(path: String) throws -> ScoringPolicy {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ScoringError("cannot read policy file \(path): \(error.localizedDescription)")
        }
        return try ScoringPolicy.load(json: data)
    }

    public static func loadCatalog(path: String) throws -> ProductCatalog {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ScoringError("cannot read catalog file \(path): \(error.localizedDescription)")
        }
        return try ProductCatalog.load(json: data)
    }

    /// The business date to score on, nil when the archive holds no balance and none is configured.
    public func businessDate(_ session: PostgresSession) throws -> CalendarDate? {
        if let businessDateOverride { return businessDateOverride }
        let rows = try session.query(ScoringSQL.businessDate)
        let day: Int? = try rows.count > 0 ? rows[0].decode(Int?.self, at: 0) : nil
        return day.map { CalendarDate(dayNumber: $0) }
    }

    /// Records the policy version in `scoring_policies` and marks it the active one (idempotent).
    public func recordPolicy(_ session: PostgresSession) throws {
        let json = String(decoding: try policy.jsonData(), as: UTF8.self)
        try session.withTransaction { s in
            try s.execute(ScoringSQL.deactivateOtherPolicies.binding(policy.version))
            try s.execute(ScoringSQL.upsertPolicy.binding(policy.version, json))
        }
    }
}

/// A scoring failure with a message safe to log (no personal data).
public struct ScoringError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
