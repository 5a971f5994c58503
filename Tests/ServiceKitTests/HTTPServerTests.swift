import Foundation
import Glibc
import Synchronization
import Testing

@testable import ServiceKit

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A live server on 127.0.0.1 with an ephemeral port, stopped when the test ends.
final class LiveServer: Sendable {
    let server: HTTPServer
    let port: Int
    let registry = MetricsRegistry()
    let logs = LogSink.memory()

    init(
        configure: (inout HTTPServerConfiguration) -> Void = { _ in },
        readiness: HTTPServer.ReadinessCheck? = nil
    ) throws {
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.lingerTimeout = .milliseconds(200)
        configure(&configuration)
        let logger = Logger(service: "tierguard-test", threshold: .debug, sink: logs)
        server = HTTPServer(configuration: configuration, logger: logger, metrics: registry, readiness: readiness)
        server.route("POST", "/echo") { request in
            HTTPResponse(status: 200, headers: ["Content-Type": "application/octet-stream"], body: request.body)
        }
        server.route("GET", "/slow") { _ in
            try await Task.sleep(for: .milliseconds(300))
            return .text("slow\n")
        }
        server.route("GET", "/teapot") { _ in throw HTTPError(418, "short and stout") }
        server.route("GET", "/boom") { _ in throw CancellationError() }
        server.route("GET", "/api/items/*") { request in .text(request.path) }
        port = try server.start()
    }

    deinit {
        // stop() blocks; the last reference may drop on a cooperative thread.
        let server = self.server
        Thread { server.stop(grace: .milliseconds(500)) }.start()
    }

    func request(_ path: String, host: String = "x") -> String {
        "GET \(path) HTTP/1.1\r\nHost: \(host)\r\n\r\n"
    }
}

