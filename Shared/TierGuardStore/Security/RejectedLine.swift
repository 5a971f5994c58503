import PersonalDataVault
import TierGuardModel

/// How a refused feed line is stored (0012 migration): masked in `ingest_rejects.raw_text`, and as received
/// only sealed, in `raw_text_enc` with its key id, so no identifier it carries is stored in the clear.
public enum RejectedLine {
    public struct Stored: Sendable {
        public var masked: String
        public var sealed: [UInt8]?
        public var keyId: String?
    }

    /// The columns for one refused line. A line the vault cannot seal (it never fails for a loaded key)
    /// keeps only its masked form: the refusal is still recorded, never dropped.
    public static func store(_ raw: String, vault: PersonalDataVault = .process) -> Stored {
        let sealed = try? vault.seal(raw, field: .rejectedLine)
        return Stored(masked: Masking.feedLine(raw), sealed: sealed?.bytes, keyId: sealed?.keyId)
    }

    /// The line as received, for `--unmask`; the masked text when nothing was sealed (lines from before 0012).
    public static func open(masked: String, sealed: [UInt8]?, vault: PersonalDataVault = .process) throws -> String {
        guard let sealed else { return masked }
        return try vault.open(sealed, field: .rejectedLine)
    }
}
