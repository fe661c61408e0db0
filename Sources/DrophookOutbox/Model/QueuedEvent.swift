import DrophookEvents

/// What a stored delivery carries: a file event, or a `webhook.ping` made by `drophook ping`.
public enum QueuedEvent: Sendable, Hashable {
    case file(FileEvent)
    /// A test message; `id` is the ping's event id, `createdAtMillis` when it was asked for.
    case ping(id: String, createdAtMillis: Int64)

    /// The event id, the same on every attempt.
    public var id: String {
        switch self {
        case .file(let event): event.id
        case .ping(let id, _): id
        }
    }

    /// The topic the delivery is filed under.
    public var topic: Topic {
        switch self {
        case .file(let event): event.topic
        case .ping: .webhookPing
        }
    }
}
