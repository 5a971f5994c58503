import CLibCrypto
import Foundation

/// HMAC-SHA256 and SHA-256 from OpenSSL's libcrypto (the library libpq already links), never
/// hand-written cryptography. One-shot calls: `HMAC()` and `SHA256()` are thread-safe and allocate
/// nothing that outlives the call.
public enum HMAC {
    /// HMAC-SHA256 of `message` under `key`: 32 bytes.
    public static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        key.withUnsafeBufferPointer { keyBuffer in
            message.withUnsafeBufferPointer { messageBuffer in
                out.withUnsafeMutableBufferPointer { outBuffer in
                    _ = CLibCrypto.HMAC(EVP_sha256(), keyBuffer.baseAddress, Int32(keyBuffer.count),
                                        messageBuffer.baseAddress, messageBuffer.count,
                                        outBuffer.baseAddress, &length)
                }
            }
        }
        return out
    }
}

/// SHA-256 digests.
public enum Digest {
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                _ = SHA256(input.baseAddress, input.count, output.baseAddress)
            }
        }
        return out
    }

    /// Lowercase hex of the SHA-256 of `text`'s UTF-8.
    public static func sha256Hex(_ text: String) -> String {
        sha256(Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
