import Foundation
import Testing
@testable import PersonalDataVault

private func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

private func key(_ fill: UInt8) -> [UInt8] { [UInt8](repeating: fill, count: 32) }

/// AES-256-GCM sealing, rotation and the HMAC blind index (`Shared/PersonalDataVault`).
struct PersonalDataVaultTests {
    let vault = try! PersonalDataVault(keys: [("k2026", key(1))], indexKey: key(9))

    @Test func aSealedValueOpensToThePlaintextAndNamesItsKey() throws {
        let sealed = try vault.seal("11010519491231002X", field: .idNumber)
        #expect(sealed.keyId == "k2026")
        #expect(PersonalDataVault.keyId(of: sealed.bytes) == "k2026")
        // version 1 | length 5 | "k2026" | 12 nonce | 18 ciphertext | 16 tag
        #expect(sealed.bytes.count == 1 + 1 + 5 + 12 + 18 + 16)
        #expect(Array(sealed.bytes[0..<7]) == [1, 5] + Array("k2026".utf8))
        #expect(try vault.open(sealed.bytes, field: .idNumber) == "11010519491231002X")
        // No plaintext bytes inside the stored value.
        #expect(!Data(sealed.bytes).contains(Data("11010519491231002X".utf8)))
        // A fresh nonce each time: the same plaintext seals differently.
        let again = try vault.seal("11010519491231002X", field: .idNumber)
        #expect(again.bytes != sealed.bytes)
        // Any UTF-8 round-trips (passport numbers and other id types are free text).
        #expect(try vault.open(vault.seal("E1234567 (旧)", field: .idNumber).bytes, field: .idNumber) == "E1234567 (旧)")
    }

    @Test func flippingAnyByteIsDetected() throws {
        let sealed = try vault.seal("13812345678", field: .phone).bytes
        for position in [0, 1, 3, 8, 20, sealed.count - 20, sealed.count - 1] {
            var tampered = sealed
            tampered[position] ^= 0x01
            do {
                _ = try vault.open(tampered, field: .phone)
                Issue.record("byte \(position) flipped was not detected")
            } catch {
                #expect([.authentication, .malformed, .unknownKey].contains(error.code), "byte \(position)")
                #expect(!error.description.contains("13812345678"))
            }
        }
        // Moved to another field: the field is authenticated data.
        #expect(throws: PersonalDataVaultError.self) { try vault.open(sealed, field: .idNumber) }
        // Truncated.
        #expect(throws: PersonalDataVaultError.self) { try vault.open(Array(sealed.prefix(20)), field: .phone) }
    }

