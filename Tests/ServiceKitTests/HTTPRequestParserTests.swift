import Testing

@testable import ServiceKit

struct HTTPRequestParserTests {
    /// Feeds `text` in one piece and collects requests until more data is needed.
    func requests(_ text: String, limits: HTTPParserLimits = HTTPParserLimits()) throws(HTTPParseError) -> [HTTPRequest] {
        var parser = HTTPRequestParser(limits: limits)
        parser.append(Array(text.utf8))
        var found: [HTTPRequest] = []
        while true {
            switch try parser.next() {
            case .request(let request): found.append(request)
            case .expectsContinue: continue
            case .needMoreData: return found
            }
        }
    }

    func failure(_ text: String, limits: HTTPParserLimits = HTTPParserLimits()) -> HTTPParseError? {
        do {
            _ = try requests(text, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesASimpleGet() throws {
        let found = try requests("GET /metrics?format=text&x=a%20b HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n")
        #expect(found.count == 1)
        let request = try #require(found.first)
        #expect(request.method == "GET")
        #expect(request.target == "/metrics?format=text&x=a%20b")
        #expect(request.path == "/metrics")
        #expect(request.queryParameters == ["format": "text", "x": "a b"])
        #expect(request.minorVersion == 1)
        #expect(request.headers["host"] == "localhost")
        #expect(request.headers["ACCEPT"] == "*/*")
        #expect(request.body.isEmpty)
        #expect(request.isKeepAlive)
    }

    @Test func readsAContentLengthBody() throws {
        let request = try #require(try requests("POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello").first)
        #expect(request.body == Array("hello".utf8))
    }

    @Test func bytesArrivingOneAtATimeGiveTheSameRequest() throws {
        let text = "POST /f HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n"
        var parser = HTTPRequestParser()
        var found: [HTTPRequest] = []
        for byte in text.utf8 {
            parser.append([byte])
            if case .request(let request) = try parser.next() { found.append(request) }
        }
        #expect(found.count == 1)
        #expect(found.first?.body == Array("abcde".utf8))
        #expect(parser.stage == .idle)
    }

    @Test func pipelinedRequestsComeOutInOrder() throws {
        let text = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhiGET /c HTTP/1.1\r\nHost: h\r\n\r\n"
        let found = try requests(text)
        #expect(found.map(\.path) == ["/a", "/b", "/c"])
        #expect(found[1].body == Array("hi".utf8))
    }

    @Test func stageFollowsTheRequest() throws {
        var parser = HTTPRequestParser()
        #expect(parser.stage == .idle)
        parser.append(Array("POST / HTTP/1.1\r\nHo".utf8))
        #expect(try parser.next() == .needMoreData)
        #expect(parser.stage == .head)
        parser.append(Array("st: h\r\nContent-Length: 4\r\n\r\nab".utf8))
        #expect(try parser.next() == .needMoreData)
        #expect(parser.stage == .body)
        parser.append(Array("cd".utf8))
        guard case .request = try parser.next() else {
            Issue.record("expected a request")
            return
        }
        #expect(parser.stage == .idle)
    }

    @Test func http10ClosesUnlessKeepAliveAndHttp11HonoursClose() throws {
        #expect(try requests("GET / HTTP/1.0\r\n\r\n").first?.isKeepAlive == false)
        #expect(try requests("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").first?.isKeepAlive == true)
        #expect(try requests("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").first?.isKeepAlive == false)
    }

    @Test func leadingEmptyLinesAreSkipped() throws {
        #expect(try requests("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n").count == 1)
    }

    @Test func expectContinueIsReportedOnceBeforeTheBody() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n".utf8))
        #expect(try parser.next() == .expectsContinue)
        #expect(try parser.next() == .needMoreData)
        parser.append(Array("abc".utf8))
        guard case .request(let request) = try parser.next() else {
            Issue.record("expected a request")
            return
        }
        #expect(request.body == Array("abc".utf8))
    }

    @Test func absoluteFormTargetIsReducedToPath() throws {
        #expect(try requests("GET http://example.com/livez?a=1 HTTP/1.1\r\nHost: example.com\r\n\r\n").first?.target == "/livez?a=1")
    }

    // MARK: Limits

    @Test func requestLineOverLimitIs414EvenBeforeItEnds() {
        let limits = HTTPParserLimits(maxRequestLineBytes: 64)
        let long = "GET /" + String(repeating: "a", count: 100)
        #expect(failure(long, limits: limits)?.status == 414)
        #expect(failure(long + " HTTP/1.1\r\nHost: h\r\n\r\n", limits: limits)?.code == .requestLineTooLong)
        // Exactly at the limit is fine: "GET /" + 50 + " HTTP/1.1" = 64 bytes.
        let atLimit = "GET /" + String(repeating: "a", count: 50) + " HTTP/1.1\r\nHost: h\r\n\r\n"
        #expect(failure(atLimit, limits: limits) == nil)
    }

    @Test func headerSectionOverLimitIs431() {
        let limits = HTTPParserLimits(maxHeaderBytes: 100)
        let big = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + String(repeating: "b", count: 200)
        #expect(failure(big, limits: limits)?.status == 431)
        #expect(failure(big, limits: limits)?.code == .headersTooLarge)
    }

    @Test func defaultHeaderLimitIs16KiB() {
        let value = String(repeating: "v", count: 16 * 1024)
        #expect(failure("GET / HTTP/1.1\r\nHost: h\r\nX-Big: \(value)\r\n\r\n")?.status == 431)
        let fits = String(repeating: "v", count: 16 * 1024 - 100)
        #expect(failure("GET / HTTP/1.1\r\nHost: h\r\nX-Big: \(fits)\r\n\r\n") == nil)
    }

    @Test func moreThan100HeadersIs431() {
        let hundred = (1...99).map { "X-\($0): v\r\n" }.joined()
        #expect(failure("GET / HTTP/1.1\r\nHost: h\r\n\(hundred)\r\n") == nil)
        #expect(failure("GET / HTTP/1.1\r\nHost: h\r\n\(hundred)X-100: v\r\n\r\n")?.code == .tooManyHeaders)
    }

    @Test func declaredBodyOverLimitIs413BeforeAnyBodyByte() {
        let limits = HTTPParserLimits(maxBodyBytes: 10)
        // No body bytes at all: the decision comes from Content-Length alone.
        #expect(failure("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", limits: limits)?.status == 413)
        #expect(failure("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n", limits: limits) == nil)
    }

    @Test func expectContinueWithTooLargeBodyGets413NotContinue() {
        let limits = HTTPParserLimits(maxBodyBytes: 10)
        let text = "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 99\r\n\r\n"
        #expect(failure(text, limits: limits)?.status == 413)
    }

    @Test func chunkedBodyOverLimitIs413AtTheChunkSize() {
        let limits = HTTPParserLimits(maxBodyBytes: 10)
        // 8 + 3 = 11 > 10; the second chunk's data is never sent.
        let text = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n3\r\n"
        #expect(failure(text, limits: limits)?.status == 413)
    }

    // MARK: Framing and smuggling

    @Test func contentLengthWithTransferEncodingIs400() {
        let text = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        #expect(failure(text)?.code == .contentLengthWithTransferEncoding)
        #expect(failure(text)?.status == 400)
    }

    @Test func repeatedDifferingContentLengthIs400() {
        #expect(failure("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde")?.code == .conflictingContentLength)
        #expect(failure("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4, 5\r\n\r\nabcde")?.code == .conflictingContentLength)
    }

    @Test func repeatedIdenticalContentLengthIsAccepted() throws {
        let found = try requests("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok")
        #expect(found.first?.body == Array("ok".utf8))
    }

    @Test(arguments: ["-1", "+5", "0x10", "5 5", "", "1.0", "99999999999999999999", "5\u{0B}"])
    func malformedContentLengthIs400(value: String) {
        #expect(failure("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \(value)\r\n\r\n")?.status == 400)
    }

    @Test func transferEncodingOtherThanChunkedIs501Or400() {
        #expect(failure("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")?.status == 501)
        #expect(failure("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n")?.status == 400)
        #expect(failure("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n")?.status == 400)
        #expect(failure("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n")?.status == 400)
        #expect(failure("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n")?.status == 400)
        #expect(failure("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")?.status == 400)
    }

    @Test func transferEncodingIsCaseInsensitive() throws {
        let found = try requests("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n")
        #expect(found.first?.body == Array("z".utf8))
    }

    @Test(arguments: [
        "g\r\nabc\r\n0\r\n\r\n",  // not hex
        "0x3\r\nabc\r\n0\r\n\r\n",  // prefix
        " 3\r\nabc\r\n0\r\n\r\n",  // leading space
        "3 \r\nabc\r\n0\r\n\r\n",  // trailing space
        "\r\nabc\r\n0\r\n\r\n",  // empty size
        "3\r\nabcX\r\n0\r\n\r\n",  // data longer than declared
        "3\nabc\r\n0\r\n\r\n",  // bare LF
        "-3\r\nabc\r\n0\r\n\r\n",  // sign
        "1000000000000000\r\n",  // 16 hex digits: overflow guard
        "3\r\nabc\r\n0\r\nBad Trailer\r\n\r\n",  // trailer without colon
    ])
    func badChunkingIs400(body: String) {
        let text = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + body
        #expect(failure(text, limits: HTTPParserLimits(maxBodyBytes: Int.max))?.status == 400)
    }

    @Test(arguments: [
        "GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",  // obs-fold
        "GET / HTTP/1.1\r\nHost: h\r\nX-A : v\r\n\r\n",  // space before colon
        "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\n: empty-name\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX(A): v\r\n\r\n",  // not a token
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u{0}b\r\n\r\n",  // NUL in value
        "GET / HTTP/1.1\nHost: h\n\n",  // bare LF
        "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n",  // bare CR
        "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",  // double space
        "GET / HTTP/1.1 \r\nHost: h\r\n\r\n",  // trailing space
        "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n",  // space in target
        "G@T / HTTP/1.1\r\nHost: h\r\n\r\n",  // method not a token
        "GET / HTTP/1.x\r\nHost: h\r\n\r\n",
        "GET / HTTP/11\r\nHost: h\r\n\r\n",
        "GET nope HTTP/1.1\r\nHost: h\r\n\r\n",  // not origin-form
        "GET / HTTP/1.1\r\n\r\n",  // no Host
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",  // two Hosts
        "\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}\r\n\r\n",  // a TLS ClientHello's first bytes
    ])
    func badSyntaxIs400(text: String) {
        #expect(failure(text)?.status == 400)
    }

    @Test func otherMajorVersionIs505() {
        #expect(failure("GET / HTTP/2.0\r\nHost: h\r\n\r\n")?.status == 505)
    }

    @Test func unknownExpectationIs417() {
        #expect(failure("GET / HTTP/1.1\r\nHost: h\r\nExpect: magic\r\n\r\n")?.status == 417)
    }

    @Test func smugglingAttemptNeverYieldsASecondRequest() {
        // CL.TE: a lenient front end would take 13 body bytes, a lenient back end the chunked framing.
        let text = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED"
        #expect(failure(text)?.code == .contentLengthWithTransferEncoding)
        // TE with a trailing space variant in the value is still chunked-only (trimmed), and then CL conflicts.
        let obfuscated = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked \r\nContent-Length: 3\r\n\r\n"
        #expect(failure(obfuscated)?.status == 400)
    }

    @Test func parserStaysFailedAfterAnError() {
        var parser = HTTPRequestParser()
        parser.append(Array("BAD\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.self) { try parser.next() }
        #expect(parser.hasFailed)
        #expect(throws: HTTPParseError.self) { try parser.next() }
    }

    @Test func headerValuesAreTrimmedAndObsTextKept() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("GET / HTTP/1.1\r\nHost: h\r\nX-Name: \t value \t\r\nX-Bytes: ".utf8) + [0xE4, 0xB8, 0xAD] + Array("\r\n\r\n".utf8))
        guard case .request(let request) = try parser.next() else {
            Issue.record("expected a request")
            return
        }
        #expect(request.headers["X-Name"] == "value")
        #expect(request.headers["X-Bytes"] == "中")
    }
}
