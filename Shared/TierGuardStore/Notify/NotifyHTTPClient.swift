import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// A blocking front to FoundationNetworking's `URLSession` for the channel adapters, which run on
/// threads they own (never the cooperative pool). One `URLSession` per client keeps connections
/// alive between requests to the same host (HTTP/1.1 keep-alive), which is what lets one notifier
/// do 1,000+ webhook deliveries a second.
public final class NotifyHTTPClient: Sendable {
    /// The answer, or the transport error (timeout, connection refused, reset).
    public enum Reply: Sendable {
        case response(status: Int, body: [UInt8])
        case transportError(String)
    }

    private let session: URLSession
    public let timeoutSeconds: Double

    /// `timeoutSeconds` bounds each request (connect and wait for the answer); default 10 s.
    public init(timeoutSeconds: Double = 10, maxConnectionsPerHost: Int = 8) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeoutSeconds
        configuration.timeoutIntervalForResource = timeoutSeconds
        configuration.httpMaximumConnectionsPerHost = maxConnectionsPerHost
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        self.session = URLSession(configuration: configuration)
        self.timeoutSeconds = timeoutSeconds
    }

    deinit { session.finishTasksAndInvalidate() }

    /// Sends and waits (on this thread) for the reply.
    public func send(method: String, url: String, headers: [(String, String)], body: [UInt8]?) -> Reply {
        guard let parsed = URL(string: url) else { return .transportError("invalid URL") }
        var request = URLRequest(url: parsed, timeoutInterval: timeoutSeconds)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body { request.httpBody = Data(body) }
        let box = ReplyBox()
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: request) { data, response, error in
            if let error {
                box.value.withLock { $0 = .transportError(Self.describe(error)) }
            } else if let http = response as? HTTPURLResponse {
                box.value.withLock { $0 = .response(status: http.statusCode, body: data.map { [UInt8]($0) } ?? []) }
            } else {
                box.value.withLock { $0 = .transportError("no HTTP response") }
            }
            done.signal()
        }
        task.resume()
        if done.wait(timeout: .now() + timeoutSeconds + 5) == .timedOut {
            task.cancel()
            return .transportError("timed out after \(timeoutSeconds) s")
        }
        return box.value.withLock { $0 } ?? .transportError("no reply")
    }

    private static func describe(_ error: any Error) -> String {
        if let urlError = error as? URLError {
            switch urlError.code {
            case .timedOut: return "timed out"
            case .cannotConnectToHost: return "connection refused"
            case .networkConnectionLost: return "connection lost"
            default: return "transport error \(urlError.code.rawValue)"
            }
        }
        return "transport error"
    }

    private final class ReplyBox: Sendable {
        let value = Mutex<Reply?>(nil)
    }
}
