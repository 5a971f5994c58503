import Foundation
import Glibc
import Synchronization
import Testing

@testable import ServiceKit

/// Many misbehaving connections held open at once (issue 10, "HTTP listener"): slowloris, slow bodies,
/// half-closes and resets in the middle of a request, while `/livez` is polled.
///
/// The single-connection cases (one stalled head, one slow body, CL/TE conflicts, smuggling, 414/431/413,
/// a half-close after a complete request, a reset mid-body) are in ``HTTPServerTests`` and
/// ``HTTPRequestParserTests``; these tests add the flood. Timeouts are shortened (head 2 s, body 2 s) so
/// each test stays under ~10 s; the production defaults (10 s / 30 s) only stretch the same timeline.
struct HTTPFaultTests {
    /// 200 slowloris connections (under the 256-connection default) trickle one header line per
    /// 500 ms: `/livez` on a fresh connection still answers 200 within 1 s every 200 ms, and every
    /// slow connection gets 408 and is closed by the 2 s head deadline (plus scheduling slack).
    @Test func slowlorisUnderCapacityNeverDelaysLivez() async throws {
        let live = try LiveServer { $0.headerTimeout = .seconds(2) }
        let attack = try SlowClients(port: live.port, count: 200)
        try attack.send("GET /livez HTTP/1.1\r\nHost: x\r\n")
        attack.trickle(every: .milliseconds(500), times: 8) { index in "X-Slow-\(index): 1\r\n" }
        #expect(try await waitUntil { live.server.openConnectionCount >= 200 })

        let probes = try await Self.pollLivez(port: live.port, for: .seconds(2))
        #expect(probes.count >= 5)
        #expect(probes.allSatisfy { $0.status == 200 }, "\(probes)")
        #expect(probes.allSatisfy { $0.latency < .seconds(1) }, "\(probes)")

        #expect(try await waitUntil(timeout: .seconds(6)) { live.server.openConnectionCount == 0 })
        attack.stopTrickle()
        let answers = attack.drain()
        #expect(answers.timedOut == 200, "\(answers)")
        let metrics = await live.registry.render()
        #expect(metrics.contains(#"tierguard_http_read_timeouts_total{stage="head"} 200"#))
        var check = try RawClient(port: live.port)
        try check.send(live.request("/livez"))
        #expect(try await check.readResponse().status == 200)
    }

