import Foundation
import Postgres
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL cluster started with `deploy/local/pg.sh` for tests.
///
/// The shared cluster comes from `TIERGUARD_TEST_DATABASE_URL` when the test command started one
/// (README: `deploy/local/test.sh`), or is started here on first use and deleted at exit. Tests
/// that restart or stop the server get a private cluster of their own (`LocalCluster.startPrivate`).
public final class LocalCluster: Sendable {
    public let url: String
    public let directory: String?

    init(url: String, directory: String?) {
        self.url = url
        self.directory = directory
    }

    /// The repository's root, found from this file's path.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let script = repositoryRoot.appendingPathComponent("deploy/local/pg.sh").path

    /// The cluster every test in this process shares.
    public static let shared: LocalCluster = {
        if let url = ProcessInfo.processInfo.environment["TIERGUARD_TEST_DATABASE_URL"], !url.isEmpty {
            return LocalCluster(url: url, directory: nil)
        }
        do {
            let cluster = try startPrivate(fast: true)
            atexit { LocalCluster.destroyAtExit() }
            sharedDirectoryForExit.withLock { $0 = cluster.directory }
            return cluster
        } catch {
            fatalError("cannot start a throwaway PostgreSQL for the tests: \(error)")
        }
    }()

    private static let sharedDirectoryForExit = Mutex<String?>(nil)

    private static func destroyAtExit() {
        if let directory = sharedDirectoryForExit.withLock({ $0 }) {
            _ = try? run(["destroy", directory])
        }
    }

    /// Starts a cluster of its own in a fresh temporary folder on a free port.
    public static func startPrivate(fast: Bool = true) throws -> LocalCluster {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("tg-pg-\(UUID().uuidString.prefix(8))").path
        let output = try run(["start", directory, String(freePort())], environment: fast ? ["TIERGUARD_PG_FAST": "1"] : [:])
        guard let url = output.split(separator: "\n").last.map(String.init), url.hasPrefix("postgres://") else {
            throw ClusterError(message: "pg.sh start printed no DATABASE_URL: \(output)")
        }
        return LocalCluster(url: url, directory: directory)
    }

    /// Restarts the server (`fast` or `immediate`); open connections are cut.
    public func restart(mode: String = "fast") throws {
        guard let directory else { throw ClusterError(message: "cannot restart a cluster this process did not start") }
        _ = try Self.run(["restart", directory, mode])
    }

    public func stop() throws {
        guard let directory else { return }
        _ = try Self.run(["stop", directory])
    }

    public func destroy() {
        guard let directory else { return }
        _ = try? Self.run(["destroy", directory])
    }

    /// The same server, another database: `postgres://…/NAME?…`.
    public func url(database: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.path = "/" + database
        return components.string ?? url
    }

    @discardableResult
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script] + arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        // Files, not pipes: the server pg.sh starts would inherit a pipe's write end and we would
        // wait for an end of file that never comes.
        let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("pgsh-\(UUID().uuidString).out")
        let errURL = outURL.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outURL); try? FileManager.default.removeItem(at: errURL) }
        let outHandle = try FileHandle(forWritingTo: outURL), errHandle = try FileHandle(forWritingTo: errURL)
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try? outHandle.close()
        try? errHandle.close()
        let out = (try? Data(contentsOf: outURL)) ?? Data()
        let err = (try? Data(contentsOf: errURL)) ?? Data()
        guard process.terminationStatus == 0 else {
            throw ClusterError(message: "pg.sh \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): "
                               + String(decoding: err, as: UTF8.self))
        }
        return String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A loopback TCP port free at this moment, drawn from 20000–32767: below Linux's ephemeral range
    /// (32768–60999), so no outgoing connection — the tests open thousands to their databases — can be
    /// given it as its local port between this check and the server's bind. (`bind` to port 0 hands out
    /// ports from inside that range, and a listener then failed now and then with "Address already in use".)
    public static func freePort() -> Int {
        while true {
            let port = Int.random(in: 20_000...32_767)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            close(fd)
            if bound == 0 { return port }
        }
    }
}

public struct ClusterError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

import Synchronization
