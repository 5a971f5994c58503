import Foundation
import Postgres
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The HTTP listener of a real `tierguard-scorer` process under attack (issue 10, "HTTP listener"):
/// slowloris and slow bodies from `slowhttptest` (Debian), and file-descriptor exhaustion under a low
/// `ulimit -n`, while `/livez` is polled and the job worker drains its queue.
///
/// The issue's "throughput within 10 % of the baseline" is asserted by `deploy/chaos/http.sh` (release
/// build, 10,000 jobs per drain, the median of 3 alternating pairs ≥ 0.9). These tests keep to ~30 s on
/// 2 shared cores in a debug build, with one 600-job drain of each kind (a second or two each), too short
/// for a wall-clock bound that parallel suites cannot break; they assert the listener's cost to the
/// worker instead: the scorer's own CPU per job under attack stays within 1.5× the baseline's (measured
/// 1.00–1.18× in 5 runs on 2026-12-07, load 1.1–2.6), with the attacker throttled as a remote host
/// would be (``Attacker``) and still holding the listener full. The wall-clock rates are printed.
@Suite(.serialized) struct HTTPFaultProcessTests {
    /// `slowhttptest`, installed with apt-get when missing and we are root; `nil` when unavailable.
    static let slowhttptest: String? = {
        let path = "/usr/bin/slowhttptest"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
        guard getuid() == 0 else { return nil }
        let install = Process()
        install.executableURL = URL(fileURLWithPath: "/bin/sh")
        install.arguments = ["-c", "DEBIAN_FRONTEND=noninteractive apt-get install -y slowhttptest >/dev/null 2>&1"]
        try? install.run()
        install.waitUntilExit()
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()

    /// 400 slowloris connections (more than the 256 the listener admits) for 15 s, then 200 slow
    /// bodies for 6 s, against a scorer draining 600 customers' scoring jobs: the listener is full
    /// (≥ 200 open connections seen), every `/livez` probe (a fresh connection every 200 ms) answers 200
    /// within 1 s, the scorer's CPU per job stays within 1.5× that of an unattacked drain of a copy of
    /// the same database, and SIGTERM still exits 0.
    @Test(.enabled(if: slowhttptest != nil, "slowhttptest is not installed and cannot be (needs root and apt-get)"))
    func slowhttptestKeepsLivezUpAndTheWorkerDraining() async throws {
        let tool = try #require(Self.slowhttptest)
        let db = try TestDatabase.create()
        let dir = NSTemporaryDirectory() + "http-fault-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let generate = try ServiceProcess.run(
            "tierguardctl", ["generate", "--customers", "600", "--days", "70", "--seed", "11", "--out", dir],
            environment: ["DATABASE_URL": db.url])
        #expect(generate.status == 0, "generate: \(generate.stderr)")
        let load = try ServiceProcess.run(
            "tierguard-ingest", ["load", dir + "/feed.ndjson"], environment: ["DATABASE_URL": db.url], timeout: 60)
        #expect(load.status == 0 || load.status == 65, "load: \(load.stderr)")

        // Hold the jobs back (scheduled an hour ahead; `available` means due to the claim), then copy the
        // database, so both drains start from the same rows.
        let copyURL: String
        let jobs: Int
        do {
            let session = try db.session()
            defer { session.close() }
            jobs = try session.query("""
                WITH held AS (UPDATE tg_jobs SET state = 'scheduled', run_at = now() + interval '1 hour'
                              WHERE queue = 'scorer' AND kind = 'score_customer' RETURNING 1)
                SELECT count(*) FROM held
                """)[0].decode(Int.self, at: 0)
        }
        #expect(jobs > 500)
        let copyName = db.name + "_attacked"
        do {
            let admin = try PostgresSession(configuration: PostgresConfiguration(
                db.url.replacingOccurrences(of: "/\(db.name)?", with: "/postgres?"), applicationName: "tierguard-tests"))
            defer { admin.close() }
            try admin.executeScript(unsafeSQL: "CREATE DATABASE \"\(copyName)\" TEMPLATE \"\(db.name)\"")
            copyURL = db.url.replacingOccurrences(of: "/\(db.name)?", with: "/\(copyName)?")
        }

        let baseline = try await Self.drain(url: db.url, attack: nil)
        let attacked = try await Self.drain(url: copyURL) { port in try await Self.attackAndProbe(tool: tool, port: port) }
        print("HTTPFaultProcessTests: baseline \(Int(baseline.rate)) jobs/s, under slowloris \(Int(attacked.rate)) jobs/s "
              + "(\(Int((attacked.rate / baseline.rate * 100).rounded())) %), scorer CPU \(Int(baseline.cpuPerJob * 1e6)) / "
              + "\(Int(attacked.cpuPerJob * 1e6)) µs per job (\(String(format: "%.2f", attacked.cpuPerJob / baseline.cpuPerJob))×), "
              + "up to \(attacked.mostOpen) connections open, \(attacked.probes.count) /livez probes, "
              + "slowest \(attacked.probes.map(\.seconds).max() ?? 0) s")
        #expect(baseline.jobs == jobs && attacked.jobs == jobs)
        #expect(attacked.probes.count >= 50)
        // The throttled attacker still fills the listener (256 slots).
        #expect(attacked.mostOpen >= 200, "at most \(attacked.mostOpen) connections were open during slowloris")
        #expect(attacked.probes.allSatisfy { $0.status == 200 && $0.seconds < 1 }, "\(attacked.probes.filter { $0.status != 200 || $0.seconds >= 1 })")
        // The listener's cost to the worker: the scorer's own CPU per job, which other processes on the
        // machine (the attacker, parallel test suites) do not inflate the way they do wall-clock rates.
        #expect(attacked.cpuPerJob <= baseline.cpuPerJob * 1.5, "CPU per job: baseline \(baseline.cpuPerJob) s, attacked \(attacked.cpuPerJob) s")
    }

