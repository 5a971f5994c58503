import Foundation
import Postgres
import Testing
import TestSupport

/// Issue 11: TLS to PostgreSQL with `sslmode=verify-full`, against a private cluster serving a certificate
/// signed by a CA this test makes (`TestCertificates`, `openssl` CLI): the right CA and host connect over
/// TLS; a wrong host name and a wrong CA are refused, each with libpq's clear reason.
@Suite struct TLSTests {
    static func connect(_ url: String) throws -> PostgresSession {
        try PostgresSession(configuration: PostgresConfiguration(url, applicationName: "tierguard-tls-test", connectTimeoutSeconds: 5))
    }

    static func connectionError(_ url: String) -> String? {
        do {
            let s = try connect(url)
            s.close()
            return nil
        } catch {
            return String(describing: error)
        }
    }

    @Test func verifyFullConnectsOnlyToTheRightHostWithTheRightCA() throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let cluster = try LocalCluster.startPrivateTLS(certificates: certificates)
        defer { cluster.destroy() }

        // Right CA, host names the certificate carries (DNS:localhost, IP:127.0.0.1): TLS in use.
        for host in ["localhost", "127.0.0.1"] {
            let s = try Self.connect(cluster.tlsURL(host: host, sslmode: "verify-full", rootCertificate: certificates.caCertificate))
            defer { s.close() }
            let row = try s.query("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")[0]
            #expect(try row.decode(Bool.self, at: 0), "\(host)")
            #expect(try row.decode(String.self, at: 1).hasPrefix("TLS"), "\(host)")
        }

        // Wrong host name: the socket reaches the same server (hostaddr), but the name checked is not on the
        // certificate; verify-full refuses and says which names it holds.
        let wrongHost = Self.connectionError(cluster.tlsURL(host: "db.example.internal", hostaddr: "127.0.0.1", sslmode: "verify-full",
                                                            rootCertificate: certificates.caCertificate))
        let hostMessage = try #require(wrongHost)
        #expect(hostMessage.contains("does not match host name \"db.example.internal\""), "\(hostMessage)")
        // verify-ca checks the chain only, so the same connection succeeds: the refusal above is the name check.
        let chainOnly = try Self.connect(cluster.tlsURL(host: "db.example.internal", hostaddr: "127.0.0.1", sslmode: "verify-ca",
                                                        rootCertificate: certificates.caCertificate))
        chainOnly.close()

        // Wrong CA: the chain does not verify.
        let wrongCA = Self.connectionError(cluster.tlsURL(host: "localhost", sslmode: "verify-full",
                                                          rootCertificate: certificates.otherCACertificate))
        let caMessage = try #require(wrongCA)
        #expect(caMessage.contains("certificate verify failed"), "\(caMessage)")

        // A service reads the same settings from DATABASE_URL.
        let ctl = try ServiceProcess.run("tierguardctl", ["migrate", "--status"], environment: [
            "DATABASE_URL": cluster.tlsURL(host: "localhost", sslmode: "verify-full", rootCertificate: certificates.caCertificate)])
        #expect(ctl.status == 0, "\(ctl.stderr)")
        let refused = try ServiceProcess.run("tierguardctl", ["migrate", "--status"], environment: [
            "DATABASE_URL": cluster.tlsURL(host: "localhost", sslmode: "verify-full", rootCertificate: certificates.otherCACertificate)])
        #expect(refused.status != 0 && refused.stderr.contains("certificate verify failed"), "\(refused.stderr)")
    }
}
