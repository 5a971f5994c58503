import Dispatch
import Foundation
import Glibc
import Synchronization

/// A small HTTP/1.1 server on Glibc sockets: probes, metrics, and later the ingest and feedback APIs.
///
/// Threading rule: one accept thread blocks in `poll` on the listening socket; each accepted connection
/// gets its own thread (at most ``HTTPServerConfiguration/maxConnections``), which reads, parses and writes
/// with blocking calls bounded by deadlines. Route handlers are `async`: the connection thread starts a
/// `Task` for each request and waits on a semaphore for its response, which blocks only that dedicated
/// thread, never the cooperative pool; requests on one connection are handled one after another, so
/// pipelined responses come back in order.
///
/// Built-in routes: `GET /livez` and its alias `GET /healthz` (the process is alive; never touches the
/// database), `GET /readyz` (the injected readiness check: 200 with no problems, else 503 listing them),
/// `GET /metrics` (the registry in Prometheus text format 0.0.4). `HEAD` is served by the `GET` route.
///
/// Bad clients cost a bounded amount: see ``HTTPRequestParser`` for the request limits and
/// ``HTTPServerConfiguration`` for the timeouts. SIGPIPE is ignored process-wide at ``start()`` and every
/// write uses `MSG_NOSIGNAL`, so a peer that resets or half-closes never kills the process.
public final class HTTPServer: Sendable {
    public typealias Handler = @Sendable (HTTPRequest) async throws -> HTTPResponse
    /// Returns the problems that make the service not ready (empty when ready). Problems are shown on
    /// `/readyz`, so they must not contain personal data or secrets.
    public typealias ReadinessCheck = @Sendable () async -> [String]

    struct Route: Sendable {
        /// The registered pattern, used as the `route` metric label (bounded cardinality).
        let pattern: String
        let handler: Handler
    }

    struct State: Sendable {
        var listenFD: Int32 = -1
        var wakeFDs: (read: Int32, write: Int32) = (-1, -1)
        var boundPort: Int?
        var connections: Set<Int32> = []
        /// Accept time of each connection whose first request head is not complete yet (shed first at capacity).
        var headless: [Int32: ContinuousClock.Instant] = [:]
        var isStopping = false
        var isStarted = false
    }

    public let configuration: HTTPServerConfiguration
    let logger: Logger
    let metrics: HTTPServerMetrics?
    let readiness: ReadinessCheck?
    let registry: MetricsRegistry?
    let routes = Mutex<[String: [String: Route]]>([:])  // path -> method -> route
    let prefixRoutes = Mutex<[(prefix: String, method: String, route: Route)]>([])
    let state = Mutex(State())
    private let acceptDone = DispatchSemaphore(value: 0)

    public init(
        configuration: HTTPServerConfiguration, logger: Logger, metrics: MetricsRegistry? = nil,
        readiness: ReadinessCheck? = nil
    ) {
        self.configuration = configuration
        self.logger = logger.with("component", "http")
        self.registry = metrics
        self.readiness = readiness
        self.metrics = metrics.map { HTTPServerMetrics(registry: $0) }
        installBuiltInRoutes()
        if let metrics {
            metrics.gaugeCallback(
                "tierguard_http_open_connections", help: "HTTP connections currently open."
            ) { [weak self] in
                [MetricSample(value: Double(self?.openConnectionCount ?? 0))]
            }
        }
    }

