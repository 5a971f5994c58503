import Foundation
import Glibc
import ServiceKit
import Synchronization

/// A real HTTP receiver on 127.0.0.1 (ServiceKit's `HTTPServer`) that records every request and
/// answers as told: 200, any status, a WeCom errcode, slowly, or a WeCom access token. Deduping:
/// `uniqueWebhookIds` counts distinct `webhook-id`s, as a Standard Webhooks consumer would.
final class RecordingReceiver: Sendable {
    enum Behaviour: Sendable {
        case ok
        case status(Int)
        case wecom(errcode: Int)
        case slow(seconds: Double)
        case smsOK
    }

    struct State: Sendable {
        var behaviour: Behaviour = .ok
        var requests: [HTTPRequest] = []
        var tokenRequests = 0
    }

    final class Box: Sendable { let mutex = Mutex(State()) }

    let server: HTTPServer
    let box = Box()
    let port: Int

    init(_ behaviour: Behaviour = .ok) throws {
        server = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0),
                            logger: Logger(service: "receiver", threshold: .critical, sink: .memory()))
        port = try server.start()
        let state = box
        state.mutex.withLock { $0.behaviour = behaviour }
        server.route("GET", "/cgi-bin/gettoken") { _ in
            let n = state.mutex.withLock { $0.tokenRequests += 1; return $0.tokenRequests }
            return .text("{\"errcode\":0,\"access_token\":\"TOKEN\(n)\",\"expires_in\":7200}", contentType: "application/json")
        }
        let handler: HTTPServer.Handler = { request in
            let behaviour = state.mutex.withLock { s -> Behaviour in s.requests.append(request); return s.behaviour }
            switch behaviour {
            case .ok: return .text("{\"ok\":true}", contentType: "application/json")
            case .status(let code): return .text("{\"error\":\"status \(code)\"}", status: code, contentType: "application/json")
            case .wecom(let errcode):
                return .text("{\"errcode\":\(errcode),\"errmsg\":\"\(errcode == 0 ? "ok" : "refused")\"}", contentType: "application/json")
            case .slow(let seconds):
                try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                return .text("{\"ok\":true}", contentType: "application/json")
            case .smsOK: return .text("{\"code\":\"OK\",\"message\":\"OK\"}", contentType: "application/json")
            }
        }
        server.route("POST", "/*", handler)
    }

    deinit { server.stop(grace: .milliseconds(100)) }

    var url: String { "http://127.0.0.1:\(port)/hook" }
    var requests: [HTTPRequest] { box.mutex.withLock { $0.requests } }
    var tokenRequests: Int { box.mutex.withLock { $0.tokenRequests } }
    func set(_ behaviour: Behaviour) { box.mutex.withLock { $0.behaviour = behaviour } }
    var uniqueWebhookIds: Set<String> { Set(requests.compactMap { $0.headers["webhook-id"] }) }
}

/// A socket that listens but never accepts nor answers: the kernel completes the handshake, the
/// request waits forever ("no answer").
final class SilentListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(fd, 16)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            getsockname(fd, $0, &length) } }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: bound.sin_port))
    }

    deinit { close(fd) }
    var url: String { "http://127.0.0.1:\(port)/hook" }
}

/// Runs a program and returns its standard output (trimmed) and exit status.
func runProcess(_ path: String, _ arguments: [String], stdin: Data? = nil) throws -> (String, Int32) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    let input = Pipe()
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), process.terminationStatus)
}

/// The Standard Webhooks signature computed by Python's `hmac`/`hashlib`, independent of our OpenSSL
/// wrapper: base64(HMAC-SHA256(base64-decoded secret, "id.timestamp.body")).
func pythonSignature(secret: String, id: String, timestamp: String, body: [UInt8]) throws -> String {
    let script = """
    import sys, hmac, hashlib, base64
    key = base64.b64decode(sys.argv[1][len('whsec_'):])
    msg = sys.argv[2].encode() + b'.' + sys.argv[3].encode() + b'.' + sys.stdin.buffer.read()
    print('v1,' + base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode())
    """
    return try runProcess("/usr/bin/python3", ["-c", script, secret, id, timestamp], stdin: Data(body)).0
}
