import Foundation
import Testing

@testable import ServiceKit

struct EnvironmentConfigTests {
    static let token = ConfigVariable("TIERGUARD_TOKEN", default: nil, "bearer token", isSecret: true)
    static let workers = ConfigVariable("TIERGUARD_WORKERS", default: "4", "concurrent handlers")
    static let drain = ConfigVariable("TIERGUARD_DRAIN_TIMEOUT", default: "30", "drain deadline in seconds")
    static let listen = ConfigVariable("TIERGUARD_LISTEN", default: "true", "use LISTEN/NOTIFY")
    static let config = ServiceConfig(
        service: "tierguard-test", variables: [.databaseURL, token, workers, drain, listen, .logLevel])

    func temporaryFile(_ contents: String) throws -> String {
        let path = NSTemporaryDirectory() + "kit-config-\(UUID().uuidString)"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func defaultsApplyWhenVariablesAreUnset() throws {
        let env = Self.config.resolve(environment: ["DATABASE_URL": "postgres://localhost/x", "TIERGUARD_TOKEN": "t"])
        #expect(try env.int("TIERGUARD_WORKERS") == 4)
        #expect(try env.duration("TIERGUARD_DRAIN_TIMEOUT") == .seconds(30))
        #expect(try env.bool("TIERGUARD_LISTEN") == true)
        #expect(try env.logLevel() == .info)
        #expect(env.validate().isEmpty)
    }

    @Test func fileVariableIsReadAndTrailingNewlineTrimmed() throws {
        let path = try temporaryFile("s3cret-token\r\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let env = Self.config.resolve(environment: ["TIERGUARD_TOKEN_FILE": path])
        #expect(try env.string("TIERGUARD_TOKEN") == "s3cret-token")
        #expect(try env.lookup("TIERGUARD_TOKEN").source == .file(path: path))
    }

    @Test func fileKeepsInnerNewlinesAndSpaces() throws {
        let path = try temporaryFile("line one\n line two \n\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let env = Self.config.resolve(environment: ["TIERGUARD_TOKEN_FILE": path])
        #expect(try env.string("TIERGUARD_TOKEN") == "line one\n line two ")
    }

    @Test func missingFileIsAnErrorNamingTheVariableAndPath() throws {
        let env = Self.config.resolve(environment: ["TIERGUARD_TOKEN_FILE": "/nonexistent/kit-token"])
        let error = #expect(throws: ConfigError.self) { try env.string("TIERGUARD_TOKEN") }
        #expect(error?.code == .unreadableFile)
        #expect(error?.description.contains("TIERGUARD_TOKEN_FILE") == true)
        #expect(error?.description.contains("/nonexistent/kit-token") == true)
    }

    @Test func bothVariableAndFileSetIsRefused() throws {
        let env = Self.config.resolve(environment: ["TIERGUARD_TOKEN": "a", "TIERGUARD_TOKEN_FILE": "/tmp/x"])
        let error = #expect(throws: ConfigError.self) { try env.string("TIERGUARD_TOKEN") }
        #expect(error?.code == .conflictingSources)
    }

    @Test func requiredVariableMissingIsReportedByValidate() {
        let env = Self.config.resolve(environment: [:])
        let problems = env.validate()
        #expect(Set(problems.map(\.variable)) == ["DATABASE_URL", "TIERGUARD_TOKEN"])
        #expect(problems.allSatisfy { $0.code == .missing })
    }

    @Test func badIntegerNamesVariableAndValue() {
        let env = Self.config.resolve(environment: ["TIERGUARD_WORKERS": "four"])
        let error = #expect(throws: ConfigError.self) { try env.int("TIERGUARD_WORKERS") }
        #expect(error?.description == "configuration: TIERGUARD_WORKERS=\"four\" is invalid: expected an integer")
    }

    @Test func integerOutsideRangeIsRefused() {
        let env = Self.config.resolve(environment: ["TIERGUARD_WORKERS": "0"])
        let error = #expect(throws: ConfigError.self) { try env.int("TIERGUARD_WORKERS", in: 1...64) }
        #expect(error?.expected == "an integer from 1 to 64")
    }

    @Test func secretValueNeverAppearsInAnError() {
        let env = Self.config.resolve(environment: ["TIERGUARD_TOKEN": "hunter2"])
        let error = #expect(throws: ConfigError.self) { try env.int("TIERGUARD_TOKEN") }
        #expect(error?.value == nil)
        #expect(error?.description.contains("hunter2") == false)
        #expect(error?.description.contains("****") == true)
    }

    @Test(arguments: [
        ("30", Duration.seconds(30)), ("1.5", .milliseconds(1500)), ("250ms", .milliseconds(250)),
        ("30s", .seconds(30)), ("5m", .seconds(300)), ("2h", .seconds(7200)), ("0", .zero),
    ])
    func durationsParse(text: String, expected: Duration) throws {
        let env = Self.config.resolve(environment: ["TIERGUARD_DRAIN_TIMEOUT": text])
        #expect(try env.duration("TIERGUARD_DRAIN_TIMEOUT") == expected)
    }

    @Test(arguments: ["-1", "abc", "", "1e3", "inf", "1..2", ".", "10 s", "5d"])
    func badDurationsAreRefused(text: String) {
        let env = Self.config.resolve(environment: ["TIERGUARD_DRAIN_TIMEOUT": text])
        #expect(throws: ConfigError.self) { try env.duration("TIERGUARD_DRAIN_TIMEOUT") }
    }

    @Test func booleansAcceptCommonSpellings() throws {
        for (text, expected) in [("TRUE", true), ("yes", true), ("on", true), ("1", true), ("false", false), ("No", false), ("off", false), ("0", false)] {
            let env = Self.config.resolve(environment: ["TIERGUARD_LISTEN": text])
            #expect(try env.bool("TIERGUARD_LISTEN") == expected, "\(text)")
        }
        let env = Self.config.resolve(environment: ["TIERGUARD_LISTEN": "maybe"])
        #expect(throws: ConfigError.self) { try env.bool("TIERGUARD_LISTEN") }
    }

    @Test func undeclaredVariableIsAnError() {
        let env = Self.config.resolve(environment: ["OTHER": "1"])
        let error = #expect(throws: ConfigError.self) { try env.string("OTHER") }
        #expect(error?.code == .undeclared)
    }

    @Test func startupSummaryMasksSecretsAndURLPasswords() throws {
        let path = try temporaryFile("file-secret\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let env = Self.config.resolve(environment: [
            "DATABASE_URL": "postgres://tierguard:hunter2@db.internal:5432/tierguard?sslmode=verify-full",
            "TIERGUARD_TOKEN_FILE": path,
            "TIERGUARD_WORKERS": "8",
        ])
        let summary = env.startupSummary
        #expect(!summary.contains("hunter2"))
        #expect(!summary.contains("file-secret"))
        #expect(summary.contains("DATABASE_URL=postgres://tierguard:****@db.internal:5432/tierguard?sslmode=verify-full"))
        #expect(summary.contains("TIERGUARD_TOKEN=**** (from file \(path))"))
        #expect(summary.contains("TIERGUARD_WORKERS=8\n"))
        #expect(summary.contains("TIERGUARD_DRAIN_TIMEOUT=30 (default)"))
    }

    @Test func passwordMaskingCoversConninfoAndQueryForms() {
        #expect(
            EnvironmentConfig.maskingPasswords(in: "host=db user=tg password=p@ss dbname=x")
                == "host=db user=tg password=**** dbname=x")
        #expect(
            EnvironmentConfig.maskingPasswords(in: "host=db password='a b\\'c' dbname=x")
                == "host=db password=**** dbname=x")
        #expect(
            EnvironmentConfig.maskingPasswords(in: "postgres://db/x?user=tg&password=secret&sslmode=disable")
                == "postgres://db/x?user=tg&password=****&sslmode=disable")
        #expect(EnvironmentConfig.maskingPasswords(in: "postgres://tg@db/x") == "postgres://tg@db/x")
        // The password may itself contain '@'; the last '@' of the authority ends the userinfo.
        #expect(
            EnvironmentConfig.maskingPasswords(in: "postgresql://tg:p@ss@db:5432/x")
                == "postgresql://tg:****@db:5432/x")
    }

    @Test func helpTextListsEveryVariableWithItsDefault() {
        let help = Self.config.helpText
        for variable in Self.config.variables { #expect(help.contains(variable.name)) }
        #expect(help.contains("default \"4\""))
        #expect(help.contains("DATABASE_URL"))
        let tokenLine = help.split(separator: "\n").first { $0.contains("TIERGUARD_TOKEN") }
        #expect(tokenLine?.contains("required, secret") == true)
    }
}
