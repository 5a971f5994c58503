import Foundation

/// A throwaway certificate authority and server certificate made with the `openssl` command-line tool,
/// for TLS tests against a private cluster (`LocalCluster.startPrivateTLS`).
///
/// Made fresh per test, valid 2 days, RSA 2048: `ca.crt` signs `server.crt` (CN `localhost`, SAN
/// `DNS:localhost, IP:127.0.0.1`); `other-ca.crt` is an unrelated CA that signed nothing the server holds.
public struct TestCertificates: Sendable {
    /// The folder holding every file (`server.crt`, `server.key` are what pg.sh copies).
    public let directory: String
    public var caCertificate: String { directory + "/ca.crt" }
    public var otherCACertificate: String { directory + "/other-ca.crt" }

    public static func make() throws -> TestCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tg-tls-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let ext = directory + "/server.ext"
        try "subjectAltName = DNS:localhost, IP:127.0.0.1\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n"
            .write(toFile: ext, atomically: true, encoding: .utf8)
        func ca(_ name: String, _ subject: String) throws {
            try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", subject,
                         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                         "-keyout", "\(directory)/\(name).key", "-out", "\(directory)/\(name).crt"])
        }
        try ca("ca", "/CN=TierGuard Test CA")
        try ca("other-ca", "/CN=Some Other CA")
        try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                     "-keyout", "\(directory)/server.key", "-out", "\(directory)/server.csr"])
        try openssl(["x509", "-req", "-in", "\(directory)/server.csr", "-CA", "\(directory)/ca.crt", "-CAkey", "\(directory)/ca.key",
                     "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", "\(directory)/server.crt"])
        // The CA files are read by the test's libpq, which refuses nothing about their mode; the server's
        // key is copied by pg.sh and made 0600 for the server's owner.
        return TestCertificates(directory: directory)
    }

    public func remove() { try? FileManager.default.removeItem(atPath: directory) }

    static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("openssl-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try? err.close()
        guard process.terminationStatus == 0 else {
            throw ClusterError(message: "openssl \(arguments.prefix(2).joined(separator: " ")) failed: "
                               + ((try? String(contentsOf: errURL, encoding: .utf8)) ?? ""))
        }
    }
}

extension LocalCluster {
    /// Starts a private cluster with `ssl = on` serving `certificates`' server certificate
    /// (`deploy/local/pg.sh` with `TIERGUARD_PG_SSL_DIR`). Its `url` still says `sslmode=disable`;
    /// TLS tests build their own URLs with `tlsURL`.
    public static func startPrivateTLS(certificates: TestCertificates) throws -> LocalCluster {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("tg-pg-\(UUID().uuidString.prefix(8))").path
        let output = try run(["start", directory, String(freePort())],
                             environment: ["TIERGUARD_PG_FAST": "1", "TIERGUARD_PG_SSL_DIR": certificates.directory])
        guard let url = output.split(separator: "\n").last.map(String.init), url.hasPrefix("postgres://") else {
            throw ClusterError(message: "pg.sh start printed no DATABASE_URL: \(output)")
        }
        return LocalCluster(url: url, directory: directory)
    }

    /// `postgres://postgres@HOST:PORT/postgres?sslmode=…&sslrootcert=…` (plus `hostaddr` when given, so a
    /// host name can be checked against the certificate while the socket goes to 127.0.0.1).
    public func tlsURL(host: String, hostaddr: String? = nil, sslmode: String, rootCertificate: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.host = host
        var items = [URLQueryItem(name: "sslmode", value: sslmode), URLQueryItem(name: "sslrootcert", value: rootCertificate)]
        if let hostaddr { items.append(URLQueryItem(name: "hostaddr", value: hostaddr)) }
        components.queryItems = items
        return components.string ?? url
    }
}
