import CLibCrypto
import Foundation

/// AES-256-GCM through OpenSSL EVP (one context per call: values are short and a context is cheap; no
/// shared mutable state, so callers on any thread are safe).
enum AESGCM {
    static func encrypt(key: [UInt8], nonce: [UInt8], plaintext: [UInt8], aad: [UInt8]) throws(PersonalDataVaultError) -> (ciphertext: [UInt8], tag: [UInt8]) {
        guard let ctx = EVP_CIPHER_CTX_new() else { throw PersonalDataVaultError(.crypto, "EVP_CIPHER_CTX_new failed") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: plaintext.count + 16)
        var tag = [UInt8](repeating: 0, count: PersonalDataVault.tagLength)
        var length: Int32 = 0, total = 0
        guard EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(nonce.count), nil) == 1,
              EVP_EncryptInit_ex(ctx, nil, nil, key, nonce) == 1 else {
            throw PersonalDataVaultError(.crypto, "AES-256-GCM encryption could not start")
        }
        if !aad.isEmpty {
            guard EVP_EncryptUpdate(ctx, nil, &length, aad, Int32(aad.count)) == 1 else {
                throw PersonalDataVaultError(.crypto, "AES-256-GCM additional data refused")
            }
        }
        let ok = out.withUnsafeMutableBufferPointer { buffer -> Bool in
            if !plaintext.isEmpty {
                guard EVP_EncryptUpdate(ctx, buffer.baseAddress, &length, plaintext, Int32(plaintext.count)) == 1 else { return false }
                total = Int(length)
            }
            guard EVP_EncryptFinal_ex(ctx, buffer.baseAddress! + total, &length) == 1 else { return false }
            total += Int(length)
            return true
        }
        guard ok, EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(tag.count), &tag) == 1 else {
            throw PersonalDataVaultError(.crypto, "AES-256-GCM encryption failed")
        }
        return (Array(out[0..<total]), tag)
    }

    static func decrypt(key: [UInt8], nonce: [UInt8], ciphertext: [UInt8], tag: [UInt8], aad: [UInt8]) throws(PersonalDataVaultError) -> [UInt8] {
        guard let ctx = EVP_CIPHER_CTX_new() else { throw PersonalDataVaultError(.crypto, "EVP_CIPHER_CTX_new failed") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: ciphertext.count + 16)
        var tag = tag
        var length: Int32 = 0, total = 0
        guard EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(nonce.count), nil) == 1,
              EVP_DecryptInit_ex(ctx, nil, nil, key, nonce) == 1 else {
            throw PersonalDataVaultError(.crypto, "AES-256-GCM decryption could not start")
        }
        if !aad.isEmpty {
            guard EVP_DecryptUpdate(ctx, nil, &length, aad, Int32(aad.count)) == 1 else {
                throw PersonalDataVaultError(.crypto, "AES-256-GCM additional data refused")
            }
        }
        let ok = out.withUnsafeMutableBufferPointer { buffer -> Bool in
            if !ciphertext.isEmpty {
                guard EVP_DecryptUpdate(ctx, buffer.baseAddress, &length, ciphertext, Int32(ciphertext.count)) == 1 else { return false }
                total = Int(length)
            }
            guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(tag.count), &tag) == 1 else { return false }
            // The tag is checked here: a changed byte anywhere (header, nonce, ciphertext, tag) fails.
            guard EVP_DecryptFinal_ex(ctx, buffer.baseAddress! + total, &length) == 1 else { return false }
            total += Int(length)
            return true
        }
        guard ok else { throw PersonalDataVaultError(.authentication, "authentication tag mismatch (value altered or wrong key)") }
        return Array(out[0..<total])
    }
}

/// HMAC-SHA-256 through OpenSSL's EVP_MAC, keyed once.
///
/// Why not the one-shot `HMAC()`: in OpenSSL 3 it fetches the algorithm on every call, which measured
/// 17.7k MACs/s here; a context keyed once and duplicated per call (`EVP_MAC_CTX_dup`, which only reads
/// the template, so concurrent callers are safe) avoids the fetch and the key schedule.
final class HMACSHA256: @unchecked Sendable {
    /// Immutable after `init`; only ever duplicated.
    private let template: OpaquePointer

    init(key: [UInt8]) {
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else { fatalError("OpenSSL has no HMAC") }
        defer { EVP_MAC_free(mac) }
        guard let ctx = EVP_MAC_CTX_new(mac) else { fatalError("EVP_MAC_CTX_new failed") }
        let name = strdup("digest"), digest = strdup("SHA256")
        defer { free(name); free(digest) }
        var params = [OSSL_PARAM_construct_utf8_string(name, digest, 0), OSSL_PARAM_construct_end()]
        guard EVP_MAC_init(ctx, key, key.count, &params) == 1 else { fatalError("HMAC-SHA-256 key setup failed") }
        template = ctx
    }

    deinit { EVP_MAC_CTX_free(template) }

    func mac(_ message: [UInt8]) -> [UInt8] {
        guard let ctx = EVP_MAC_CTX_dup(template) else { fatalError("EVP_MAC_CTX_dup failed") }
        defer { EVP_MAC_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: 32)
        var length = 0
        guard EVP_MAC_update(ctx, message, message.count) == 1, EVP_MAC_final(ctx, &out, &length, 32) == 1,
              length == 32 else { fatalError("HMAC-SHA-256 failed") }
        return out
    }

    static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] { HMACSHA256(key: key).mac(message) }
}
