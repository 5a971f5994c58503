import Foundation
import Glibc
import Testing

/// A TCP client on 127.0.0.1 that sends exact bytes, so tests can misbehave on purpose.
///
/// Reads poll without waiting and sleep with `Task.sleep` in between: a test must not block a thread of
/// the cooperative pool, which the server's async handlers need (the machine has two).
struct RawClient: ~Copyable {
    let fd: Int32
    private var pending: [UInt8] = []

    init(port: Int) throws {
        fd = try Self.connectLoopback(port: port)
    }

    /// A blocking TCP socket connected to 127.0.0.1:`port` (closed again when the connect fails).
    static func connectLoopback(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw ClientError("connect: errno \(code)")
        }
        return fd
    }

    deinit { close(fd) }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { throw ClientError("send: errno \(errno)") }
            offset += written
        }
    }

    /// Half-closes: no more bytes from this side, responses can still arrive.
    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads once, waiting up to `timeout`; `nil` at end of stream, empty on timeout.
    func readSome(timeout: Duration) async throws -> [UInt8]? {
        let deadline = ContinuousClock.now + timeout
        while true {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, 0) > 0 { break }
            guard ContinuousClock.now < deadline else { return [] }
            try await Task.sleep(for: .milliseconds(5))
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count == 0 { return nil }
        if count < 0 {
            if errno == ECONNRESET { return nil }
            throw ClientError("recv: errno \(errno)")
        }
        return Array(buffer[0..<count])
    }

    /// Everything until the server closes, or until `timeout` passes.
    mutating func readUntilClosed(timeout: Duration = .seconds(5)) async throws -> (text: String, closed: Bool) {
        let deadline = ContinuousClock.now + timeout
        var all = pending
        pending = []
        while ContinuousClock.now < deadline {
            guard let chunk = try await readSome(timeout: .milliseconds(100)) else {
                return (String(decoding: all, as: UTF8.self), true)
            }
            all += chunk
        }
        return (String(decoding: all, as: UTF8.self), false)
    }

    /// One response framed by its `Content-Length` (responses from ``HTTPServer`` always carry one).
    mutating func readResponse(timeout: Duration = .seconds(5)) async throws -> TestResponse {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let (response, used) = TestResponse.parse(pending) {
                pending.removeFirst(used)
                return response
            }
            guard ContinuousClock.now < deadline else { throw ClientError("no complete response in time") }
            guard let chunk = try await readSome(timeout: .milliseconds(100)) else {
                throw ClientError("closed before a complete response: \(String(decoding: pending, as: UTF8.self))")
            }
            pending += chunk
        }
    }
}

struct ClientError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

struct TestResponse {
    var status: Int
    var headers: [String: String]
    var body: String

    /// Parses one response from the front of `bytes`; `nil` when incomplete.
    static func parse(_ bytes: [UInt8]) -> (TestResponse, Int)? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard bytes.count >= 4,
            let headEnd = (0...(bytes.count - 4)).first(where: { Array(bytes[$0..<($0 + 4)]) == separator })
        else { return nil }
        let head = String(decoding: bytes[0..<headEnd], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let status = Int(statusLine.split(separator: " ")[1]) ?? -1
        var headers: [String: String] = [:]
        for line in lines {
            let parts = line.split(separator: ":", maxSplits: 1)
            headers[parts[0].lowercased()] = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let bodyStart = headEnd + 4
        guard bytes.count >= bodyStart + length else { return nil }
        let body = String(decoding: bytes[bodyStart..<(bodyStart + length)], as: UTF8.self)
        return (TestResponse(status: status, headers: headers, body: body), bodyStart + length)
    }
}

/// Waits for `condition` with a deadline, polling every 10 ms.
func waitUntil(timeout: Duration = .seconds(5), _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Runs blocking work on a new thread and awaits it, leaving the cooperative pool free.
func onThread(_ body: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        Thread {
            body()
            continuation.resume()
        }.start()
    }
}
