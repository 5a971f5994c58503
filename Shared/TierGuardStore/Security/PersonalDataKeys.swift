import PersonalDataVault
import ServiceKit

/// The start-up check of the personal-data keys for executables that do not go through
/// `ServiceBootstrap` (tierguard-ingest): production without `TIERGUARD_PII_KEYS_FILE` and
/// `TIERGUARD_PII_INDEX_KEY_FILE` (or with the development key id) exits 78 before touching the
/// database; elsewhere the development key is used and a warning logged (`PersonalDataVault`).
public enum PersonalDataKeys {
    public static func requireAtStartup(_ logger: Logger) {
        switch PersonalDataVault.processResult {
        case .success(let vault): if let warning = vault.startupWarning { logger.warning(warning) }
        case .failure(let error):
            logger.critical("configuration: \(error)")
            ExitCode.configuration.exit()
        }
    }
}
