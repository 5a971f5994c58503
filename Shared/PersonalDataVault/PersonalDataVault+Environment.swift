import Foundation

extension PersonalDataVault {
    /// Environment variables the vault reads (files, as container secrets are mounted).
    public static let keysFileVariable = "TIERGUARD_PII_KEYS_FILE"
    public static let indexKeyFileVariable = "TIERGUARD_PII_INDEX_KEY_FILE"
    /// `production` makes missing keys an error; any other value (or unset) allows the development keys.
    public static let environmentVariable = "TIERGUARD_ENVIRONMENT"

    /// The built-in development keys: `dev-insecure`, 32 bytes 0x00…0x1F; index key 0x20…0x3F. Public on
    /// purpose (it protects nothing), named so that nobody can mistake it for a real key.
    public static let development: PersonalDataVault = try! PersonalDataVault(
        keys: [(developmentKeyId, (0..<32).map { UInt8($0) })], indexKey: (32..<64).map { UInt8($0) }, isDevelopment: true)

    /// Parses a keys file: lines `keyid:base64`, first = active, `#` comments and blank lines skipped.
    /// Errors give the line number, never the line.
    public static func parseKeys(_ text: String) throws(PersonalDataVaultError) -> [(id: String, key: [UInt8])] {
        var keys: [(id: String, key: [UInt8])] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":") else {
                throw PersonalDataVaultError(.configuration, "keys file line \(index + 1): expected keyid:base64")
            }
            let id = String(line[..<colon])
            guard let data = Data(base64Encoded: String(line[line.index(after: colon)...])) else {
                throw PersonalDataVaultError(.configuration, "keys file line \(index + 1): key is not base64")
            }
            keys.append((id, Array(data)))
        }
        return keys
    }

    /// Parses the index key file: one base64 line of 32 bytes.
    public static func parseIndexKey(_ text: String) throws(PersonalDataVaultError) -> [UInt8] {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw PersonalDataVaultError(.configuration, "index key file is not base64")
        }
        return Array(data)
    }

    /// The vault an environment configures (see the type's documentation). Both files or neither: one
    /// without the other is an error in every mode; neither is an error in production only.
    public static func fromEnvironment(_ environment: [String: String],
                                       readFile: (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) })
        throws(PersonalDataVaultError) -> PersonalDataVault {
        let production = environment[environmentVariable]?.lowercased() == "production"
        let keysPath = environment[keysFileVariable].flatMap { $0.isEmpty ? nil : $0 }
        let indexPath = environment[indexKeyFileVariable].flatMap { $0.isEmpty ? nil : $0 }
        switch (keysPath, indexPath) {
        case (nil, nil):
            if production {
                throw PersonalDataVaultError(.configuration,
                    "TIERGUARD_ENVIRONMENT=production needs \(keysFileVariable) and \(indexKeyFileVariable)")
            }
            return development
        case (let keys?, let index?):
            let keysText: String, indexText: String
            do { keysText = try readFile(keys) } catch {
                throw PersonalDataVaultError(.configuration, "cannot read \(keysFileVariable) (\(keys))")
            }
            do { indexText = try readFile(index) } catch {
                throw PersonalDataVaultError(.configuration, "cannot read \(indexKeyFileVariable) (\(index))")
            }
            let vault = try PersonalDataVault(keys: try parseKeys(keysText), indexKey: try parseIndexKey(indexText))
            if production && vault.keys[developmentKeyId] != nil {
                throw PersonalDataVaultError(.configuration, "key id \(developmentKeyId) is refused in production")
            }
            return vault
        default:
            throw PersonalDataVaultError(.configuration, "set both \(keysFileVariable) and \(indexKeyFileVariable), or neither")
        }
    }

    /// This process's vault, read once from its environment.
    public static let processResult: Result<PersonalDataVault, PersonalDataVaultError> = Result {
        () throws(PersonalDataVaultError) -> PersonalDataVault in try fromEnvironment(ProcessInfo.processInfo.environment)
    }

    /// This process's vault. Services check `processResult` at start-up (`ServiceBootstrap`, tierguardctl)
    /// and exit with a configuration error, so reaching the trap here means a code path skipped that check.
    public static var process: PersonalDataVault {
        switch processResult {
        case .success(let vault): return vault
        case .failure(let error): fatalError("\(error)")
        }
    }

    /// The start-up line a service logs: nil when real keys are configured, else the warning.
    public var startupWarning: String? {
        isDevelopment ? "personal identifiers are encrypted with the built-in development key \(Self.developmentKeyId): set \(Self.keysFileVariable) and \(Self.indexKeyFileVariable) (required with TIERGUARD_ENVIRONMENT=production)" : nil
    }
}
