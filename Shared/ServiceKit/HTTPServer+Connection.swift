import Dispatch
import Glibc
import Synchronization

extension HTTPServer {
    /// Serves one connection on its own thread until the peer leaves, a limit or timeout is hit, a
    /// response says `Connection: close`, or the server stops.
    ///
    /// Deadlines: a new connection and each request head get ``HTTPServerConfiguration/headerTimeout``
    /// from the moment the head's first byte arrived (or the connection was accepted); a body gets
    /// ``HTTPServerConfiguration/bodyTimeout`` from the end of its head; between requests a kept-alive
    /// connection may idle for ``HTTPServerConfiguration/idleTimeout``. A missed head or body deadline is
    /// answered 408 and closed; a missed idle deadline closes quietly.
    func serveConnection(fd: Int32, remote: String) {
        defer { release(fd) }
        var parser = HTTPRequestParser(limits: configuration.limits)
        var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)
        var stage = HTTPRequestParser.Stage.idle
        var stageStarted = ContinuousClock.now
        var servedRequests = 0

        while true {
            // Answer every request already buffered (pipelining), in order.
            draining: while true {
                let progress: HTTPRequestParser.Progress
                do {
                    progress = try parser.next()
                } catch {
                    logger.debug(
                        "http request refused", metadata: ["http.status": String(error.status), "error": error.description])
                    metrics?.requests.increment(labels: ["code": String(error.status), "method": "other", "route": "invalid"])
                    let response = HTTPResponse.text(error.detail + "\n", status: error.status)
                    if Socket.writeAll(fd, response.serialized(keepAlive: false, date: HTTPResponse.httpDate())) {
                        lingerAndClose(fd)
                    }
                    return
                }
                switch progress {
                case .needMoreData:
                    break draining
                case .expectsContinue:
                    guard Socket.writeAll(fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) else { return }
                case .request(var request):
                    if servedRequests == 0 { state.withLock { $0.headless[fd] = nil } }
                    request.remoteAddress = remote
                    let (response, route) = respond(to: request)
                    servedRequests += 1
                    let keepAlive = request.isKeepAlive && !isStopping && !response.headers.hasToken("close", in: "Connection")
                    metrics?.requests.increment(labels: [
                        "code": String(response.status), "method": HTTPServerMetrics.methodLabel(request.method),
                        "route": route,
                    ])
                    let bytes = response.serialized(
                        keepAlive: keepAlive, omitBody: request.method == "HEAD", date: HTTPResponse.httpDate())
                    guard Socket.writeAll(fd, bytes) else { return }
                    if !keepAlive {
                        lingerAndClose(fd)
                        return
                    }
                    // The next request's clock starts now (or with its first byte), not with this one's.
                    stage = .idle
                    stageStarted = ContinuousClock.now
                }
            }

            let current = parser.stage
            if current != stage {
                stage = current
                stageStarted = ContinuousClock.now
            }
            let allowance: Duration
            switch stage {
            case .idle: allowance = servedRequests == 0 ? configuration.headerTimeout : configuration.idleTimeout
            case .head: allowance = configuration.headerTimeout
            case .body: allowance = configuration.bodyTimeout
            }
            switch Socket.read(fd, into: &readBuffer, deadline: stageStarted + allowance) {
            case .bytes(let count):
                if stage == .idle {
                    // The head's clock starts with its first byte.
                    stage = .head
                    stageStarted = ContinuousClock.now
                }
                parser.append(readBuffer[0..<count])
            case .endOfStream, .failed:
                // Half-closed or reset: every complete request was answered above; nothing is owed.
                return
            case .timedOut:
                guard stage != .idle else { return }
                let label = stage == .head ? "head" : "body"
                metrics?.timeouts.increment(labels: ["stage": label])
                metrics?.requests.increment(labels: ["code": "408", "method": "other", "route": "invalid"])
                logger.debug("http request timed out", metadata: ["http.stage": label])
                let response = HTTPResponse.text("request timed out\n", status: 408)
                if Socket.writeAll(fd, response.serialized(keepAlive: false, date: HTTPResponse.httpDate())) {
                    lingerAndClose(fd)
                }
                return
            }
        }
    }

    /// After the last response: stop writing, discard what the peer still sends for up to
    /// ``HTTPServerConfiguration/lingerTimeout`` (or until it closes), so that closing does not reset the
    /// connection before the peer has read the response.
    private func lingerAndClose(_ fd: Int32) {
        shutdown(fd, Int32(SHUT_WR))
        var scratch = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + configuration.lingerTimeout
        var discarded = 0
        while discarded < 1 << 20 {
            guard case .bytes(let count) = Socket.read(fd, into: &scratch, deadline: deadline) else { return }
            discarded += count
        }
    }

    /// Finds the route and runs its handler on a `Task`, blocking this (dedicated) thread until done.
    func respond(to request: HTTPRequest) -> (HTTPResponse, route: String) {
        let method = request.method
        let path = request.path
        let (found, allowed) = lookup(method: method, path: path)
        guard let found else {
            if allowed.isEmpty { return (.text("not found\n", status: 404), "unmatched") }
            var response = HTTPResponse.text("method not allowed\n", status: 405)
            response.headers.set("Allow", allowed.sorted().joined(separator: ", "))
            return (response, "unmatched")
        }
        let box = ResponseBox()
        let done = DispatchSemaphore(value: 0)
        let clock = ContinuousClock()
        let started = clock.now
        let logger = self.logger
        Task {
            let response: HTTPResponse
            do {
                response = try await found.handler(request)
            } catch let error as HTTPError {
                response = error.response
            } catch {
                logger.error(
                    "http handler failed",
                    metadata: ["http.route": found.pattern, "error": String(describing: error)])
                response = .text("internal error\n", status: 500)
            }
            box.value.withLock { $0 = response }
            done.signal()
        }
        done.wait()
        metrics?.duration.observe(clock.now - started, labels: ["route": found.pattern])
        return (box.value.withLock { $0 } ?? .text("internal error\n", status: 500), found.pattern)
    }

    /// The route for `method` and `path`, or the methods that path does accept (for 405).
    func lookup(method: String, path: String) -> (Route?, allowed: [String]) {
        let exact = routes.withLock { $0[path] }
        if let exact {
            if let route = exact[method] { return (route, []) }
            if method == "HEAD", let route = exact["GET"] { return (route, []) }
            var allowed = Array(exact.keys)
            if exact["GET"] != nil, exact["HEAD"] == nil { allowed.append("HEAD") }
            return (nil, allowed)
        }
        let candidates = prefixRoutes.withLock { $0 }.filter { path.hasPrefix($0.prefix) }
        guard let longest = candidates.first?.prefix.count else { return (nil, []) }
        let best = candidates.filter { $0.prefix.count == longest }
        if let match = best.first(where: { $0.method == method }) { return (match.route, []) }
        if method == "HEAD", let match = best.first(where: { $0.method == "GET" }) { return (match.route, []) }
        return (nil, best.map(\.method))
    }
}

/// Carries a handler's response from its `Task` back to the connection thread.
private final class ResponseBox: Sendable {
    let value = Mutex<HTTPResponse?>(nil)
}
