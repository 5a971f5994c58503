/// Settings of ``HTTPServer``; the defaults suit a service's probe and metrics listener.
public struct HTTPServerConfiguration: Sendable {
    /// Address to bind: `127.0.0.1` by default, `0.0.0.0` or `::` in containers.
    public var host: String = "127.0.0.1"
    /// Port to bind; 0 lets the kernel pick one, read it back from ``HTTPServer/boundPort``.
    public var port: Int = 8080
    /// Open connections at most: 256. At capacity the oldest connection that has not completed its first
    /// request head within 1 s is shut down to admit the new one (slowloris cannot starve `/livez`);
    /// with none such, the new connection is answered 503 and closed at once, costing no thread.
    public var maxConnections: Int = 256
    /// Request size limits (8 KiB request line, 16 KiB / 100 headers, 1 MiB body).
    public var limits: HTTPParserLimits = HTTPParserLimits()
    /// Time allowed from a request's first byte (or a new connection's accept) to its complete head:
    /// 10 s. A client that trickles headers (slowloris) gets 408 and is closed.
    public var headerTimeout: Duration = .seconds(10)
    /// Time allowed from a complete head to a complete body: 30 s, else 408 and close.
    public var bodyTimeout: Duration = .seconds(30)
    /// How long a kept-alive connection may sit idle between requests: 30 s, then it is closed quietly.
    public var idleTimeout: Duration = .seconds(30)
    /// A response write that makes no progress for this long (the peer stopped reading) ends the
    /// connection: 10 s.
    public var writeTimeout: Duration = .seconds(10)
    /// After an error response the server stops writing and discards input for up to this long before
    /// closing, so the client can read the response instead of a reset: 1 s.
    public var lingerTimeout: Duration = .seconds(1)
    /// `listen` backlog.
    public var backlog: Int32 = 128

    public init(host: String = "127.0.0.1", port: Int = 8080) {
        self.host = host
        self.port = port
    }
}

/// Failure to start ``HTTPServer``.
public struct HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case resolve, socket, bind, listen, alreadyStarted
    }

    public let code: Code
    public let address: String
    /// `errno` text or resolver message.
    public let reason: String

    public var description: String { "http listener \(code.rawValue) on \(address) failed: \(reason)" }
}

/// An error a route handler throws to answer with a chosen status and a short plain-text message.
///
/// Any other error becomes a 500 whose body says nothing about the cause (its `description` is logged).
public struct HTTPError: Error, Sendable, Equatable {
    public let status: Int
    public let message: String
    public var headers: HTTPHeaders

    public init(_ status: Int, _ message: String, headers: HTTPHeaders = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    public var response: HTTPResponse {
        var response = HTTPResponse.text(message + "\n", status: status)
        for (name, value) in headers { response.headers.set(name, value) }
        return response
    }
}
