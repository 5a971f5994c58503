/// Size limits of one request; exceeding one is an ``HTTPParseError`` with its status.
public struct HTTPParserLimits: Sendable, Equatable {
    /// Request line without its CRLF: 8 KiB, else 414.
    public var maxRequestLineBytes: Int = 8 * 1024
    /// Header section after the request line (all field lines with their CRLFs and the final empty
    /// line): 16 KiB, else 431. Also bounds a chunked body's trailer section.
    public var maxHeaderBytes: Int = 16 * 1024
    /// Header fields: 100, else 431.
    public var maxHeaderCount: Int = 100
    /// Body after decoding: 1 MiB, else 413, decided from `Content-Length` (or each chunk size) before
    /// any body byte is read.
    public var maxBodyBytes: Int = 1024 * 1024
    /// A chunk-size line with its extensions: 1 KiB, else 400.
    public var maxChunkLineBytes: Int = 1024

    public init(
        maxRequestLineBytes: Int = 8 * 1024, maxHeaderBytes: Int = 16 * 1024, maxHeaderCount: Int = 100,
        maxBodyBytes: Int = 1024 * 1024, maxChunkLineBytes: Int = 1024
    ) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
        self.maxChunkLineBytes = maxChunkLineBytes
    }
}

/// An incremental, strict HTTP/1.x request parser with no I/O: feed bytes with ``append(_:)``, pull
/// requests with ``next()``.
///
/// Strict where leniency lets two parsers disagree about where a request ends (request smuggling):
/// lines end in CRLF only; no obs-fold; no whitespace before a header colon; `Content-Length` is plain
/// digits and repeated only with one value; `Content-Length` with `Transfer-Encoding` is refused; the only
/// transfer coding is a single `chunked`, whose size lines are bare hex digits (optionally `;ext`).
/// Empty lines before a request line are skipped (RFC 9112 §2.2). Several requests in one buffer
/// (pipelining) come out one per ``next()`` call in order. After an error the parser stays failed.
public struct HTTPRequestParser: Sendable {
    /// What ``next()`` found.
    public enum Progress: Sendable, Equatable {
        /// The buffer ends inside a request (or is empty): append more bytes.
        case needMoreData
        /// The head asked for `100-continue` and its body is not buffered yet: send
        /// `HTTP/1.1 100 Continue` and call ``next()`` again. Reported once per request, only after the
        /// head passed every limit (so a too-large body is refused with 413 instead).
        case expectsContinue
        /// A complete request; call again for a pipelined one.
        case request(HTTPRequest)
    }

    /// Where the parser stands, for the connection's read deadlines.
    public enum Stage: Sendable, Equatable {
        /// No byte of the next request yet: the connection is idle.
        case idle
        /// Inside a request line or header section (header timeout applies).
        case head
        /// Head done, body incomplete (body timeout applies).
        case body
    }

    private enum Framing: Sendable {
        case length(Int)
        case chunked
    }

    private enum ChunkState: Sendable {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailers(bytes: Int, count: Int)
    }

    private struct Head: Sendable {
        var method: String
        var target: String
        var minorVersion: Int
        var headers: HTTPHeaders
        var framing: Framing
        var expectsContinue: Bool
    }

