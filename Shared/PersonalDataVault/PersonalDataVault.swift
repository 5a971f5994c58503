import CLibCrypto
import Foundation

/// Application-level encryption of personal identifiers (resident ID numbers, phones) before they reach
/// PostgreSQL, and the keyed blind index used to find or compare them without decrypting (issue 11).
///
/// Cipher: AES-256-GCM through OpenSSL's EVP interface (`CLibCrypto`; nothing hand-written), a fresh
/// 12-byte nonce from `RAND_bytes` per value, a 16-byte tag. One sealed value is stored as one `bytea`:
///
///     version (1 byte, 0x01) | key id length n (1 byte) | key id (n bytes, UTF-8) | nonce (12) | ciphertext | tag (16)
///
/// The header (version, n, key id) and the field name (`id_number`, `phone`) are the GCM additional
/// authenticated data, so a value cannot be moved to another field or relabelled with another key id
/// without failing the tag check. The key id is also stored in its own column (`*_key_id`) so a
/// rotation can find the rows still under an old key with an index-free `WHERE id_number_key_id <> $1`.
///
/// Keys: `TIERGUARD_PII_KEYS_FILE` names a file of lines `keyid:base64(32 bytes)`; the FIRST line is the
/// active key for new writes, later lines still decrypt (rotation: put the new key first, re-encrypt at
/// leisure, then drop the old line). Blank lines and lines starting with `#` are ignored. The blind index
/// key (HMAC-SHA-256, 32 bytes base64 on one line) is separate, `TIERGUARD_PII_INDEX_KEY_FILE`: it never
/// rotates with the encryption keys, because every stored index would have to be recomputed.
///
/// Blind index: HMAC-SHA-256(index key, field name ‖ 0x00 ‖ normalised value), 32 bytes. Normalisation:
/// ID numbers are trimmed and upper-cased (a resident ID's check character `x` → `X`); phones keep their
/// digits only. The same person gives the same index in every row, so exact lookup and dedup work with an
/// equality on `*_hmac`; the index reveals equality (and nothing else) to whoever reads the table.
///
/// Production (`TIERGUARD_ENVIRONMENT=production`) refuses to run without both files. Anywhere else the
/// missing keys are replaced by the fixed development key `dev-insecure` (and a development index key),
/// with a warning: tests and the demo keep working, and a database written that way is visibly not
/// protected (`id_number_key_id = 'dev-insecure'`).
///
/// Errors never contain plaintext or key material: only the field, key id and what failed.
public struct PersonalDataVault: Sendable {
    public static let formatVersion: UInt8 = 1
    public static let nonceLength = 12
    public static let tagLength = 16
    public static let keyLength = 32
    /// The key id of the built-in development key; never valid in production.
    public static let developmentKeyId = "dev-insecure"

    /// The key new values are sealed with.
    public let activeKeyId: String
    let keys: [String: [UInt8]]
    let indexKey: [UInt8]
    private let indexMAC: HMACSHA256
    /// True when the built-in development keys are in use.
    public let isDevelopment: Bool

    /// `keys` in file order: the first is active. Every key must be 32 bytes, ids 1–255 bytes of
    /// `[A-Za-z0-9._-]`, unique; the index key 32 bytes.
    public init(keys: [(id: String, key: [UInt8])], indexKey: [UInt8], isDevelopment: Bool = false) throws(PersonalDataVaultError) {
        guard let first = keys.first else { throw PersonalDataVaultError(.configuration, "no encryption key") }
        var map: [String: [UInt8]] = [:]
        for (id, key) in keys {
            guard Self.isValidKeyId(id) else {
                throw PersonalDataVaultError(.configuration, "key id must be 1–255 characters of A-Z a-z 0-9 . _ -")
            }
            guard key.count == Self.keyLength else {
                throw PersonalDataVaultError(.configuration, "key \(id) must be 32 bytes, got \(key.count)")
            }
            guard map.updateValue(key, forKey: id) == nil else {
                throw PersonalDataVaultError(.configuration, "key id \(id) appears twice")
            }
        }
        guard indexKey.count == Self.keyLength else {
            throw PersonalDataVaultError(.configuration, "blind index key must be 32 bytes, got \(indexKey.count)")
        }
        activeKeyId = first.id
        self.keys = map
        self.indexKey = indexKey
        indexMAC = HMACSHA256(key: indexKey)
        self.isDevelopment = isDevelopment
    }

    /// The key ids this vault can decrypt, sorted.
    public var keyIds: [String] { keys.keys.sorted() }

