import CLibCrypto
import Foundation

/// SHA-256 from OpenSSL's libcrypto for bearer-token hashes and idempotency hashes (never
/// hand-written cryptography). `EVP_Digest` is a one-shot, thread-safe call.
public enum FeedbackDigest {
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                _ = EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, EVP_sha256(), nil)
            }
        }
        return out
    }

    public static func sha256Hex(_ text: String) -> String {
        sha256(Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