    public let limits: HTTPParserLimits
    private var buffer: [UInt8] = []
    /// Index of the first unconsumed byte.
    private var start = 0
    /// Head scanning: next byte to look at, start of the current line, end of the request line.
    private var scanIndex = 0
    private var lineStart = 0
    private var requestLineEnd: Int?
    private var headerLineCount = 0
    private var head: Head?
    private var body: [UInt8] = []
    private var chunkState: ChunkState = .size
    private var continueReported = false
    private var failure: HTTPParseError?

    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        self.limits = limits
    }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// Bytes received but not yet consumed by a returned request.
    public var bufferedByteCount: Int { buffer.count - start }

    public var stage: Stage {
        if head != nil { return .body }
        return bufferedByteCount == 0 ? .idle : .head
    }

    /// Whether an error was thrown; the connection must close.
    public var hasFailed: Bool { failure != nil }

    public mutating func next() throws(HTTPParseError) -> Progress {
        if let failure { throw failure }
        do {
            return try step()
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func step() throws(HTTPParseError) -> Progress {
        if head == nil {
            guard let parsed = try scanHead() else { return .needMoreData }
            head = parsed
            continueReported = false
            chunkState = .size
            body = []
        }
        guard let current = head else { return .needMoreData }
        let complete: Bool
        switch current.framing {
        case .length(let length):
            if bufferedByteCount >= length {
                body = Array(buffer[start..<(start + length)])
                start += length
                complete = true
            } else {
                complete = false
            }
        case .chunked:
            complete = try scanChunks()
        }
        if !complete {
            if current.expectsContinue && !continueReported {
                continueReported = true
                return .expectsContinue
            }
            compact()
            return .needMoreData
        }
        let request = HTTPRequest(
            method: current.method, target: current.target, minorVersion: current.minorVersion,
            headers: current.headers, body: body)
        head = nil
        body = []
        compact()
        return .request(request)
    }

    /// Drops consumed bytes once they dominate the buffer, keeping indices consistent.
    private mutating func compact() {
        guard start > 0, start >= buffer.count / 2 || start > 64 * 1024 else { return }
        buffer.removeFirst(start)
        scanIndex -= start
        lineStart -= start
        if let end = requestLineEnd { requestLineEnd = end - start }
        start = 0
    }

    // MARK: Head

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")

    /// Scans for the end of the head, enforcing limits on the way; parses it when complete.
    private mutating func scanHead() throws(HTTPParseError) -> Head? {
        if scanIndex < start {
            scanIndex = start
            lineStart = start
        }
        // Skip empty lines before the request line.
        while requestLineEnd == nil, scanIndex == start, buffer.count - start >= 1 {
            if buffer[start] == Self.lf {
                throw HTTPParseError(.bareLineEnding, "bare LF before the request line")
            }
            guard buffer[start] == Self.cr else { break }
            guard buffer.count - start >= 2 else { return nil }
            guard buffer[start + 1] == Self.lf else {
                throw HTTPParseError(.bareLineEnding, "bare CR before the request line")
            }
            start += 2
            scanIndex = start
            lineStart = start
        }
        while scanIndex < buffer.count {
            let byte = buffer[scanIndex]
            if scanIndex > lineStart, buffer[scanIndex - 1] == Self.cr, byte != Self.lf {
                throw HTTPParseError(.bareLineEnding, "CR not followed by LF")
            }
            if byte == Self.lf {
                guard scanIndex > lineStart, buffer[scanIndex - 1] == Self.cr else {
                    throw HTTPParseError(.bareLineEnding, "line ends in a bare LF")
                }
                let contentEnd = scanIndex - 1
                if let requestLineEnd {
                    if contentEnd == lineStart {
                        // Empty line: the head is complete.
                        let headEnd = scanIndex + 1
                        let parsed = try parseHead(
                            requestLine: start..<requestLineEnd, headerSection: (requestLineEnd + 2)..<headEnd)
                        start = headEnd
                        scanIndex = start
                        lineStart = start
                        self.requestLineEnd = nil
                        headerLineCount = 0
                        return parsed
                    }
                    headerLineCount += 1
                    if headerLineCount > limits.maxHeaderCount {
                        throw HTTPParseError(.tooManyHeaders, "more than \(limits.maxHeaderCount) header fields")
                    }
                } else {
                    if contentEnd - start > limits.maxRequestLineBytes {
                        throw HTTPParseError(
                            .requestLineTooLong, "request line over \(limits.maxRequestLineBytes) bytes")
                    }
                    requestLineEnd = contentEnd
                }
                lineStart = scanIndex + 1
            }
            scanIndex += 1
            if let requestLineEnd {
                if scanIndex - (requestLineEnd + 2) > limits.maxHeaderBytes {
                    throw HTTPParseError(.headersTooLarge, "header section over \(limits.maxHeaderBytes) bytes")
                }
            } else if scanIndex - start > limits.maxRequestLineBytes + 1 {
                throw HTTPParseError(.requestLineTooLong, "request line over \(limits.maxRequestLineBytes) bytes")
            }
        }
        return nil
    }

    private func parseHead(requestLine: Range<Int>, headerSection: Range<Int>) throws(HTTPParseError) -> Head {
        let line = buffer[requestLine]
        let parts = line.split(separator: UInt8(ascii: " "), maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw HTTPParseError(.malformedRequestLine, "request line is not METHOD SP target SP version")
        }
        let methodBytes = parts[0]
        guard !methodBytes.isEmpty, methodBytes.allSatisfy(Self.isTokenByte) else {
            throw HTTPParseError(.malformedRequestLine, "method is not a token")
        }
        let targetBytes = parts[1]
        guard !targetBytes.isEmpty, targetBytes.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            throw HTTPParseError(.malformedRequestLine, "target is empty or holds a space or control byte")
        }
        let method = String(decoding: methodBytes, as: UTF8.self)
        var target = String(decoding: targetBytes, as: UTF8.self)
        if target.hasPrefix("http://") || target.hasPrefix("https://") {
            // Absolute form (RFC 9112 §3.2.2): keep path and query.
            let afterScheme = target.drop(while: { $0 != ":" }).dropFirst(3)
            let pathStart = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" })
            target = pathStart.map { String(afterScheme[$0...]) } ?? "/"
            if target.hasPrefix("?") { target = "/" + target }
        } else if target == "*" {
            guard method == "OPTIONS" else {
                throw HTTPParseError(.malformedRequestLine, "asterisk target outside OPTIONS")
            }
        } else if !target.hasPrefix("/") {
            throw HTTPParseError(.malformedRequestLine, "target is not an absolute path")
        }
        let minorVersion = try Self.parseVersion(parts[2])

        var headers = HTTPHeaders()
        var lineStart = headerSection.lowerBound
        let sectionEnd = headerSection.upperBound - 2  // the final empty line's CRLF
        while lineStart < sectionEnd {
            var lineEnd = lineStart
            while buffer[lineEnd] != Self.cr { lineEnd += 1 }
            let field = try Self.parseField(buffer[lineStart..<lineEnd])
            headers.add(field.name, field.value)
            lineStart = lineEnd + 2
        }

        let hosts = headers.values("Host")
        if minorVersion >= 1 ? hosts.count != 1 : hosts.count > 1 {
            throw HTTPParseError(.invalidHost, "HTTP/1.1 needs exactly one Host field")
        }

        let framing = try Self.framing(of: headers, minorVersion: minorVersion, limits: limits)
        var expectsContinue = false
        if let expect = headers["Expect"] {
            guard expect.lowercased() == "100-continue" else {
                throw HTTPParseError(.unsupportedExpectation, "only Expect: 100-continue is supported")
            }
            switch framing {
            case .length(let length): expectsContinue = length > 0 && minorVersion >= 1
            case .chunked: expectsContinue = minorVersion >= 1
            }
        }
        return Head(
            method: method, target: target, minorVersion: minorVersion, headers: headers, framing: framing,
            expectsContinue: expectsContinue)
    }

    private static func parseVersion(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        let text = Array(bytes)
        guard text.count == 8, text[0..<5].elementsEqual("HTTP/".utf8), HTTPRequestParser.isDigit(text[5]),
            text[6] == UInt8(ascii: "."), HTTPRequestParser.isDigit(text[7])
        else {
            throw HTTPParseError(.malformedRequestLine, "version is not HTTP/x.y")
        }
        guard text[5] == UInt8(ascii: "1") else {
            throw HTTPParseError(.unsupportedVersion, "only HTTP/1.x is served")
        }
        // A later 1.x minor is served as 1.1 (RFC 9110 §6.2).
        return min(Int(text[7] - UInt8(ascii: "0")), 1)
    }

    private static func parseField(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> (name: String, value: String) {
        guard let first = line.first else {
            throw HTTPParseError(.malformedHeader, "empty header line")
        }
        if first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
            throw HTTPParseError(.obsoleteLineFolding, "header line starts with whitespace (obs-fold)")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw HTTPParseError(.malformedHeader, "header line without a colon")
        }
        let nameBytes = line[line.startIndex..<colon]
        guard !nameBytes.isEmpty, nameBytes.allSatisfy(isTokenByte) else {
            throw HTTPParseError(.malformedHeader, "header name is empty or not a token")
        }
        var valueBytes = line[(colon + 1)...]
        while let byte = valueBytes.first, byte == 0x20 || byte == 0x09 { valueBytes = valueBytes.dropFirst() }
        while let byte = valueBytes.last, byte == 0x20 || byte == 0x09 { valueBytes = valueBytes.dropLast() }
        guard valueBytes.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
            throw HTTPParseError(.malformedHeader, "control byte in a header value")
        }
        let name = String(decoding: nameBytes, as: UTF8.self)
        let value =
            String(validating: valueBytes, as: UTF8.self)
            ?? String(String.UnicodeScalarView(valueBytes.map { Unicode.Scalar($0) }))  // ISO-8859-1
        return (name, value)
    }

    private static func framing(of headers: HTTPHeaders, minorVersion: Int, limits: HTTPParserLimits)
        throws(HTTPParseError) -> Framing
    {
        let transferEncodings = headers.values("Transfer-Encoding")
        let contentLengths = headers.values("Content-Length")
        if !transferEncodings.isEmpty {
            if !contentLengths.isEmpty {
                throw HTTPParseError(
                    .contentLengthWithTransferEncoding, "both Content-Length and Transfer-Encoding")
            }
            if minorVersion == 0 {
                throw HTTPParseError(.invalidTransferEncoding, "Transfer-Encoding in an HTTP/1.0 request")
            }
            let codings = transferEncodings.flatMap {
                $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces().lowercased() }
            }
            if codings.contains(where: \.isEmpty) {
                throw HTTPParseError(.invalidTransferEncoding, "empty transfer coding")
            }
            guard codings.last == "chunked", codings.filter({ $0 == "chunked" }).count == 1 else {
                throw HTTPParseError(.invalidTransferEncoding, "chunked must be the last coding, once")
            }
            guard codings.count == 1 else {
                throw HTTPParseError(.unsupportedTransferEncoding, "only the chunked transfer coding is served")
            }
            return .chunked
        }
        guard !contentLengths.isEmpty else { return .length(0) }
        var length: Int?
        for element in contentLengths.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
            let digits = element.trimmingSpaces()
            guard !digits.isEmpty, digits.utf8.allSatisfy(isDigit) else {
                throw HTTPParseError(.invalidContentLength, "Content-Length is not a decimal number")
            }
            guard digits.utf8.count <= 18, let value = Int(digits) else {
                throw HTTPParseError(.invalidContentLength, "Content-Length out of range")
            }
            if let length, length != value {
                throw HTTPParseError(.conflictingContentLength, "Content-Length values differ")
            }
            length = value
        }
        let declared = length ?? 0
        if declared > limits.maxBodyBytes {
            throw HTTPParseError(.bodyTooLarge, "body over \(limits.maxBodyBytes) bytes")
        }
        return .length(declared)
    }

    // MARK: Chunked body

    /// Consumes as much of a chunked body as is buffered; returns whether it is complete.
    private mutating func scanChunks() throws(HTTPParseError) -> Bool {
        while true {
            switch chunkState {
            case .size:
                guard let lineEnd = try findLineEnd(from: start, limit: limits.maxChunkLineBytes) else { return false }
                let size = try Self.parseChunkSize(buffer[start..<lineEnd])
                start = lineEnd + 2
                if size == 0 {
                    chunkState = .trailers(bytes: 0, count: 0)
                } else {
                    guard size <= limits.maxBodyBytes - body.count else {
                        throw HTTPParseError(.bodyTooLarge, "body over \(limits.maxBodyBytes) bytes")
                    }
                    chunkState = .data(remaining: size)
                }
            case .data(let remaining):
                let available = min(remaining, bufferedByteCount)
                guard available > 0 else { return false }
                body.append(contentsOf: buffer[start..<(start + available)])
                start += available
                chunkState = remaining == available ? .dataEnd : .data(remaining: remaining - available)
            case .dataEnd:
                guard bufferedByteCount >= 2 else {
                    if bufferedByteCount == 1, buffer[start] != Self.cr {
                        throw HTTPParseError(.malformedChunk, "chunk data not followed by CRLF")
                    }
                    return false
                }
                guard buffer[start] == Self.cr, buffer[start + 1] == Self.lf else {
                    throw HTTPParseError(.malformedChunk, "chunk data not followed by CRLF")
                }
                start += 2
                chunkState = .size
            case .trailers(let bytes, let count):
                // A trailer line may use the budget left minus its own CRLF. The same error whether the
                // line is buffered whole or still arriving: the verdict must not depend on how the
                // stream is sliced (deploy/fuzz found a 400 against a 431 here).
                let tooLarge = HTTPParseError(.headersTooLarge, "trailer section over \(limits.maxHeaderBytes) bytes")
                guard
                    let lineEnd = try findLineEnd(
                        from: start, limit: limits.maxHeaderBytes - bytes - 2, overLimit: tooLarge)
                else { return false }
                if lineEnd == start {
                    // The final empty line counts too, as in the header section.
                    guard bytes + 2 <= limits.maxHeaderBytes else { throw tooLarge }
                    start += 2
                    return true
                }
                // Trailers are checked like header fields and then dropped: nothing relies on them.
                _ = try Self.parseField(buffer[start..<lineEnd])
                guard count + 1 <= limits.maxHeaderCount else {
                    throw HTTPParseError(.tooManyHeaders, "more than \(limits.maxHeaderCount) trailer fields")
                }
                let used = bytes + (lineEnd + 2 - start)
                start = lineEnd + 2
                chunkState = .trailers(bytes: used, count: count + 1)
            }
        }
    }

    /// The index of the CR of the next CRLF at or after `from`, `nil` if not buffered yet; a bare CR or
    /// LF, or a line longer than `limit` (`overLimit`, by default a malformed chunk), is an error. A
    /// `nil` answer means every buffered byte is within `limit`.
    private func findLineEnd(from: Int, limit: Int, overLimit: HTTPParseError? = nil) throws(HTTPParseError) -> Int? {
        var index = from
        while index < buffer.count {
            let byte = buffer[index]
            if byte == Self.lf {
                throw HTTPParseError(.malformedChunk, "bare LF in chunk framing")
            }
            if byte == Self.cr {
                guard index + 1 < buffer.count else { return nil }
                guard buffer[index + 1] == Self.lf else {
                    throw HTTPParseError(.malformedChunk, "bare CR in chunk framing")
                }
                return index
            }
            index += 1
            if index - from > limit {
                throw overLimit ?? HTTPParseError(.malformedChunk, "chunk line over \(limit) bytes")
            }
        }
        return nil
    }

    private static func parseChunkSize(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        var size = 0
        var digits = 0
        var index = line.startIndex
        while index < line.endIndex, let value = hexValue(line[index]) {
            digits += 1
            guard digits <= 15 else { throw HTTPParseError(.malformedChunk, "chunk size too long") }
            size = size << 4 | Int(value)
            index += 1
        }
        guard digits > 0 else { throw HTTPParseError(.malformedChunk, "chunk size is not hexadecimal") }
        if index < line.endIndex {
            // Only `;extension` may follow, with visible characters, space or tab.
            guard line[index] == UInt8(ascii: ";"),
                line[index...].allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 <= 0x7E) })
            else {
                throw HTTPParseError(.malformedChunk, "unexpected bytes after the chunk size")
            }
        }
        return size
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// RFC 9110 tchar: `!#$%&'*+-.^_`|~`, digits and letters.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default: false
        }
    }
}
