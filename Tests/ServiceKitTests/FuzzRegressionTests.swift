import Foundation
import Testing
@testable import ServiceKit

/// Replays `Regressions/http/` (next to this file) through ``HTTPRequestParser``: crashers that
/// `deploy/fuzz/run.sh http` found (`crash-<sha1>`, copied there by the script) and hand-written
/// framing edge cases from issue 10 (`edge-*`). Each input is one connection's bytes, parsed whole and
/// again in small slices; both must give the same requests and the same final error, as the fuzz entry
/// `deploy/fuzz/HTTPFuzz.swift` checks. The parser's limits are the defaults here (the fuzzer uses
/// small ones), so the 414/431/413 inputs are sized for the defaults.
enum HTTPRegressions {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Regressions").appendingPathComponent("http")

    static var names: [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return entries.filter { name in
            var isDirectory: ObjCBool = false
            return !name.hasPrefix(".")
                && FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path, isDirectory: &isDirectory)
                && !isDirectory.boolValue
        }.sorted()
    }

    struct Outcome: Equatable {
        var requests: [HTTPRequest] = []
        var error: HTTPParseError?
    }

    static func drain(_ parser: inout HTTPRequestParser, _ outcome: inout Outcome) {
        while outcome.error == nil {
            do {
                switch try parser.next() {
                case .needMoreData: return
                case .expectsContinue: continue
                case .request(let request): outcome.requests.append(request)
                }
            } catch {
                outcome.error = error
            }
        }
    }

    /// Parses `bytes` appended in slices of `sliceSize` (everything at once when nil).
    static func parse(_ bytes: [UInt8], sliceSize: Int? = nil, limits: HTTPParserLimits = HTTPParserLimits()) -> Outcome {
        var parser = HTTPRequestParser(limits: limits)
        var outcome = Outcome()
        let size = max(1, sliceSize ?? bytes.count)
        var offset = 0
        repeat {
            let end = min(bytes.count, offset + size)
            parser.append(bytes[offset..<end])
            offset = end
            drain(&parser, &outcome)
        } while offset < bytes.count && outcome.error == nil
        return outcome
    }

    static func outcome(_ name: String) throws -> Outcome {
        parse(Array(try Data(contentsOf: folder.appendingPathComponent(name))))
    }
}

@Suite struct FuzzRegressionTests {
    @Test func theRegressionFolderHasInputs() {
        #expect(!HTTPRegressions.names.isEmpty)
    }

    @Test(arguments: HTTPRegressions.names)
    func inputParsesTheSameWhateverTheSlicing(name: String) throws {
        let bytes = Array(try Data(contentsOf: HTTPRegressions.folder.appendingPathComponent(name)))
        let small = HTTPParserLimits(
            maxRequestLineBytes: 96, maxHeaderBytes: 384, maxHeaderCount: 8, maxBodyBytes: 512, maxChunkLineBytes: 40)
        for limits in [HTTPParserLimits(), small] {
            let whole = HTTPRegressions.parse(bytes, limits: limits)
            for slice in [1, 2, 3, 7] {
                #expect(HTTPRegressions.parse(bytes, sliceSize: slice, limits: limits) == whole, "slices of \(slice)")
            }
            for request in whole.requests { #expect(request.body.count <= limits.maxBodyBytes) }
        }
    }

    // The edge cases' expected verdicts, from the parser's documented rules.

    @Test func framingConflictsAreRefused() throws {
        #expect(try HTTPRegressions.outcome("edge-cl-te.http").error?.code == .contentLengthWithTransferEncoding)
        #expect(try HTTPRegressions.outcome("edge-cl-conflict.http").error?.code == .conflictingContentLength)
        #expect(try HTTPRegressions.outcome("edge-cl-sign.http").error?.code == .invalidContentLength)
        #expect(try HTTPRegressions.outcome("edge-cl-huge.http").error?.code == .invalidContentLength)
        #expect(try HTTPRegressions.outcome("edge-te-twice.http").error?.code == .invalidTransferEncoding)
        #expect(try HTTPRegressions.outcome("edge-chunk-bare-lf.http").error?.code == .malformedChunk)
        #expect(try HTTPRegressions.outcome("edge-chunk-size-overflow.http").error?.code == .malformedChunk)
    }

    @Test func headerSyntaxErrorsAreRefused() throws {
        #expect(try HTTPRegressions.outcome("edge-obs-fold.http").error?.code == .obsoleteLineFolding)
        #expect(try HTTPRegressions.outcome("edge-space-before-colon.http").error?.code == .malformedHeader)
        #expect(try HTTPRegressions.outcome("edge-two-hosts.http").error?.code == .invalidHost)
    }

    @Test func sizeLimitsAnswer414And431And413BeforeTheBody() throws {
        let line = try HTTPRegressions.outcome("edge-request-line-414.http")
        #expect(line.error?.status == 414)
        let headers = try HTTPRegressions.outcome("edge-headers-431.http")
        #expect(headers.error?.status == 431)
        // The first request is served; the second declares 2,000,000 bytes and is refused with no body sent.
        let smuggle = try HTTPRegressions.outcome("edge-smuggle-pipelined-413.http")
        #expect(smuggle.requests.count == 1)
        #expect(smuggle.error?.status == 413)
    }

    @Test func anOverlongTrailerIs431HoweverTheBytesArrive() throws {
        // Found by the fuzzer: whole, it was a 400 "chunk line over -2 bytes"; sliced, a 431.
        let bytes = Array(try Data(contentsOf: HTTPRegressions.folder
            .appendingPathComponent("crash-cd9cb05bf7876a7367a2921de5d6d8c44bd1cd09")))
        let small = HTTPParserLimits(
            maxRequestLineBytes: 96, maxHeaderBytes: 384, maxHeaderCount: 8, maxBodyBytes: 512, maxChunkLineBytes: 40)
        #expect(HTTPRegressions.parse(bytes, limits: small).error?.status == 431)
        #expect(HTTPRegressions.parse(bytes, sliceSize: 3, limits: small).error?.status == 431)
        // A trailer of exactly the budget still fits: 384 = 380-byte line + CRLF + final CRLF.
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
        let fits = head + "X: " + String(repeating: "v", count: 377) + "\r\n\r\n"
        #expect(HTTPRegressions.parse(Array(fits.utf8), limits: small).requests.count == 1)
        let over = head + "X: " + String(repeating: "v", count: 378) + "\r\n\r\n"
        #expect(HTTPRegressions.parse(Array(over.utf8), limits: small).error?.status == 431)
    }

    @Test func pipelinedAndChunkedRequestsComeOutWhole() throws {
        let pipelined = try HTTPRegressions.outcome("edge-pipelined.http")
        #expect(pipelined.error == nil)
        #expect(pipelined.requests.map(\.target) == ["/v1/feeds", "/readyz"])
        #expect(pipelined.requests.first?.body == Array("hello".utf8))
        let chunked = try HTTPRegressions.outcome("edge-chunked.http")
        #expect(chunked.error == nil)
        #expect(chunked.requests.map(\.body) == [Array("hello".utf8)])
        let absolute = try HTTPRegressions.outcome("edge-absolute-form.http")
        #expect(absolute.error == nil)
        #expect(absolute.requests.map(\.target) == ["/a?b", "*"])
    }
}