    @Test func aValueUnderAnUnknownOrWrongKeyIsRefusedWithoutPlaintext() throws {
        let sealed = try vault.seal("13812345678", field: .phone).bytes
        let other = try PersonalDataVault(keys: [("k2027", key(2))], indexKey: key(9))
        do {
            _ = try other.open(sealed, field: .phone)
            Issue.record("opened under a vault without k2026")
        } catch {
            #expect(error.code == .unknownKey)
            #expect(error.description == "personal data vault (unknown_key): phone: no key with id k2026")
        }
        // Same key id, different key bytes: the tag check fails.
        let impostor = try PersonalDataVault(keys: [("k2026", key(3))], indexKey: key(9))
        #expect(throws: PersonalDataVaultError(.authentication, "authentication tag mismatch (value altered or wrong key)")) {
            try impostor.open(sealed, field: .phone)
        }
    }

    @Test func afterRotationOldValuesStillOpenAndNewOnesUseTheNewKey() throws {
        let old = try vault.seal("11010519491231002X", field: .idNumber)
        let keysFile = """
            # new key first
            k2027:\(Data(key(2)).base64EncodedString())
            k2026:\(Data(key(1)).base64EncodedString())
            """
        let rotated = try PersonalDataVault(keys: PersonalDataVault.parseKeys(keysFile), indexKey: key(9))
        #expect(rotated.activeKeyId == "k2027")
        #expect(try rotated.open(old.bytes, field: .idNumber) == "11010519491231002X")
        let new = try rotated.seal("11010519491231002X", field: .idNumber)
        #expect(new.keyId == "k2027")
        #expect(throws: PersonalDataVaultError.self) { try vault.open(new.bytes, field: .idNumber) }
        // The blind index does not change with the encryption keys.
        #expect(rotated.blindIndex("11010519491231002X", field: .idNumber) == vault.blindIndex("11010519491231002X", field: .idNumber))
    }

    @Test func theBlindIndexIsDeterministicNormalisedAndKeyDependent() throws {
        let a = vault.blindIndex("11010519491231002X", field: .idNumber)
        #expect(a.count == 32)
        #expect(vault.blindIndex("11010519491231002x", field: .idNumber) == a)
        #expect(vault.blindIndex(" 11010519491231002X ", field: .idNumber) == a)
        #expect(vault.blindIndex("110105194912310021", field: .idNumber) != a)
        #expect(vault.blindIndex("138-1234-5678", field: .phone) == vault.blindIndex("13812345678", field: .phone))
        // Field is a domain: the same digits as id and as phone index differently.
        #expect(vault.blindIndex("13812345678", field: .phone) != vault.blindIndex("13812345678", field: .idNumber))
        let otherIndexKey = try PersonalDataVault(keys: [("k2026", key(1))], indexKey: key(8))
        #expect(otherIndexKey.blindIndex("11010519491231002X", field: .idNumber) != a)
        // HMAC(key 0x09×32, "id_number\0" + value), recomputed through the primitive.
        #expect(a == HMACSHA256.mac(key: key(9), message: Array("id_number\u{0}11010519491231002X".utf8)))
    }

    /// The GCM specification's test case 16 (AES-256, 96-bit IV, 60-byte plaintext, 20-byte AAD), as
    /// used by NIST's GCM validation (SP 800-38D).
    @Test func aes256GCMMatchesTheKnownAnswer() throws {
        let k = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
        let iv = hex("cafebabefacedbaddecaf888")
        let p = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
        let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
        let (c, t) = try AESGCM.encrypt(key: k, nonce: iv, plaintext: p, aad: aad)
        #expect(c == hex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"))
        #expect(t == hex("76fc6ece0f4e1768cddf8853bb2d551b"))
        #expect(try AESGCM.decrypt(key: k, nonce: iv, ciphertext: c, tag: t, aad: aad) == p)
    }

    /// RFC 4231 test case 2 (key "Jefe").
    @Test func hmacSHA256MatchesRFC4231Case2() {
        let mac = HMACSHA256.mac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(mac == hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"))
    }

    @Test func productionRefusesToStartWithoutKeysAndDevelopmentWarns() throws {
        #expect(throws: PersonalDataVaultError.self) {
            try PersonalDataVault.fromEnvironment(["TIERGUARD_ENVIRONMENT": "production"])
        }
        let dev = try PersonalDataVault.fromEnvironment([:])
        #expect(dev.isDevelopment && dev.activeKeyId == "dev-insecure")
        #expect(dev.startupWarning?.contains("dev-insecure") == true)
        // Only one of the two files: refused in any mode.
        #expect(throws: PersonalDataVaultError.self) {
            try PersonalDataVault.fromEnvironment(["TIERGUARD_PII_KEYS_FILE": "/k"], readFile: { _ in "" })
        }
        let files = ["/k": "k1:\(Data(key(5)).base64EncodedString())\n", "/i": Data(key(6)).base64EncodedString()]
        let env = ["TIERGUARD_ENVIRONMENT": "production", "TIERGUARD_PII_KEYS_FILE": "/k", "TIERGUARD_PII_INDEX_KEY_FILE": "/i"]
        let real = try PersonalDataVault.fromEnvironment(env, readFile: { files[$0]! })
        #expect(!real.isDevelopment && real.activeKeyId == "k1" && real.startupWarning == nil)
        // The development key id is refused in production even from a file.
        let devFile = ["/k": "dev-insecure:\(Data(key(5)).base64EncodedString())", "/i": files["/i"]!]
        #expect(throws: PersonalDataVaultError.self) { try PersonalDataVault.fromEnvironment(env, readFile: { devFile[$0]! }) }
        // A short key: the error names the key id and length, not the key.
        do {
            _ = try PersonalDataVault(keys: PersonalDataVault.parseKeys("k9:AAAA"), indexKey: key(6))
            Issue.record("a 3-byte key was accepted")
        } catch {
            #expect(error.description == "personal data vault (configuration): key k9 must be 32 bytes, got 3")
        }
    }
}