    /// More slow connections than the server admits (40 + 20 against `maxConnections` 40, head deadline
    /// 10 s): at capacity the oldest connection still without a complete head after 1 s is shed to admit
    /// the new one, so `/livez` keeps answering 200 within 1 s instead of 503 for the whole head deadline
    /// (what this test found before the shedding rule). Connections still under 1 s old are not shed:
    /// a burst of fresh ones beyond capacity is refused with 503, as ``HTTPServerTests`` checks.
    @Test func slowlorisBeyondCapacityShedsTheOldestSlowHeadSoLivezStays200() async throws {
        let live = try LiveServer { $0.maxConnections = 40 }
        let first = try SlowClients(port: live.port, count: 40)
        try first.send("GET / HTTP/1.1\r\n")
        first.trickle(every: .milliseconds(500), times: 10) { _ in "X: 1\r\n" }
        #expect(try await waitUntil { live.server.openConnectionCount == 40 })
        try await Task.sleep(for: .milliseconds(1200))
        let second = try SlowClients(port: live.port, count: 20)
        try second.send("GET / HTTP/1.1\r\n")
        second.trickle(every: .milliseconds(500), times: 10) { _ in "X: 1\r\n" }

        let probes = try await Self.pollLivez(port: live.port, for: .seconds(2))
        #expect(probes.count >= 5)
        #expect(probes.allSatisfy { $0.status == 200 && $0.latency < .seconds(1) }, "\(probes)")
        #expect(live.server.openConnectionCount <= 40 + 64)
        first.stopTrickle()
        second.stopTrickle()
        let answers = first.drain()
        // Shed connections are closed without an answer; none of the slow ones got a response yet.
        #expect(answers.silent == 40, "\(answers)")
        let metrics = await live.registry.render()
        let shed = metrics.split(separator: "\n").first { $0.hasPrefix(#"tierguard_http_connections_rejected_total{reason="shed_slow_head"}"#) }
        let count = shed.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        // Each of the 20 late slow connections shed one early one; a probe only sheds when it finds the
        // server full (a shed slot frees when its thread exits, and a probe's own slot when it closes).
        #expect(count >= 20, "\(shed ?? "no shed metric")")
    }

    /// 100 slow bodies (a declared 1,000-byte body sent one byte per 300 ms): each gets 408 at the 2 s
    /// body deadline; `/livez` stays at 200 within 1 s meanwhile.
    @Test func slowBodyFloodTimesOutWhileLivezAnswers() async throws {
        let live = try LiveServer { $0.bodyTimeout = .seconds(2) }
        let attack = try SlowClients(port: live.port, count: 100)
        try attack.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        attack.trickle(every: .milliseconds(300), times: 14) { _ in "a" }
        #expect(try await waitUntil { live.server.openConnectionCount >= 100 })

        let probes = try await Self.pollLivez(port: live.port, for: .seconds(1))
        #expect(probes.allSatisfy { $0.status == 200 && $0.latency < .seconds(1) }, "\(probes)")
        #expect(try await waitUntil(timeout: .seconds(6)) { live.server.openConnectionCount == 0 })
        attack.stopTrickle()
        #expect(attack.drain().timedOut == 100)
        let metrics = await live.registry.render()
        #expect(metrics.contains(#"tierguard_http_read_timeouts_total{stage="body"} 100"#))
    }

    /// A client that half-closes in the middle of a head or a body is owed nothing: the server closes at
    /// once (long before the 10 s head deadline) without a response, and frees the slot.
    @Test func halfCloseMidRequestClosesAtOnceWithoutAResponse() async throws {
        let live = try LiveServer()
        for partial in [
            "GET /livez HTTP/1.1\r\nHo", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        ] {
            var client = try RawClient(port: live.port)
            try client.send(partial)
            client.shutdownWrite()
            let started = ContinuousClock.now
            let (text, closed) = try await client.readUntilClosed(timeout: .seconds(3))
            #expect(closed)
            #expect(text.isEmpty, "\(partial.debugDescription) got \(text.debugDescription)")
            #expect(ContinuousClock.now - started < .seconds(1))
        }
        #expect(try await waitUntil { live.server.openConnectionCount == 0 })
    }

    /// 50 clients reset (RST) while their request is being handled (`/slow` sleeps 300 ms) and 50 reset
    /// after half a head: the server writes into dead sockets without dying (SIGPIPE ignored,
    /// `MSG_NOSIGNAL`), frees every slot, and answers the next request.
    @Test func resetsDuringHandlingAndMidHeadFreeEverySlot() async throws {
        let live = try LiveServer()
        let slow = try SlowClients(port: live.port, count: 50)
        try slow.send(live.request("/slow"))
        let half = try SlowClients(port: live.port, count: 50)
        try half.send("GET /livez HTTP/1.1\r\nX-Half: ")
        #expect(try await waitUntil { live.server.openConnectionCount == 100 })
        slow.reset()
        half.reset()
        #expect(try await waitUntil(timeout: .seconds(5)) { live.server.openConnectionCount == 0 })
        var check = try RawClient(port: live.port)
        try check.send(live.request("/livez"))
        #expect(try await check.readResponse().status == 200)
    }

    struct Probe: CustomStringConvertible {
        var status: Int
        var latency: Duration
        var description: String { "\(status) in \(latency)" }
    }

    /// Opens a fresh connection for `GET /livez` every 200 ms for `duration`; a probe that gets no
    /// answer within 2 s is recorded as status 0.
    static func pollLivez(port: Int, for duration: Duration) async throws -> [Probe] {
        var probes: [Probe] = []
        let end = ContinuousClock.now + duration
        repeat {
            let started = ContinuousClock.now
            var status = 0
            if var client = try? RawClient(port: port) {
                try? client.send("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
                status = (try? await client.readResponse(timeout: .seconds(2)).status) ?? 0
            }
            probes.append(Probe(status: status, latency: ContinuousClock.now - started))
            try await Task.sleep(for: .milliseconds(200))
        } while ContinuousClock.now < end
        return probes
    }
}

/// `count` connections to 127.0.0.1:`port` that send what the test says, when it says; the trickle runs
/// on its own thread (it sleeps between rounds) so the cooperative pool stays free for the server.
final class SlowClients: Sendable {
    let fds: [Int32]
    private let stopped = Atomic<Bool>(false)
    private let trickleDone = Mutex<DispatchSemaphore?>(nil)

    init(port: Int, count: Int) throws {
        var opened: [Int32] = []
        for _ in 0..<count {
            let fd: Int32
            do { fd = try RawClient.connectLoopback(port: port) } catch {
                for open in opened { close(open) }
                throw error
            }
            opened.append(fd)
        }
        fds = opened
    }

    deinit {
        stopTrickle()
        for fd in fds { close(fd) }
    }

    /// Sends `text` on every connection; a connection the server already closed is skipped.
    func send(_ text: String) throws {
        for fd in fds { Self.send(fd, text) }
    }

    /// Every `interval`, `times` times, sends `piece(round)` on every connection.
    func trickle(every interval: Duration, times: Int, _ piece: @escaping @Sendable (Int) -> String) {
        let done = DispatchSemaphore(value: 0)
        trickleDone.withLock { $0 = done }
        let fds = self.fds
        Thread { [self] in
            defer { done.signal() }
            for round in 0..<times {
                let (seconds, attoseconds) = interval.components
                usleep(UInt32(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
                if self.stopped.load(ordering: .relaxed) { return }
                for fd in fds { Self.send(fd, piece(round)) }
            }
        }.start()
    }

    func stopTrickle() {
        stopped.store(true, ordering: .relaxed)
        if let done = trickleDone.withLock({ $0 }) { done.wait() }
        trickleDone.withLock { $0 = nil }
    }

    /// Closes every connection with RST (`SO_LINGER` 0) instead of FIN.
    func reset() {
        for fd in fds {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            shutdown(fd, Int32(SHUT_RDWR))
        }
    }

    struct Answers: CustomStringConvertible {
        var timedOut = 0, busy = 0, other = 0, silent = 0
        var description: String { "408: \(timedOut), 503: \(busy), other: \(other), nothing: \(silent)" }
    }

    /// Reads what each connection received so far (without waiting) and classifies it by status.
    func drain() -> Answers {
        var answers = Answers()
        var buffer = [UInt8](repeating: 0, count: 4096)
        for fd in fds {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            let text = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : ""
            if text.hasPrefix("HTTP/1.1 408") {
                answers.timedOut += 1
            } else if text.hasPrefix("HTTP/1.1 503") {
                answers.busy += 1
            } else if text.isEmpty {
                answers.silent += 1
            } else {
                answers.other += 1
            }
        }
        return answers
    }

    private static func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
    }
}
