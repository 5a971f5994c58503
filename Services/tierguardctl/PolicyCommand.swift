import Foundation
import ServiceKit
import TierGuardModel
import TierGuardStore

/// `tierguardctl policy show` prints the scoring policy in force (the file named by
/// `TIERGUARD_POLICY_FILE`, else the built-in one) as JSON; `tierguardctl policy check FILE`
/// validates a policy file and lists every problem (exit 0 valid, 1 invalid).
/// `--catalog` applies both to the product catalog (`TIERGUARD_CATALOG_FILE`) instead.
enum PolicyCommand: CtlCommand {
    static let spec = CommandSpec(name: "policy", abstract: "Show or check the scoring policy", subcommands: [
        CommandSpec(name: "show", abstract: "Print the policy in force (TIERGUARD_POLICY_FILE, else built-in) as JSON",
                    flags: [.init("catalog", help: "Print the product catalog in force instead")]),
        CommandSpec(name: "check", abstract: "Validate a policy file, listing every problem (exit 0 valid, 1 invalid)",
                    flags: [.init("catalog", help: "The file is a product catalog")],
                    positionals: [.init("FILE", help: "Policy (or catalog) JSON file")]),
    ])

    static func run(_ arguments: Arguments, _ context: CtlContext) throws -> ExitCode {
        let catalog = arguments.flag("catalog")
        switch arguments.subcommands.dropFirst().first {
        case "show":
            let settings = try ScoringSettings.load()
            let data = catalog ? try settings.catalog.jsonData() : try settings.policy.jsonData()
            context.print(String(decoding: data, as: UTF8.self))
            return .success
        case "check":
            guard let path = arguments.positionals.first else { throw arguments.usageError("FILE is required") }
            guard let data = FileManager.default.contents(atPath: path) else {
                context.print("\(path): cannot read the file")
                return .failure
            }
            do {
                if catalog {
                    let loaded = try ProductCatalog.load(json: data)
                    context.print("\(path): valid product catalog, version \(loaded.version), \(loaded.products.count) products")
                } else {
                    let loaded = try ScoringPolicy.load(json: data)
                    context.print("\(path): valid scoring policy, version \(loaded.version)")
                }
                return .success
            } catch let error as ScoringPolicyError {
                context.print("\(path): \(error.code == .malformed ? "not a valid policy document" : "invalid policy") — \(error.problems.count) problem(s):")
                for problem in error.problems { context.print("  - \(problem)") }
                return .failure
            } catch let error as ProductCatalogError {
                context.print("\(path): \(error.code == .malformed ? "not a valid catalog document" : "invalid catalog") — \(error.problems.count) problem(s):")
                for problem in error.problems { context.print("  - \(problem)") }
                return .failure
            }
        default:
            throw arguments.usageError("expected show or check")
        }
    }
}