    private func installBuiltInRoutes() {
        let alive: Handler = { _ in .text("ok\n") }
        route("GET", "/livez", alive)
        route("GET", "/healthz", alive)
        route("GET", "/readyz") { [readiness] _ in
            let problems = await readiness?() ?? []
            struct Body: Encodable {
                let status: String
                let problems: [String]
            }
            return try .json(
                Body(status: problems.isEmpty ? "ready" : "not ready", problems: problems),
                status: problems.isEmpty ? 200 : 503)
        }
        route("GET", "/metrics") { [registry] _ in
            let text = await registry?.render() ?? ""
            return .text(text, contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
    }

    /// Registers `handler` for `method` and `path`, replacing an earlier one. A path ending in `/*` matches
    /// every path under that prefix (the longest prefix wins); exact paths win over prefixes.
    public func route(_ method: String, _ path: String, _ handler: @escaping Handler) {
        let entry = Route(pattern: path, handler: handler)
        if path.hasSuffix("/*") {
            let prefix = String(path.dropLast())
            prefixRoutes.withLock { all in
                all.removeAll { $0.prefix == prefix && $0.method == method }
                all.append((prefix, method, entry))
                all.sort { $0.prefix.count > $1.prefix.count }
            }
        } else {
            routes.withLock { $0[path, default: [:]][method] = entry }
        }
    }

    /// The port actually bound (useful with port 0), `nil` before ``start()``.
    public var boundPort: Int? { state.withLock { $0.boundPort } }

    /// Connections open right now.
    public var openConnectionCount: Int { state.withLock { $0.connections.count } }

    /// Binds, listens and starts the accept thread; returns the bound port.
    @discardableResult
    public func start() throws(HTTPServerError) -> Int {
        let address = "\(configuration.host):\(configuration.port)"
        let alreadyStarted = state.withLock { state in
            defer { state.isStarted = true }
            return state.isStarted
        }
        if alreadyStarted { throw HTTPServerError(code: .alreadyStarted, address: address, reason: "start called twice") }
        signal(SIGPIPE, SIG_IGN)

        let listenFD = try Self.bindListener(configuration)
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else {
            let code = errno
            close(listenFD)
            throw HTTPServerError(code: .socket, address: address, reason: Socket.errorText(code))
        }
        for fd in pipeFDs { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let (wakeRead, wakeWrite) = (pipeFDs[0], pipeFDs[1])
        let port = Socket.boundPort(listenFD) ?? configuration.port
        state.withLock { state in
            state.listenFD = listenFD
            state.wakeFDs = (wakeRead, wakeWrite)
            state.boundPort = port
        }
        let thread = Thread { [self] in
            acceptLoop(listenFD: listenFD, wakeFD: wakeRead)
            acceptDone.signal()
        }
        thread.name = "http-accept"
        thread.start()
        logger.info("http listener started", metadata: ["http.host": configuration.host, "http.port": String(port)])
        return port
    }

    static func bindListener(_ configuration: HTTPServerConfiguration) throws(HTTPServerError) -> Int32 {
        let address = "\(configuration.host):\(configuration.port)"
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(configuration.host, String(configuration.port), &hints, &results)
        guard status == 0, let first = results else {
            throw HTTPServerError(code: .resolve, address: address, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(first) }
        var lastError: HTTPServerError?
        var current: UnsafeMutablePointer<addrinfo>? = first
        while let info = current {
            current = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 {
                lastError = HTTPServerError(code: .socket, address: address, reason: Socket.errorText(errno))
                continue
            }
            Socket.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            if info.pointee.ai_family == AF_INET6 { Socket.setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 0) }
            guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
                lastError = HTTPServerError(code: .bind, address: address, reason: Socket.errorText(errno))
                close(fd)
                continue
            }
            guard listen(fd, configuration.backlog) == 0 else {
                lastError = HTTPServerError(code: .listen, address: address, reason: Socket.errorText(errno))
                close(fd)
                continue
            }
            Socket.setNonBlocking(fd)
            return fd
        }
        throw lastError ?? HTTPServerError(code: .resolve, address: address, reason: "no address")
    }

    /// Stops accepting, lets in-flight requests finish and idle connections close, for up to `grace`;
    /// connections still open after that are shut down. Safe to call more than once.
    public func stop(grace: Duration = .seconds(2)) {
        let (wakeFD, wasStopping, started) = state.withLock { state in
            defer { state.isStopping = true }
            return (state.wakeFDs.write, state.isStopping, state.isStarted)
        }
        guard started, !wasStopping else { return }
        var byte: UInt8 = 1
        _ = write(wakeFD, &byte, 1)
        acceptDone.wait()
        // Reading side closed: idle connections see end-of-stream, in-flight responses are still written.
        state.withLock { state in
            for fd in state.connections { shutdown(fd, Int32(SHUT_RD)) }
        }
        let deadline = ContinuousClock.now + grace
        while openConnectionCount > 0, ContinuousClock.now < deadline {
            usleep(10_000)
        }
        state.withLock { state in
            for fd in state.connections { shutdown(fd, Int32(SHUT_RDWR)) }
            close(state.wakeFDs.read)
            close(state.wakeFDs.write)
            state.wakeFDs = (-1, -1)
        }
        logger.info("http listener stopped")
    }

    // MARK: Accepting

    private func acceptLoop(listenFD: Int32, wakeFD: Int32) {
        // A spare descriptor, released to accept-and-close one connection when the process runs out.
        var spareFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer {
            close(listenFD)
            if spareFD >= 0 { close(spareFD) }
        }
        while true {
            var descriptors = [
                pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&descriptors, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                logger.error("http accept poll failed", metadata: ["error": Socket.errorText(errno)])
                usleep(100_000)
                continue
            }
            if descriptors[1].revents != 0 || state.withLock({ $0.isStopping }) { return }
            guard descriptors[0].revents != 0 else { continue }
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept(listenFD, $0, &length)
                }
            }
            if fd < 0 {
                let code = errno
                switch code {
                case EINTR, EAGAIN, ECONNABORTED, EPROTO:
                    continue
                case EMFILE, ENFILE:
                    // Out of descriptors: free the spare, accept and close one connection so the backlog
                    // does not spin poll, then take the spare back.
                    metrics?.rejected.increment(labels: ["reason": "fd_exhausted"])
                    if spareFD >= 0 {
                        close(spareFD)
                        let victim = accept(listenFD, nil, nil)
                        if victim >= 0 { close(victim) }
                        spareFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
                    } else {
                        usleep(50_000)
                    }
                    continue
                default:
                    logger.warning("http accept failed", metadata: ["error": Socket.errorText(code)])
                    usleep(10_000)
                    continue
                }
            }
            // At capacity, the oldest connection still without a complete first head after 1 s is shut
            // down to admit this one (issue 10: slowloris beyond `maxConnections` must not turn /livez into
            // 503; a real client sends its head in milliseconds). At most 64 shed slots may be pending.
            let admitted = state.withLock { state in
                guard !state.isStopping else { return false }
                if state.connections.count >= configuration.maxConnections {
                    let oldest = state.headless.min { $0.value < $1.value }
                    guard state.connections.count < configuration.maxConnections + 64, let oldest,
                          ContinuousClock.now - oldest.value > .seconds(1) else { return false }
                    shutdown(oldest.key, Int32(SHUT_RDWR))
                    state.headless[oldest.key] = nil
                    metrics?.rejected.increment(labels: ["reason": "shed_slow_head"])
                }
                state.connections.insert(fd)
                state.headless[fd] = .now
                return true
            }
            guard admitted else {
                metrics?.rejected.increment(labels: ["reason": "capacity"])
                let busy = HTTPResponse.text("server busy\n", status: 503).serialized(keepAlive: false)
                _ = busy.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                close(fd)
                continue
            }
            // Executables started by a service (tests run the binaries) must not inherit the socket.
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            // accept(2) on Linux does not inherit O_NONBLOCK: the connection socket is blocking, bounded
            // by poll deadlines for reads and SO_SNDTIMEO for writes.
            Socket.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            Socket.setSendTimeout(fd, configuration.writeTimeout)
            let remote = Socket.describe(&storage)
            let thread = Thread { [self] in
                serveConnection(fd: fd, remote: remote)
            }
            thread.name = "http-connection"
            thread.stackSize = 512 * 1024
            thread.start()
        }
    }

