/// A name that endpoints subscribe to (`topics:` in the config).
public struct Topic: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let fileCreated = Topic(rawValue: "file.created")
    public static let fileDeleted = Topic(rawValue: "file.deleted")
    /// drophook's own topic for an abandoned upload; Rilavek receives it as `status: "failed"`.
    public static let fileFailed = Topic(rawValue: "file.failed")
    /// A recorded path renamed inside its watch, as one event (SFTP To Go shape with
    /// `PreviousData`). Endpoints without it get the rename as `file.deleted` + `file.created`.
    public static let fileRenamed = Topic(rawValue: "file.renamed")
    /// Sent on demand to test an endpoint (`drophook ping`).
    public static let webhookPing = Topic(rawValue: "webhook.ping")

    /// Every topic a config may name.
    public static let all: [Topic] = [.fileCreated, .fileDeleted, .fileFailed, .fileRenamed, .webhookPing]

    public init(kind: FileEvent.Kind) {
        switch kind {
        case .created: self = .fileCreated
        case .deleted: self = .fileDeleted
        case .failed: self = .fileFailed
        case .renamed: self = .fileRenamed
        }
    }

    public var description: String { rawValue }
}
