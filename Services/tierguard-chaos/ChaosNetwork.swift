import Foundation
import Postgres
#if canImport(Glibc)
import Glibc
#endif

/// The network-blackhole scenario's plumbing: the workers run in a network namespace (`tgchaos`)
/// joined to the host by a veth pair (host 10.231.0.1, namespace 10.231.0.2), and PostgreSQL also
/// listens on 10.231.0.1. Taking the host end of the veth down drops every packet both ways without
/// a reset, which is what a dead switch or a firewall black hole does (`nft` and `tc netem` are not
/// installed here; a downed link is the same black hole for TCP).
enum ChaosNetwork {
    static let namespace = "tgchaos"
    static let hostAddress = "10.231.0.1"

    static func skipReason() -> String? {
        if getuid() != 0 { return "needs root for a network namespace" }
        if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") { return "iproute2 (ip) missing" }
        return nil
    }

    /// Creates the namespace and veth pair, makes the cluster listen on the host end, and returns
    /// the URL the namespaced workers use.
    static func setUp(_ cluster: ChaosCluster, port: Int) throws -> String {
        tearDown()
        for command in [
            ["ip", "netns", "add", namespace],
            ["ip", "link", "add", "tgc-host", "type", "veth", "peer", "name", "tgc-ns"],
            ["ip", "link", "set", "tgc-ns", "netns", namespace],
            ["ip", "addr", "add", hostAddress + "/24", "dev", "tgc-host"],
            ["ip", "link", "set", "tgc-host", "up"],
            ["ip", "netns", "exec", namespace, "ip", "addr", "add", "10.231.0.2/24", "dev", "tgc-ns"],
            ["ip", "netns", "exec", namespace, "ip", "link", "set", "tgc-ns", "up"],
            ["ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up"],
        ] { try Shell.run(command) }
        let hba = cluster.dir + "/pgdata/pg_hba.conf"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: hba))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("host all all 10.231.0.0/24 trust\n".utf8))
        try handle.close()
        let session = try cluster.session()
        try session.execute(PostgresQuery(unsafeSQL: "ALTER SYSTEM SET listen_addresses = '127.0.0.1,\(hostAddress)'"))
        session.close()
        try cluster.restart(mode: "fast")
        return "postgres://postgres@\(hostAddress):\(port)/postgres?sslmode=disable"
    }

    static func setLink(up: Bool) throws { try Shell.run(["ip", "link", "set", "tgc-host", up ? "up" : "down"]) }

    static func tearDown() {
        _ = try? Shell.run(["ip", "netns", "del", namespace])
        _ = try? Shell.run(["ip", "link", "del", "tgc-host"])
    }
}
