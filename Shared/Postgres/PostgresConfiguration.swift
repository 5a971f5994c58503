import Foundation

/// How to reach PostgreSQL: a libpq conninfo string (`host=… port=…`) or a `postgres://` URL
/// (`DATABASE_URL`), plus what TierGuard always adds.
///
/// `application_name` is the service's name so operators see who is connected in
/// `pg_stat_activity`. TCP keepalives and `tcp_user_timeout` are on by default, so a black-holed
/// network is noticed in about 30 s instead of the kernel's two hours.
public struct PostgresConfiguration: Sendable {
    public var connectionString: String
    public var applicationName: String
    /// Time allowed to establish one connection, in seconds (libpq `connect_timeout`).
    public var connectTimeoutSeconds: Int
    /// How long `PostgresSession.reconnect` keeps trying before it gives up.
    public var reconnectDeadlineSeconds: Double
    /// Backoff between reconnect attempts: `min(cap, base × 2^n) × uniform(0.5, 1.0)`.
    public var reconnectBaseDelaySeconds: Double
    public var reconnectMaxDelaySeconds: Double
    /// Extra libpq keywords (e.g. `options`), applied after the connection string.
    public var extraParameters: [String: String]

    public init(_ connectionString: String, applicationName: String, connectTimeoutSeconds: Int = 10,
                reconnectDeadlineSeconds: Double = 60, reconnectBaseDelaySeconds: Double = 0.1,
                reconnectMaxDelaySeconds: Double = 5, extraParameters: [String: String] = [:]) {
        self.connectionString = connectionString
        self.applicationName = applicationName
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.reconnectDeadlineSeconds = reconnectDeadlineSeconds
        self.reconnectBaseDelaySeconds = reconnectBaseDelaySeconds
        self.reconnectMaxDelaySeconds = reconnectMaxDelaySeconds
        self.extraParameters = extraParameters
    }

    /// The keyword/value pairs handed to `PQconnectdbParams` (with `expand_dbname`, so the first
    /// value may be a URL or a conninfo string). Later keywords override the string's.
    var keywordsAndValues: [(String, String)] {
        var pairs: [(String, String)] = [("dbname", connectionString)]
        var defaults: [String: String] = [
            "application_name": applicationName,
            "connect_timeout": String(connectTimeoutSeconds),
            "keepalives": "1",
            "keepalives_idle": "10",
            "keepalives_interval": "5",
            "keepalives_count": "3",
            "tcp_user_timeout": "30000",
            // ISO dates whatever the server's default, so `date` and `timestamptz` decode exactly.
            "options": "-c DateStyle=ISO,YMD",
        ]
        for (key, value) in extraParameters { defaults[key] = value }
        // Keep what the connection string sets explicitly (except application_name, which is ours).
        for key in defaults.keys.sorted() where key == "application_name" || !connectionString.contains(key) {
            pairs.append((key, defaults[key]!))
        }
        return pairs
    }

    /// Where the string says the server is, for error messages (never the password).
    public var redactedTarget: String {
        guard connectionString.contains("://"), let url = URLComponents(string: connectionString) else {
            return connectionString.split(separator: " ").filter { !$0.hasPrefix("password=") }.joined(separator: " ")
        }
        return "\(url.host ?? "localhost"):\(url.port ?? 5432)\(url.path)"
    }
}
