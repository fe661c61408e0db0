/// A name that endpoints subscribe to (`topics:` in the config).
public struct Topic: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let fileCreated = Topic(rawValue: "file.created")
    public static let fileDeleted = Topic(rawValue: "file.deleted")
    /// drophook's own topic for an abandoned upload; Rilavek receives it as `status: "failed"`.
    public static let fileFailed = Topic(rawValue: "file.failed")
    /// Sent on demand to test an endpoint (`drophook ping`).
    public static let webhookPing = Topic(rawValue: "webhook.ping")

    /// Every topic a config may name.
    public static let all: [Topic] = [.fileCreated, .fileDeleted, .fileFailed, .webhookPing]

    public init(kind: FileEvent.Kind) {
        switch kind {
        case .created: self = .fileCreated
        case .deleted: self = .fileDeleted
        case .failed: self = .fileFailed
        }
    }

    public var description: String { rawValue }
}