    /// Removes `fd` from the open set and closes it; the only place a connection's descriptor is closed,
    /// after which ``stop(grace:)`` can no longer touch it.
    func release(_ fd: Int32) {
        state.withLock { state in
            state.connections.remove(fd)
            state.headless[fd] = nil
            close(fd)
        }
    }

    var isStopping: Bool { state.withLock { $0.isStopping } }
}

/// The listener's own metrics; names follow `tierguard_*` conventions with bounded labels.
struct HTTPServerMetrics: Sendable {
    let requests: Counter
    let duration: Histogram
    let rejected: Counter
    let timeouts: Counter

    init(registry: MetricsRegistry) {
        requests = registry.counter(
            "tierguard_http_requests_total", help: "HTTP requests answered, by method, route and status code.",
            labelNames: ["code", "method", "route"])
        duration = registry.histogram(
            "tierguard_http_request_duration_seconds", help: "Time to produce a response, by route.",
            labelNames: ["route"])
        rejected = registry.counter(
            "tierguard_http_connections_rejected_total",
            help: "Connections refused at accept (capacity, fd_exhausted) or shed to make room (shed_slow_head).",
            labelNames: ["reason"])
        timeouts = registry.counter(
            "tierguard_http_read_timeouts_total", help: "Connections closed with 408 because a request was too slow.",
            labelNames: ["stage"])
    }

    /// Known methods keep their name, anything else is `other`: a client cannot mint label values.
    static func methodLabel(_ method: String) -> String {
        switch method {
        case "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS": method
        default: "other"
        }
    }
}
