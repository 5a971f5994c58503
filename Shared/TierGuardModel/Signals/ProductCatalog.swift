import Foundation

/// A product the bank may recommend (产品目录 entry).
///
/// JSON (snake_case, amounts in fen as integers like the policy file):
/// `{"code": "WM-STEADY-90", "name": "稳健90天理财", "risk": "R2", "minimum_fen": 1000000,
///   "eligible_tiers": ["standard", "gold"], "margin_bps": 50, "product": "wealth"}`.
/// `product` (the archive's asset product type it is booked as) is optional.
public struct CatalogProduct: Codable, Sendable, Hashable {
    public var code: String
    public var name: String
    public var risk: ProductRisk
    /// 起购金额: the smallest amount the customer can buy.
    public var minimum: Fen
    /// Tiers that may be offered the product.
    public var eligibleTiers: Set<Tier>
    /// The bank's annual margin on the product, basis points of the amount held.
    public var marginBasisPoints: Int
    public var product: Product?

    public init(code: String, name: String, risk: ProductRisk, minimum: Fen, eligibleTiers: Set<Tier>,
                marginBasisPoints: Int, product: Product? = nil) {
        self.code = code
        self.name = name
        self.risk = risk
        self.minimum = minimum
        self.eligibleTiers = eligibleTiers
        self.marginBasisPoints = marginBasisPoints
        self.product = product
    }

    enum CodingKeys: String, CodingKey {
        case code, name, risk
        case minimum = "minimum_fen"
        case eligibleTiers = "eligible_tiers"
        case marginBasisPoints = "margin_bps"
        case product
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        code = try c.decode(String.self, forKey: .code)
        name = try c.decode(String.self, forKey: .name)
        let riskCode = try c.decode(String.self, forKey: .risk)
        guard let risk = ProductRisk(code: riskCode) else {
            throw DecodingError.dataCorruptedError(forKey: .risk, in: c, debugDescription: "expected R1…R5, got \(riskCode)")
        }
        self.risk = risk
        minimum = Fen(try c.decode(Int64.self, forKey: .minimum))
        let tierCodes = try c.decode([String].self, forKey: .eligibleTiers)
        var tiers = Set<Tier>()
        for tierCode in tierCodes {
            guard let tier = Tier(code: tierCode) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .eligibleTiers, in: c,
                    debugDescription: "unknown tier \(tierCode); known: \(Tier.allCases.map(\.code).joined(separator: ", "))")
            }
            tiers.insert(tier)
        }
        eligibleTiers = tiers
        marginBasisPoints = try c.decode(Int.self, forKey: .marginBasisPoints)
        product = try c.decodeIfPresent(Product.self, forKey: .product)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(code, forKey: .code)
        try c.encode(name, forKey: .name)
        try c.encode(risk.code, forKey: .risk)
        try c.encode(minimum.value, forKey: .minimum)
        try c.encode(eligibleTiers.sorted().map(\.code), forKey: .eligibleTiers)
        try c.encode(marginBasisPoints, forKey: .marginBasisPoints)
        try c.encodeIfPresent(product, forKey: .product)
    }
}

/// The products the next best action chooses from: a JSON file (`{"version": …, "products": […]}`)
/// or the built-in default.
public struct ProductCatalog: ConfigurationDocument, Sendable, Hashable {
    public var version: String
    public var products: [CatalogProduct]

    public init(version: String, products: [CatalogProduct]) {
        self.version = version
        self.products = products
    }

    /// Human-readable problems, empty when the catalog is usable: a version; at least one product;
    /// codes non-empty, without whitespace and unique; names non-empty; minimum ≥ 0; at least one
    /// eligible tier; margin 0…10,000 bps; an asset `product` type (never a loan or card).
    public func validate() -> [String] {
        var problems: [String] = []
        if version.trimmingCharacters(in: .whitespaces).isEmpty { problems.append("version must not be empty") }
        if products.isEmpty { problems.append("products must not be empty") }
        var seen = Set<String>()
        for (i, p) in products.enumerated() {
            let at = "products[\(i)]"
            if p.code.isEmpty || p.code.contains(where: \.isWhitespace) {
                problems.append("\(at).code must be non-empty without spaces, got \"\(p.code)\"")
            } else if !seen.insert(p.code).inserted {
                problems.append("\(at).code \(p.code) appears twice")
            }
            if p.name.trimmingCharacters(in: .whitespaces).isEmpty { problems.append("\(at).name must not be empty") }
            if p.minimum < .zero { problems.append("\(at).minimum_fen must not be negative, got \(p.minimum.value)") }
            if p.eligibleTiers.isEmpty { problems.append("\(at).eligible_tiers must name at least one tier") }
            if !(0...10_000).contains(p.marginBasisPoints) {
                problems.append("\(at).margin_bps must be 0…10000, got \(p.marginBasisPoints)")
            }
            if let product = p.product, !product.isAsset {
                problems.append("\(at).product must be an asset product, got \(product.rawValue)")
            }
        }
        return problems
    }

