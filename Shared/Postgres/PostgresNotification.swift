/// One NOTIFY delivered to a listening session.
public struct PostgresNotification: Sendable, Hashable {
    public var channel: String
    public var payload: String
    /// The backend pid of the notifying session.
    public var senderPID: Int32
}
