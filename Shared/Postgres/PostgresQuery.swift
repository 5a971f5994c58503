/// A SQL statement and its parameters, which travel separately (`PQexecParams`).
///
/// There is no way to splice a value into the SQL text: values are always bound as `$1`, `$2`, ….
/// A statement with a `name` is prepared once per connection and reused (the name is also what
/// errors and logs report). Text that is not a literal, like a channel identifier built at run
/// time, must go through `init(unsafeSQL:)` so it stands out in review.
public struct PostgresQuery: Sendable {
    public var name: String?
    public var sql: String
    public var binds: [PostgresBind]

    /// A statement whose SQL text is a compile-time literal.
    public init(_ sql: StaticString, name: String? = nil, _ binds: [PostgresBind] = []) {
        self.sql = sql.description
        self.name = name
        self.binds = binds
    }

    /// A statement whose text was built at run time; never put a value into it.
    public init(unsafeSQL sql: String, name: String? = nil, _ binds: [PostgresBind] = []) {
        self.sql = sql
        self.name = name
        self.binds = binds
    }

    /// The same statement with other parameters.
    public func binding(_ binds: [PostgresBind]) -> PostgresQuery {
        var copy = self
        copy.binds = binds
        return copy
    }

    /// The same statement with other parameters, each converted by `PostgresEncodable`.
    public func binding(_ values: (any PostgresEncodable)?...) -> PostgresQuery {
        binding(PostgresBind.list(values))
    }
}

extension PostgresQuery: ExpressibleByStringLiteral {
    public init(stringLiteral value: StaticString) { self.init(value) }
}
