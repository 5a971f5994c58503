import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs one of the package's executables (built beside the test bundle) as a real process.
public final class ServiceProcess: @unchecked Sendable {
    // @unchecked: `process` is only started and waited on by the test that owns this value.
    public let process = Process()
    public let outputURL: URL
    public let errorURL: URL

    /// The directory holding the built executables: the one the test bundle runs from.
    public static var binaryDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    public static func binary(_ name: String) -> URL {
        binaryDirectory.appendingPathComponent(name)
    }

    public init(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = Self.binary(name)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("tg-proc-\(UUID().uuidString)")
        outputURL = base.appendingPathExtension("out")
        errorURL = base.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        process.standardError = try FileHandle(forWritingTo: errorURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public func signal(_ signo: Int32) { kill(process.processIdentifier, signo) }

    /// Waits for the exit with a deadline (polling, so an async caller can use it from a Task);
    /// kills the process and throws when it does not exit in time.
    public func waitForExit(timeout: Double) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                kill(process.processIdentifier, SIGKILL)
                throw ClusterError(message: "\(process.executableURL?.lastPathComponent ?? "process") did not exit within \(timeout) s")
            }
            usleep(20_000)
        }
        return process.terminationStatus
    }

    /// `waitForExit` for async callers: polls with `Task.sleep`, so a test never blocks a thread of the
    /// cooperative pool (two here) that the code under test may need; SIGKILLs and throws at the deadline.
    public func exitStatus(timeout: Double) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                kill(process.processIdentifier, SIGKILL)
                throw ClusterError(message: "\(process.executableURL?.lastPathComponent ?? "process") did not exit within \(timeout) s")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
    }

    public var standardOutput: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }
    public var standardError: String { (try? String(contentsOf: errorURL, encoding: .utf8)) ?? "" }

    /// Runs to completion and returns (exit status, stdout, stderr).
    public static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:],
                           timeout: Double = 60) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = try ServiceProcess(name, arguments, environment: environment)
        let status = try process.waitForExit(timeout: timeout)
        return (status, process.standardOutput, process.standardError)
    }
}
