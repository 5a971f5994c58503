import Foundation
import Postgres
#if canImport(Glibc)
import Glibc
#endif

/// One scenario's throwaway PostgreSQL cluster, run by `deploy/local/pg.sh` (as the `postgres` user
/// when the driver is root) in a folder of its own, destroyed at the end of the scenario.
///
/// Settings: pg.sh's defaults plus `fsync = off`. Why that is sound here: the suite kills processes
/// (workers, backends, the postmaster with `-m immediate`), never the operating system, and with
/// `synchronous_commit = on` every acknowledged commit has been written to the kernel, which keeps it
/// across any process crash. Only an OS crash would need fsync, and that is not a fault we inject.
struct ChaosCluster: Sendable {
    let dir: String
    let url: String
    let pgsh: String

    static func start(dir: String, port: Int) throws -> ChaosCluster {
        let pgsh = try locatePgSh()
        let url = try Shell.run([pgsh, "start", dir, String(port)]).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let last = url.split(separator: "\n").last, last.hasPrefix("postgres://") else {
            throw ChaosError(description: "pg.sh start printed no URL: \(url)")
        }
        let cluster = ChaosCluster(dir: dir, url: String(last), pgsh: pgsh)
        let session = try cluster.session()
        defer { session.close() }
        try session.execute(PostgresQuery("ALTER SYSTEM SET fsync = off"))
        _ = try session.query(PostgresQuery("SELECT pg_reload_conf()"))
        return cluster
    }

    func session(_ name: String = "tierguard-chaos") throws -> PostgresSession {
        try PostgresSession(configuration: PostgresConfiguration(url, applicationName: name, reconnectDeadlineSeconds: 120))
    }

    /// `pg_ctl restart -m MODE` through pg.sh (stop, then start again).
    func restart(mode: String) throws { _ = try Shell.run([pgsh, "restart", dir, mode]) }

    /// Starts the server again if it is not running (e.g. after it gave up on a full disk).
    func ensureRunning() throws {
        _ = try Shell.run([pgsh, "start", dir])
    }

    func destroy() { _ = try? Shell.run([pgsh, "destroy", dir]) }

    /// The postmaster's process id (first line of `postmaster.pid`).
    func postmasterPID() throws -> pid_t {
        let text = try String(contentsOfFile: dir + "/pgdata/postmaster.pid", encoding: .utf8)
        guard let first = text.split(separator: "\n").first, let pid = pid_t(first) else {
            throw ChaosError(description: "no postmaster.pid in \(dir)")
        }
        return pid
    }

    /// The postmaster and every process whose parent it is (backends, checkpointer, walwriter…).
    func serverProcesses() throws -> [pid_t] {
        let postmaster = try postmasterPID()
        var pids = [postmaster]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, pid_t(fields[1]) == postmaster { pids.append(pid) }
        }
        return pids
    }

    /// deploy/local/pg.sh: `$TIERGUARD_PG_SH`, else found walking up from the working directory or
    /// the executable's folder.
    static func locatePgSh() throws -> String {
        if let path = ProcessInfo.processInfo.environment["TIERGUARD_PG_SH"], !path.isEmpty { return path }
        let starts = [FileManager.default.currentDirectoryPath,
                      URL(fileURLWithPath: Bundle.main.executablePath ?? CommandLine.arguments[0]).deletingLastPathComponent().path]
        for start in starts {
            var url = URL(fileURLWithPath: start)
            while url.path != "/" {
                let candidate = url.appendingPathComponent("deploy/local/pg.sh").path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
                url.deleteLastPathComponent()
            }
        }
        throw ChaosError(description: "deploy/local/pg.sh not found; run from the repository or set TIERGUARD_PG_SH")
    }
}

struct ChaosError: Error, CustomStringConvertible { var description: String }

enum Shell {
    /// Runs a command, returns its standard output; a non-zero exit is an error carrying both outputs.
    @discardableResult
    static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: output, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw ChaosError(description: "\(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(text) \(String(decoding: errors, as: UTF8.self))")
        }
        return text
    }
}