    /// `tierguard-scorer` under `ulimit -n 256` while the test holds 400 idle connections to it for 4 s:
    /// the accept loop does not spin (the process uses under half a core meanwhile), the process stays
    /// up, `/livez` answers 200 within 2 s once the connections close, a job enqueued during the
    /// exhaustion and one after it both complete, and SIGTERM exits 0.
    @Test func fileDescriptorExhaustionNeitherCrashesNorSpins() async throws {
        let db = try TestDatabase.create()
        let port = LocalCluster.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -n 256 && exec \"$0\" run", ServiceProcess.binary("tierguard-scorer").path]
        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = db.url
        env["TIERGUARD_HTTP_PORT"] = String(port)
        env["TIERGUARD_HTTP_HOST"] = "127.0.0.1"
        env["TIERGUARD_SCORER_CONCURRENCY"] = "2"
        process.environment = env
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("tg-fd-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let stderr = { (try? String(contentsOf: errURL, encoding: .utf8)) ?? "" }
        try await Self.waitForLivez(port: port, process: process, stderr: stderr)

        var fds: [Int32] = []
        defer { for fd in fds { close(fd) } }
        for _ in 0..<400 {
            guard let fd = Self.connect(port: port) else { break }
            fds.append(fd)
        }
        #expect(fds.count == 400, "the test itself could open only \(fds.count) connections")
        try await Task.sleep(for: .milliseconds(500))
        try Self.enqueueScoring(db, customer: "NOBODY-1")
        let cpuBefore = Self.cpuSeconds(process.processIdentifier)
        try await Task.sleep(for: .seconds(3))
        let cpuUsed = Self.cpuSeconds(process.processIdentifier) - cpuBefore
        let during = await Self.probe(port: port, timeout: 1)
        print("HTTPFaultProcessTests: fd exhaustion, scorer CPU \(String(format: "%.2f", cpuUsed / 3)) cores, "
              + "/livez during: \(during.status) in \(String(format: "%.3f", during.seconds)) s")
        #expect(process.isRunning, "stderr: \(stderr().suffix(2000))")
        #expect(cpuUsed < 1.5, "the scorer used \(cpuUsed) s of CPU in 3 s with its descriptors exhausted")

        for fd in fds { close(fd) }
        fds = []
        let after = try await Self.waitForLivez(port: port, process: process, stderr: stderr, timeout: 2)
        #expect(after < 2)
        try Self.enqueueScoring(db, customer: "NOBODY-2")
        try await waitUntil(timeout: 15, interval: 0.1, "both scoring jobs to finish") {
            await Task.yield()
            let session = try db.session()
            defer { session.close() }
            return try session.query("""
                SELECT count(*) FROM tg_jobs WHERE kind = 'score_customer' AND state = 'completed'
                   AND args->>'customer_id' IN ('NOBODY-1', 'NOBODY-2')
                """)[0].decode(Int.self, at: 0) == 2
        }
        let metrics = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!).0
        let text = String(decoding: metrics, as: UTF8.self)
        #expect(text.contains(#"tierguard_http_connections_rejected_total{reason="fd_exhausted"}"#), "\(text.prefix(0))")
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0, "stderr: \(stderr().suffix(2000))")
    }

    // MARK: Helpers

    struct Probe: CustomStringConvertible {
        var status: Int
        var seconds: Double
        var description: String { "\(status) in \(String(format: "%.3f", seconds)) s" }
    }

    struct Drain {
        var jobs: Int
        var rate: Double
        /// The scorer process's own CPU seconds per job over the drain (user + system).
        var cpuPerJob: Double
        var probes: [Probe]
        /// The most connections the listener held open during the attack (0 without one).
        var mostOpen: Int
    }

    /// Starts a scorer on `url`, runs `attack(port)` (when given; jobs are released 2 s into it), waits
    /// until they are all completed, then SIGTERMs it (exit 0 expected). The rate is jobs over the span
    /// from the first claim to the last completion (database clock).
    static func drain(url: String, attack: (@Sendable (Int) async throws -> (probes: [Probe], mostOpen: Int))?) async throws -> Drain {
        let port = LocalCluster.freePort()
        let scorer = try ServiceProcess("tierguard-scorer", ["run"], environment: [
            "DATABASE_URL": url, "TIERGUARD_HTTP_PORT": String(port), "TIERGUARD_HTTP_HOST": "127.0.0.1",
            "TIERGUARD_SCORER_CONCURRENCY": "2"])
        defer { if scorer.process.isRunning { scorer.signal(SIGKILL) } }
        try await waitForLivez(port: port, process: scorer.process, stderr: { scorer.standardError })
        let session = try PostgresSession(configuration: PostgresConfiguration(url, applicationName: "tierguard-tests"))
        defer { session.close() }
        // The whole-book rescore the scorer enqueues at start finishes first, so both drains measure
        // the same scoring jobs only.
        try await waitUntil(timeout: 30, interval: 0.1, "the start-up jobs to finish") {
            await Task.yield()
            return try session.query("""
                SELECT count(*) FROM tg_jobs WHERE queue = 'scorer' AND kind <> 'score_customer'
                   AND (state = 'running' OR (state = 'available' AND run_at <= now()))
                """)[0].decode(Int.self, at: 0) == 0
        }
        let running = attack.map { attack in Task { try await attack(port) } }
        if running != nil { try await Task.sleep(for: .seconds(2)) }
        let cpuBefore = cpuSeconds(scorer.pid)
        try session.executeScript(unsafeSQL: "UPDATE tg_jobs SET run_at = now() WHERE queue = 'scorer' AND kind = 'score_customer' AND state = 'scheduled'")
        try await waitUntil(timeout: 60, interval: 0.1, "the scoring jobs to drain") {
            await Task.yield()  // the async overload: the probes need the cooperative pool meanwhile
            return try session.query("SELECT count(*) FROM tg_jobs WHERE kind = 'score_customer' AND state <> 'completed'")[0]
                .decode(Int.self, at: 0) == 0
        }
        let cpu = cpuSeconds(scorer.pid) - cpuBefore
        let attacked = try await running?.value
        let row = try session.query("""
            SELECT count(*), extract(epoch FROM max(finished_at) - min(attempted_at))::float8
            FROM tg_jobs WHERE kind = 'score_customer'
            """)[0]
        let jobs = try row.decode(Int.self, at: 0)
        let span = try row.decode(Double.self, at: 1)
        #expect(await probe(port: port, timeout: 1).status == 200)
        scorer.signal(SIGTERM)
        #expect(try scorer.waitForExit(timeout: 30) == 0, "stderr: \(scorer.standardError.suffix(2000))")
        return Drain(jobs: jobs, rate: Double(jobs) / max(span, 0.001), cpuPerJob: cpu / Double(max(jobs, 1)),
                     probes: attacked?.probes ?? [], mostOpen: attacked?.mostOpen ?? 0)
    }

    /// Runs slowhttptest in slowloris mode (400 connections, 200/s, a header line every second, 15 s),
    /// then in slow-body mode (200 connections, 6 s), polling `/livez` every 200 ms throughout. The
    /// attacker stands in for a remote host, so it runs as ``Attacker`` sets it up: at idle priority
    /// with a small CPU quota (slowhttptest spins in `poll`). Returns the probes and the most open
    /// connections the listener reported during the slowloris phase.
    static func attackAndProbe(tool: String, port: Int) async throws -> (probes: [Probe], mostOpen: Int) {
        var probes: [Probe] = []
        var mostOpen = 0
        let attacker = Attacker()
        defer { attacker.remove() }
        for (mode, connections, seconds) in [("-H", 400, 15), ("-B", 200, 6)] {
            let attack = try attacker.run(tool, [mode, "-c", String(connections), "-r", "200", "-i", "1", "-l", String(seconds),
                                                 "-u", "http://127.0.0.1:\(port)/livez"])
            defer { if attack.isRunning { kill(attack.processIdentifier, SIGKILL) } }
            let end = Date().addingTimeInterval(Double(seconds))
            while Date() < end && attack.isRunning {
                probes.append(await probe(port: port, timeout: 2))
                if mode == "-H", probes.count % 5 == 0 { mostOpen = max(mostOpen, await openConnections(port: port) ?? 0) }
                try await Task.sleep(for: .milliseconds(200))
            }
            let deadline = Date().addingTimeInterval(15)
            while attack.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        }
        return (probes, mostOpen)
    }

    /// The attacker's scheduling on this one machine, where it stands in for a remote host: SCHED_IDLE
    /// (`chrt --idle 0`) and nice 19, and, as root with a cgroup-v1 `cpu` controller, a quota of 10 % of
    /// one core. slowhttptest spins in `poll(2)` with a zero timeout, so unlimited it takes a whole core
    /// the worker and PostgreSQL would otherwise use (a remote attacker takes none); the quota delays
    /// its sends by at most one 100 ms period, and the test checks that it still fills the listener.
    struct Attacker {
        let cgroup: String?

        init() {
            let root = "/sys/fs/cgroup/cpu"
            guard getuid() == 0, FileManager.default.fileExists(atPath: root + "/cpu.cfs_quota_us") else {
                cgroup = nil
                return
            }
            let path = root + "/tierguard-test-attacker-\(getpid())-\(UUID().uuidString.prefix(8))"
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
                try "100000".write(toFile: path + "/cpu.cfs_period_us", atomically: false, encoding: .utf8)
                try "10000".write(toFile: path + "/cpu.cfs_quota_us", atomically: false, encoding: .utf8)
                cgroup = path
            } catch {
                rmdir(path)
                cgroup = nil
            }
        }

        func run(_ tool: String, _ arguments: [String]) throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            // The shell joins the cgroup, then becomes the attacker (same pid).
            process.arguments = ["-c", #"[ -z "$0" ] || echo $$ > "$0/cgroup.procs"; exec chrt --idle 0 nice -n 19 "$@""#,
                                 cgroup ?? "", tool] + arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }

        /// Removes the cgroup once its processes are gone (they are, after `attackAndProbe`'s waits).
        func remove() {
            guard let cgroup else { return }
            let deadline = Date().addingTimeInterval(5)
            while rmdir(cgroup) != 0 && errno == EBUSY && Date() < deadline { usleep(100_000) }
        }
    }

    /// The listener's `tierguard_http_open_connections` gauge, `nil` when `/metrics` did not answer.
    static func openConnections(port: Int) async -> Int? {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 2
        let session = URLSession(configuration: configuration)
        defer { session.invalidateAndCancel() }
        guard let data = try? await session.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!).0 else { return nil }
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n")
            .first { $0.hasPrefix("tierguard_http_open_connections ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "").map { Int($0) } }
    }

    /// One `GET /livez` on a fresh connection; status 0 when nothing came back within `timeout`.
    static func probe(port: Int, timeout: Double) async -> Probe {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.httpMaximumConnectionsPerHost = 1
        let session = URLSession(configuration: configuration)
        defer { session.invalidateAndCancel() }
        let started = Date()
        let status = (try? await session.data(from: URL(string: "http://127.0.0.1:\(port)/livez")!).1 as? HTTPURLResponse)?
            .statusCode ?? 0
        return Probe(status: status, seconds: Date().timeIntervalSince(started))
    }

    /// Waits until `/livez` answers 200; returns the seconds it took. Throws when the process exits.
    @discardableResult
    static func waitForLivez(port: Int, process: Process, stderr: () -> String, timeout: Double = 30) async throws -> Double {
        let started = Date()
        try await waitUntil(timeout: timeout, interval: 0.1, "/livez on \(port)") {
            guard process.isRunning else { throw ServiceExited(stderr: String(stderr().suffix(2000))) }
            return await probe(port: port, timeout: 1).status == 200
        }
        return Date().timeIntervalSince(started)
    }

    struct ServiceExited: Error, CustomStringConvertible {
        var stderr: String
        var description: String { "the service exited: \(stderr)" }
    }

    static func connect(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
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
            close(fd)
            return nil
        }
        return fd
    }

    static func enqueueScoring(_ db: TestDatabase, customer: String) throws {
        let session = try db.session()
        defer { session.close() }
        try session.execute(PostgresQuery("""
            INSERT INTO tg_jobs (queue, kind, args) VALUES ('scorer', 'score_customer', jsonb_build_object('customer_id', $1::text))
            """).binding(customer))
    }

    /// User plus system CPU seconds of `pid` from /proc/PID/stat (fields 14 and 15, in clock ticks).
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the ")" the first field is the state (field 3), so utime (14) is at index 11.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
