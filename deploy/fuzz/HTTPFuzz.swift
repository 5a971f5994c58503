// libFuzzer entry for ServiceKit's HTTP/1.x request parser: compiled by deploy/fuzz/run.sh into ONE
// module with HTTPRequestParser.swift, HTTPRequest.swift, HTTPHeaders.swift and HTTPParseError.swift.
// Not part of the SwiftPM package.
//
// Target `http`: the bytes are one connection's input. The parser runs twice, once with all bytes
// appended at once and once fed in small slices (sizes from the input itself), pulling requests with
// `next()` after every append. Both runs must give the same requests in the same order and end in the
// same state (the same error, or none): an incremental parser whose verdict depends on how TCP splits
// the stream is how request smuggling starts. Small limits make 414, 431 and 413 reachable.

let fuzzLimits = HTTPParserLimits(
    maxRequestLineBytes: 96, maxHeaderBytes: 384, maxHeaderCount: 8, maxBodyBytes: 512, maxChunkLineBytes: 40)

func mismatch(_ what: String, _ detail: @autoclosure () -> String) -> Never {
    fatalError("fuzz mismatch in \(what): \(detail())")
}

struct Outcome: Equatable {
    var requests: [HTTPRequest] = []
    var error: HTTPParseError?
}

/// Pulls every request now buffered; stops at `needMoreData` or an error.
func drain(_ parser: inout HTTPRequestParser, into outcome: inout Outcome) {
    var continues = 0
    while outcome.error == nil {
        do {
            switch try parser.next() {
            case .needMoreData: return
            case .expectsContinue:
                continues += 1
                if continues > 1 { mismatch("expectsContinue", "reported twice without new bytes") }
            case .request(let request):
                continues = 0
                outcome.requests.append(request)
            }
        } catch {
            outcome.error = error
            if !parser.hasFailed { mismatch("hasFailed", "false after \(error)") }
            // A failed parser stays failed with the same error.
            do {
                _ = try parser.next()
                mismatch("failed parser", "next() did not throw after \(error)")
            } catch let again {
                if again != error { mismatch("failed parser", "\(again) after \(error)") }
            }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []

    var whole = HTTPRequestParser(limits: fuzzLimits)
    var wholeOutcome = Outcome()
    whole.append(bytes)
    drain(&whole, into: &wholeOutcome)

    var sliced = HTTPRequestParser(limits: fuzzLimits)
    var slicedOutcome = Outcome()
    var offset = 0
    var step = 0
    while offset < bytes.count && slicedOutcome.error == nil {
        // Slice sizes 1…7 from the input's own bytes, so the fuzzer can steer the split points.
        let length = min(bytes.count - offset, 1 + Int(bytes[step % bytes.count]) % 7)
        step += 1
        sliced.append(bytes[offset..<(offset + length)])
        offset += length
        drain(&sliced, into: &slicedOutcome)
    }

    if wholeOutcome != slicedOutcome {
        mismatch("HTTP parser slicing",
                 "whole: \(wholeOutcome.requests.count) requests, \(String(describing: wholeOutcome.error)); "
                 + "sliced: \(slicedOutcome.requests.count) requests, \(String(describing: slicedOutcome.error))")
    }
    for request in wholeOutcome.requests {
        if request.body.count > fuzzLimits.maxBodyBytes { mismatch("body limit", "\(request.body.count) bytes") }
        if request.method.isEmpty || !(request.target.hasPrefix("/") || request.target == "*") {
            mismatch("request line", "\(request.method) \(request.target)")
        }
        if request.headers.values("Host").count > 1 { mismatch("Host", "more than one Host field accepted") }
    }
    if wholeOutcome.error == nil && whole.bufferedByteCount > bytes.count {
        mismatch("bufferedByteCount", "\(whole.bufferedByteCount) of \(bytes.count)")
    }
    return 0
}