    /// Decodes a catalog file, then validates it.
    ///
    /// - Throws: `ProductCatalogError` `.malformed` (not JSON, a field missing or of the wrong type)
    ///   or `.invalid` (every problem `validate()` found).
    public static func load(json: Data) throws(ProductCatalogError) -> ProductCatalog {
        do {
            return try ConfigurationJSON.load(ProductCatalog.self, json: json)
        } catch {
            switch error {
            case .malformed(let problems): throw ProductCatalogError(code: .malformed, problems: problems)
            case .invalid(let problems): throw ProductCatalogError(code: .invalid, problems: problems)
            }
        }
    }

    /// Pretty, key-sorted JSON that `load(json:)` reads back.
    public func jsonData() throws -> Data {
        try ConfigurationJSON.prettyData(self)
    }

    /// A realistic default shelf for a Chinese retail bank, R1 to R5. Minimums follow market
    /// practice: 大额存单 from 200,000 yuan, 私募 (qualified investors) from 1,000,000 yuan.
    public static let builtIn: ProductCatalog = {
        let all = Set(Tier.allCases)
        let goldUp: Set<Tier> = [.gold, .platinum, .diamond, .privateBanking]
        let platinumUp: Set<Tier> = [.platinum, .diamond, .privateBanking]
        return ProductCatalog(version: "builtin-2026.1", products: [
            CatalogProduct(code: "CASH-DAILY", name: "天天利现金管理", risk: .r1, minimum: Fen(yuan: 1),
                           eligibleTiers: all, marginBasisPoints: 30, product: .wealth),
            CatalogProduct(code: "LCD-3Y", name: "三年期大额存单", risk: .r1, minimum: Fen(yuan: 200_000),
                           eligibleTiers: all, marginBasisPoints: 90, product: .timeDeposit),
            CatalogProduct(code: "ANNUITY-10", name: "十年期年金保险", risk: .r1, minimum: Fen(yuan: 50_000),
                           eligibleTiers: goldUp, marginBasisPoints: 150, product: .insurance),
            CatalogProduct(code: "WM-STEADY-90", name: "稳健90天理财", risk: .r2, minimum: Fen(yuan: 10_000),
                           eligibleTiers: all, marginBasisPoints: 50, product: .wealth),
            CatalogProduct(code: "SD-STRUCT-6M", name: "六个月结构性存款", risk: .r2, minimum: Fen(yuan: 50_000),
                           eligibleTiers: platinumUp, marginBasisPoints: 70, product: .timeDeposit),
            CatalogProduct(code: "FUND-BALANCED", name: "平衡混合基金", risk: .r3, minimum: Fen(yuan: 1_000),
                           eligibleTiers: goldUp, marginBasisPoints: 120, product: .fund),
            CatalogProduct(code: "FUND-EQUITY", name: "股票精选基金", risk: .r4, minimum: Fen(yuan: 10_000),
                           eligibleTiers: goldUp, marginBasisPoints: 150, product: .fund),
            CatalogProduct(code: "PE-FOF", name: "私募股权母基金", risk: .r5, minimum: Fen(yuan: 1_000_000),
                           eligibleTiers: [.diamond, .privateBanking], marginBasisPoints: 200, product: .fund),
        ])
    }()
}

/// Why a catalog file was refused.
public struct ProductCatalogError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// Not JSON, or a field missing or of the wrong type.
        case malformed
        /// Well-formed but fails `ProductCatalog.validate()`.
        case invalid
    }

    public var code: Code
    /// Each problem, naming the field.
    public var problems: [String]

    public init(code: Code, problems: [String]) {
        self.code = code
        self.problems = problems
    }

    public var description: String {
        let what = code == .malformed ? "catalog file is not a valid product catalog" : "catalog file has invalid values"
        return "\(what): " + problems.joined(separator: "; ") + ". Fix the file and load it again."
    }
}

extension ProductCatalogError {
    /// A decoding error described with its field path (`products.[2].risk: expected R1…R5, got R9`).
    static func describe(_ error: DecodingError) -> String { ConfigurationJSON.describe(error) }
}