    static func isValidKeyId(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        return !bytes.isEmpty && bytes.count <= 255 && bytes.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A)
                || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D
        }
    }

    // MARK: - Sealing

    /// Encrypts `plaintext` for `field` under the active key; the stored `bytea` and its key id.
    public func seal(_ plaintext: String, field: PersonalField) throws(PersonalDataVaultError) -> SealedValue {
        let key = keys[activeKeyId]!
        var nonce = [UInt8](repeating: 0, count: Self.nonceLength)
        guard RAND_bytes(&nonce, Int32(Self.nonceLength)) == 1 else {
            throw PersonalDataVaultError(.crypto, "RAND_bytes failed for a \(field.rawValue) nonce")
        }
        return try seal(Array(plaintext.utf8), field: field, keyId: activeKeyId, key: key, nonce: nonce)
    }

    /// Sealing with a given nonce: only for the known-answer test; production code uses `seal(_:field:)`.
    func seal(_ plaintext: [UInt8], field: PersonalField, keyId: String, key: [UInt8], nonce: [UInt8]) throws(PersonalDataVaultError) -> SealedValue {
        let header = Self.header(keyId)
        let (ciphertext, tag) = try AESGCM.encrypt(key: key, nonce: nonce, plaintext: plaintext,
                                                   aad: header + Array(field.rawValue.utf8))
        return SealedValue(bytes: header + nonce + ciphertext + tag, keyId: keyId)
    }

    /// Decrypts a value sealed for `field` under any key this vault holds.
    public func open(_ sealed: [UInt8], field: PersonalField) throws(PersonalDataVaultError) -> String {
        guard sealed.count >= 2, sealed[0] == Self.formatVersion else {
            throw PersonalDataVaultError(.malformed, "\(field.rawValue): unknown format version")
        }
        let idLength = Int(sealed[1])
        let headerLength = 2 + idLength
        guard idLength > 0, sealed.count >= headerLength + Self.nonceLength + Self.tagLength else {
            throw PersonalDataVaultError(.malformed, "\(field.rawValue): value too short (\(sealed.count) bytes)")
        }
        let keyId = String(decoding: sealed[2..<headerLength], as: UTF8.self)
        guard let key = keys[keyId] else {
            throw PersonalDataVaultError(.unknownKey, "\(field.rawValue): no key with id \(Self.isValidKeyId(keyId) ? keyId : "(invalid)")")
        }
        let nonce = Array(sealed[headerLength..<(headerLength + Self.nonceLength)])
        let ciphertext = Array(sealed[(headerLength + Self.nonceLength)..<(sealed.count - Self.tagLength)])
        let tag = Array(sealed[(sealed.count - Self.tagLength)...])
        let plaintext = try AESGCM.decrypt(key: key, nonce: nonce, ciphertext: ciphertext, tag: tag,
                                           aad: Array(sealed[0..<headerLength]) + Array(field.rawValue.utf8))
        guard let text = String(validating: plaintext, as: UTF8.self) else {
            throw PersonalDataVaultError(.malformed, "\(field.rawValue): decrypted value is not UTF-8")
        }
        return text
    }

    /// The key id a sealed value names (without decrypting), or nil when malformed.
    public static func keyId(of sealed: [UInt8]) -> String? {
        guard sealed.count >= 2, sealed[0] == formatVersion, sealed.count >= 2 + Int(sealed[1]) else { return nil }
        return String(decoding: sealed[2..<(2 + Int(sealed[1]))], as: UTF8.self)
    }

    static func header(_ keyId: String) -> [UInt8] {
        let id = Array(keyId.utf8)
        return [formatVersion, UInt8(id.count)] + id
    }

    // MARK: - Blind index

    /// HMAC-SHA-256 of the normalised value (see the type's documentation), 32 bytes.
    public func blindIndex(_ value: String, field: PersonalField) -> [UInt8] {
        let message = Array(field.rawValue.utf8) + [0] + Array(Self.normalized(value, field: field).utf8)
        return indexMAC.mac(message)
    }

    /// ID numbers: trimmed, upper-cased (`x` → `X`). Phones: digits only.
    public static func normalized(_ value: String, field: PersonalField) -> String {
        switch field {
        case .idNumber: return value.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        case .phone: return String(value.unicodeScalars.filter { $0.value >= 0x30 && $0.value <= 0x39 }.map(Character.init))
        case .rejectedLine: return value
        }
    }
}

/// Which identifier a value is: the GCM additional data and the blind-index domain.
public enum PersonalField: String, Sendable, CaseIterable {
    case idNumber = "id_number"
    /// Customer phones and RM mobiles alike (one domain, so the same number has the same index).
    case phone
    /// A refused feed line as received (`ingest_rejects.raw_text_enc`): it may hold any identifier, so it
    /// is sealed whole and only its masked form is stored in the clear. Never blind-indexed.
    case rejectedLine = "rejected_line"
}

/// One encrypted value as stored: the `bytea` and the key id it was sealed under.
public struct SealedValue: Sendable, Hashable {
    public var bytes: [UInt8]
    public var keyId: String
}

/// A vault failure. The description names the field, key id and cause, never a value or key.
public struct PersonalDataVaultError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable { case configuration, crypto, malformed, unknownKey = "unknown_key", authentication }
    public let code: Code
    public let message: String
    init(_ code: Code, _ message: String) { self.code = code; self.message = message }
    public var description: String { "personal data vault (\(code.rawValue)): \(message)" }
}
