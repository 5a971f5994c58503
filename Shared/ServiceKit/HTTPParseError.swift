/// Why a request was refused by ``HTTPRequestParser``, and the status the server answers with.
///
/// Every parse error ends the connection after its response: once framing is in doubt, nothing that
/// follows on the same connection can be trusted (the root of request smuggling).
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// Request line not `METHOD SP target SP HTTP/x.y` with single spaces and valid characters (400).
        case malformedRequestLine
        /// Request line longer than ``HTTPParserLimits/maxRequestLineBytes`` (414).
        case requestLineTooLong
        /// A major version other than 1 (505).
        case unsupportedVersion
        /// Header section larger than ``HTTPParserLimits/maxHeaderBytes`` (431).
        case headersTooLarge
        /// More header fields than ``HTTPParserLimits/maxHeaderCount`` (431).
        case tooManyHeaders
        /// A header line without a colon, an empty or non-token name, whitespace before the colon, or a
        /// control character in a value (400).
        case malformedHeader
        /// A line starting with space or tab (obsolete line folding), refused as RFC 9112 §5.2 allows (400).
        case obsoleteLineFolding
        /// A line ending in a bare LF or containing a bare CR (400).
        case bareLineEnding
        /// HTTP/1.1 without exactly one `Host` field, or HTTP/1.0 with several (400).
        case invalidHost
        /// `Content-Length` not a plain decimal number (400).
        case invalidContentLength
        /// Several `Content-Length` values that differ (400).
        case conflictingContentLength
        /// Both `Content-Length` and `Transfer-Encoding`: the classic smuggling vector (400).
        case contentLengthWithTransferEncoding
        /// `Transfer-Encoding` whose last coding is not `chunked`, `chunked` twice, an empty coding, or any
        /// transfer coding in an HTTP/1.0 request (400).
        case invalidTransferEncoding
        /// A transfer coding other than `chunked` (gzip, deflate, ...) (501).
        case unsupportedTransferEncoding
        /// Chunk size not hexadecimal, too long, data not followed by CRLF, or a bad trailer (400).
        case malformedChunk
        /// Declared or accumulated body larger than ``HTTPParserLimits/maxBodyBytes`` (413), decided from
        /// `Content-Length` or the chunk size before the body bytes are read.
        case bodyTooLarge
        /// `Expect` with anything but `100-continue` (417).
        case unsupportedExpectation
    }

    public let code: Code
    /// Short, safe to log and to send back: never echoes request bytes.
    public let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// The response status for this error.
    public var status: Int {
        switch code {
        case .requestLineTooLong: 414
        case .headersTooLarge, .tooManyHeaders: 431
        case .bodyTooLarge: 413
        case .unsupportedVersion: 505
        case .unsupportedTransferEncoding: 501
        case .unsupportedExpectation: 417
        default: 400
        }
    }

    public var description: String { "\(status) \(code.rawValue): \(detail)" }
}