struct HTTPServerTests {
    @Test func answersLivezHealthzReadyzAndMetricsOverARawSocket() async throws {
        let live = try LiveServer()
        var client = try RawClient(port: live.port)
        for path in ["/livez", "/healthz"] {
            try client.send(live.request(path))
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.body == "ok\n")
        }
        try client.send(live.request("/readyz"))
        let ready = try await client.readResponse()
        #expect(ready.status == 200)
        #expect(ready.body == #"{"problems":[],"status":"ready"}"#)
        try client.send(live.request("/metrics"))
        let metrics = try await client.readResponse()
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        // Requests are counted after their response is produced: the two probes and /readyz so far.
        #expect(metrics.body.contains(#"tierguard_http_requests_total{code="200",method="GET",route="/livez"} 1"#))
        #expect(metrics.body.contains(#"tierguard_http_requests_total{code="200",method="GET",route="/readyz"} 1"#))
        #expect(metrics.body.contains("tierguard_http_open_connections 1\n"))
    }

    @Test func answersOverURLSession() async throws {
        let live = try LiveServer(readiness: { ["database unreachable"] })
        let session = URLSession(configuration: .ephemeral)
        let (liveBody, liveResponse) = try await session.data(from: URL(string: "http://127.0.0.1:\(live.port)/livez")!)
        #expect((liveResponse as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: liveBody, as: UTF8.self) == "ok\n")
        let (readyBody, readyResponse) = try await session.data(from: URL(string: "http://127.0.0.1:\(live.port)/readyz")!)
        #expect((readyResponse as? HTTPURLResponse)?.statusCode == 503)
        let decoded = try JSONSerialization.jsonObject(with: readyBody) as? [String: Any]
        #expect(decoded?["status"] as? String == "not ready")
        #expect(decoded?["problems"] as? [String] == ["database unreachable"])
        let (metricsBody, _) = try await session.data(from: URL(string: "http://127.0.0.1:\(live.port)/metrics")!)
        #expect(String(decoding: metricsBody, as: UTF8.self).contains("# TYPE tierguard_http_requests_total counter"))
        var post = URLRequest(url: URL(string: "http://127.0.0.1:\(live.port)/echo")!)
        post.httpMethod = "POST"
        post.httpBody = Data("payload".utf8)
        let (echo, _) = try await session.data(for: post)
        #expect(String(decoding: echo, as: UTF8.self) == "payload")
        session.invalidateAndCancel()
    }

    @Test func keepAliveServesTwoRequestsOnOneConnection() async throws {
        let live = try LiveServer()
        var client = try RawClient(port: live.port)
        try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none")
        let first = try await client.readResponse()
        #expect(first.body == "one")
        #expect(first.headers["connection"] == nil)
        try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\ntwo")
        let second = try await client.readResponse()
        #expect(second.body == "two")
        #expect(second.headers["connection"] == "close")
        #expect(try await client.readUntilClosed().closed)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let live = try LiveServer()
        var client = try RawClient(port: live.port)
        // /slow first: a later fast request must not overtake it.
        try client.send(
            live.request("/slow") + live.request("/nope")
                + "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"
                + live.request("/livez"))
        var responses: [TestResponse] = []
        for _ in 0..<4 { responses.append(try await client.readResponse()) }
        #expect(responses.map(\.status) == [200, 404, 200, 200])
        #expect(responses.map(\.body) == ["slow\n", "not found\n", "abcd", "ok\n"])
    }

    @Test func garbageBytesGet400AndTheConnectionIsClosed() async throws {
        let live = try LiveServer()
        var client = try RawClient(port: live.port)
        try client.send([0x16, 0x03, 0x01, 0x00, 0xA5, 0x01, 0x00, 0x00, 0xA1, 0x03, 0x03] + Array("\r\n\r\n".utf8))
        let (text, closed) = try await client.readUntilClosed()
        #expect(text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(text.contains("Connection: close\r\n"))
        #expect(closed)
        // The server is unharmed.
        var other = try RawClient(port: live.port)
        try other.send(live.request("/livez"))
        #expect(try await other.readResponse().status == 200)
    }

    @Test func stalledClientGets408AfterTheHeaderTimeoutWhileOthersAreServed() async throws {
        let live = try LiveServer { $0.headerTimeout = .seconds(1) }
        var stalled = try RawClient(port: live.port)
        let started = ContinuousClock.now
        try stalled.send("GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        // Meanwhile another client gets its answers at once.
        for _ in 0..<3 {
            var other = try RawClient(port: live.port)
            try other.send(live.request("/livez"))
            let response = try await other.readResponse(timeout: .milliseconds(500))
            #expect(response.status == 200)
        }
        #expect(ContinuousClock.now - started < .milliseconds(900))
        let (text, closed) = try await stalled.readUntilClosed(timeout: .seconds(5))
        let elapsed = ContinuousClock.now - started
        #expect(text.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        #expect(closed)
        #expect(elapsed >= .milliseconds(950))
        #expect(elapsed < .seconds(3))
        let metrics = await live.registry.render()
        #expect(metrics.contains(#"tierguard_http_read_timeouts_total{stage="head"} 1"#))
    }

    @Test func trickledHeadersDoNotResetTheHeaderDeadline() async throws {
        let live = try LiveServer { $0.headerTimeout = .milliseconds(800) }
        var client = try RawClient(port: live.port)
        let started = ContinuousClock.now
        try client.send("GET /livez HTTP/1.1\r\n")
        // One header byte every 200 ms would keep a per-read timeout alive forever.
        for byte in "X-A: bcdefgh" {
            // Once the server has answered 408 and closed, a further send fails: stop there.
            do { try client.send(String(byte)) } catch { break }
            try await Task.sleep(for: .milliseconds(200))
            if ContinuousClock.now - started > .seconds(2) { break }
        }
        let (text, _) = try await client.readUntilClosed(timeout: .seconds(3))
        #expect(text.hasPrefix("HTTP/1.1 408"))
    }

    @Test func slowBodyGets408AfterTheBodyTimeout() async throws {
        let live = try LiveServer { $0.bodyTimeout = .milliseconds(700) }
        var client = try RawClient(port: live.port)
        try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        let (text, closed) = try await client.readUntilClosed(timeout: .seconds(3))
        #expect(text.hasPrefix("HTTP/1.1 408"))
        #expect(closed)
    }

    @Test func halfClosedClientStillReceivesItsResponse() async throws {
        let live = try LiveServer()
        var client = try RawClient(port: live.port)
        try client.send(live.request("/livez") + live.request("/healthz"))
        client.shutdownWrite()
        let (text, closed) = try await client.readUntilClosed()
        #expect(text.components(separatedBy: "HTTP/1.1 200 OK\r\n").count == 3)
        #expect(closed)
    }

    @Test func resetAndHalfRequestsNeverStopTheServer() async throws {
        let live = try LiveServer()
        for _ in 0..<20 {
            let client = try RawClient(port: live.port)
            try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial")
            // SO_LINGER 0: close sends RST instead of FIN.
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(client.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
        for _ in 0..<5 {
            let client = try RawClient(port: live.port)
            try client.send(live.request("/slow"))
            client.shutdownWrite()
        }
        var check = try RawClient(port: live.port)
        try check.send(live.request("/livez"))
        #expect(try await check.readResponse().status == 200)
    }

    @Test func oversizedBodyGets413BeforeTheBodyIsSent() async throws {
        let live = try LiveServer { $0.limits.maxBodyBytes = 1024 }
        var client = try RawClient(port: live.port)
        let started = ContinuousClock.now
        try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n")
        let (text, closed) = try await client.readUntilClosed(timeout: .seconds(3))
        #expect(text.hasPrefix("HTTP/1.1 413 Content Too Large\r\n"))
        #expect(closed)
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test func expectContinueGets100ThenTheResponse() async throws {
        let live = try LiveServer()
        var client = try RawClient(port: live.port)
        try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        let interim = try await client.readResponse()
        #expect(interim.status == 100)
        try client.send("data")
        let final = try await client.readResponse()
        #expect(final.status == 200)
        #expect(final.body == "data")
    }

    @Test func requestLineAndHeaderLimitsGive414And431() async throws {
        let live = try LiveServer()
        var long = try RawClient(port: live.port)
        try long.send("GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try await long.readUntilClosed().text.hasPrefix("HTTP/1.1 414 URI Too Long"))
        var many = try RawClient(port: live.port)
        try many.send("GET / HTTP/1.1\r\nHost: x\r\n" + (0..<101).map { "X-\($0): v\r\n" }.joined() + "\r\n")
        #expect(try await many.readUntilClosed().text.hasPrefix("HTTP/1.1 431"))
    }

    @Test func smuggledRequestIsRefusedWith400() async throws {
        let live = try LiveServer()
        var client = try RawClient(port: live.port)
        try client.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                + live.request("/livez"))
        let (text, closed) = try await client.readUntilClosed()
        #expect(text.hasPrefix("HTTP/1.1 400"))
        #expect(text.components(separatedBy: "HTTP/1.1 ").count == 2)  // only the 400, no second response
        #expect(closed)
    }

    @Test func routingGives404405HeadAndPrefixMatches() async throws {
        let live = try LiveServer()
        var client = try RawClient(port: live.port)
        try client.send("DELETE /livez HTTP/1.1\r\nHost: x\r\n\r\n")
        let notAllowed = try await client.readResponse()
        #expect(notAllowed.status == 405)
        #expect(notAllowed.headers["allow"] == "GET, HEAD")
        try client.send("HEAD /livez HTTP/1.1\r\nHost: x\r\n\r\n")
        // A HEAD response has Content-Length 3 but no body: read the head only.
        let (headText, _) = try await client.readUntilClosed(timeout: .milliseconds(300))
        #expect(headText.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(headText.contains("Content-Length: 3\r\n"))
        #expect(headText.hasSuffix("\r\n\r\n"))
        var other = try RawClient(port: live.port)
        try other.send(live.request("/api/items/42"))
        #expect(try await other.readResponse().body == "/api/items/42")
        try other.send(live.request("/teapot"))
        let teapot = try await other.readResponse()
        #expect(teapot.status == 418)
        #expect(teapot.body == "short and stout\n")
        try other.send(live.request("/boom"))
        let boom = try await other.readResponse()
        #expect(boom.status == 500)
        #expect(boom.body == "internal error\n")
        #expect(live.logs.lines.contains { $0.contains("http handler failed") })
    }

    @Test func connectionsBeyondTheLimitGet503() async throws {
        let live = try LiveServer { $0.maxConnections = 2 }
        let first = try RawClient(port: live.port)
        let second = try RawClient(port: live.port)
        #expect(try await waitUntil { live.server.openConnectionCount == 2 })
        var third = try RawClient(port: live.port)
        let (text, closed) = try await third.readUntilClosed()
        #expect(text.hasPrefix("HTTP/1.1 503"))
        #expect(closed)
        #expect(first.fd != second.fd)  // both held open until here
        let metrics = await live.registry.render()
        #expect(metrics.contains(#"tierguard_http_connections_rejected_total{reason="capacity"} 1"#))
    }

    @Test func idleKeptAliveConnectionIsClosedQuietly() async throws {
        let live = try LiveServer { $0.idleTimeout = .milliseconds(300) }
        var client = try RawClient(port: live.port)
        try client.send(live.request("/livez"))
        #expect(try await client.readResponse().status == 200)
        let (text, closed) = try await client.readUntilClosed(timeout: .seconds(3))
        #expect(text.isEmpty)
        #expect(closed)
    }

    @Test func stopClosesTheListenerAndFinishesInFlightRequests() async throws {
        let live = try LiveServer()
        var inFlight = try RawClient(port: live.port)
        try inFlight.send(live.request("/slow"))
        try await Task.sleep(for: .milliseconds(50))
        // stop() blocks while it drains: keep it off the cooperative pool the /slow handler needs.
        await onThread { live.server.stop(grace: .seconds(2)) }
        let response = try await inFlight.readResponse()
        #expect(response.status == 200)
        #expect(response.headers["connection"] == "close")
        #expect(throws: ClientError.self) { _ = try RawClient(port: live.port) }
        #expect(live.server.openConnectionCount == 0)
    }
}
