import Foundation
import Postgres
#if canImport(Glibc)
import Glibc
#endif

/// Plain SMTP to the bank's relay over a TCP socket (RFC 5321): EHLO, AUTH PLAIN when a user is
/// configured, MAIL FROM / RCPT TO / DATA with dot-stuffing, QUIT. The subject is UTF-8 encoded per
/// RFC 2047 (`=?UTF-8?B?…?=`), the body is UTF-8 base64. TLS is the relay's job (it listens on the
/// bank's network only). A 4xx reply or a connection failure retries; a 5xx fails.
public struct SMTPChannel: NotificationChannel {
    public let kind = ChannelKind.email
    public let host: String
    public let port: Int
    public let from: String
    public let username: String?
    public let password: String?
    public let timeoutSeconds: Int

    public init(host: String, port: Int, from: String, username: String? = nil, password: String? = nil,
                timeoutSeconds: Int = 10) {
        self.host = host
        self.port = port
        self.from = from
        self.username = username
        self.password = password
        self.timeoutSeconds = timeoutSeconds
    }

    /// `=?UTF-8?B?…?=` words of at most 45 bytes each (75 characters encoded), split on characters.
    public static func encodeHeader(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) { return text }
        return NotifyText.split(text, maxBytes: 45)
            .map { "=?UTF-8?B?" + Data($0.utf8).base64EncodedString() + "?=" }
            .joined(separator: "\r\n ")
    }

    /// Lines starting with "." get one more (RFC 5321 §4.5.2); line ends become CRLF.
    public static func dotStuff(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") ? "." + $0 : String($0) }
            .joined(separator: "\r\n")
    }

    /// The whole message (headers + body) before dot-stuffing.
    public func message(_ message: OutgoingMessage, date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let body = Data(message.text.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return [
            "From: \(from)", "To: \(message.target)", "Subject: \(Self.encodeHeader(message.title))",
            "Date: \(formatter.string(from: date))", "Message-ID: <tierguard-\(message.notificationId)@tierguard>",
            "MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: base64",
            "", body,
        ].joined(separator: "\r\n")
    }

    public func send(_ message: OutgoingMessage, session: PostgresSession) -> [DeliveryAttempt] {
        let started = monotonicSeconds()
        func attempt(_ outcome: DeliveryOutcome, _ code: Int?, _ text: String) -> [DeliveryAttempt] {
            [DeliveryAttempt(outcome: outcome, httpStatus: code, excerpt: text,
                             durationMs: Int((monotonicSeconds() - started) * 1000))]
        }
        let connection: SMTPConnection
        do { connection = try SMTPConnection(host: host, port: port, timeoutSeconds: timeoutSeconds) } catch {
            return attempt(.retry, nil, "\(error)")
        }
        defer { connection.close() }
        do {
            try connection.expect(220)
            try connection.command("EHLO tierguard-notifier", expect: 250)
            if let username, let password {
                let token = Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
                try connection.command("AUTH PLAIN \(token)", expect: 235)
            }
            try connection.command("MAIL FROM:<\(from)>", expect: 250)
            try connection.command("RCPT TO:<\(message.target)>", expect: 250)
            try connection.command("DATA", expect: 354)
            let reply = try connection.command(Self.dotStuff(self.message(message)) + "\r\n.", expect: 250)
            _ = try? connection.command("QUIT", expect: 221)
            return attempt(.delivered, 250, reply)
        } catch let error as SMTPReplyError {
            return attempt(error.code >= 500 ? .failed : .retry, error.code, error.description)
        } catch {
            return attempt(.retry, nil, "\(error)")
        }
    }
}

struct SMTPReplyError: Error, CustomStringConvertible {
    var code: Int
    var line: String
    var description: String { "SMTP \(code): \(line)" }
}

struct SMTPTransportError: Error, CustomStringConvertible {
    var description: String
}

/// One blocking SMTP connection, owned by the calling thread.
final class SMTPConnection {
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(host: String, port: Int, timeoutSeconds: Int) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else {
            throw SMTPTransportError(description: "cannot resolve the SMTP relay")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { throw SMTPTransportError(description: "socket failed") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            Glibc.close(fd)
            throw SMTPTransportError(description: "connection refused by the SMTP relay")
        }
        self.fd = fd
    }

    func close() { Glibc.close(fd) }

    /// Reads one reply (multi-line `250-…` continues until `250 …`); returns its code and last line.
    func readReply() throws -> (Int, String) {
        while true {
            guard let newline = buffer.firstIndex(of: 10) else {
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 4096, 0) }
                guard n > 0 else { throw SMTPTransportError(description: n == 0 ? "SMTP relay closed" : "SMTP read timed out") }
                buffer += chunk[0..<n]
                continue
            }
            let line = String(decoding: buffer[..<newline], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            buffer.removeSubrange(...newline)
            let code = Int(line.prefix(3)) ?? 0
            if line.count < 4 || line[line.index(line.startIndex, offsetBy: 3)] != "-" { return (code, line) }
        }
    }

    @discardableResult
    func expect(_ code: Int) throws -> String {
        let (got, line) = try readReply()
        guard got == code else { throw SMTPReplyError(code: got, line: line) }
        return line
    }

    @discardableResult
    func command(_ text: String, expect code: Int) throws -> String {
        let bytes = Array((text + "\r\n").utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw SMTPTransportError(description: "SMTP write failed") }
            sent += n
        }
        return try expect(code)
    }
}
