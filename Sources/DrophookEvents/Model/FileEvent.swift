/// Something that happened to one path in a watched drop tree: the unit that every later
/// stage (outbox, delivery, payload formats) works on.
///
/// A `FileEvent` is immutable once made: its ``id`` is the idempotency key that every
/// delivery attempt of it carries, whatever the payload format.
public struct FileEvent: Sendable, Hashable, Codable {
    /// Event id: a lowercase UUID, the same on every delivery attempt.
    public var id: String
    /// What happened.
    public var kind: Kind
    /// Name of the watch (from the config) whose tree the path lies in.
    public var watch: String
    /// Path relative to the watch root, `/`-separated, no leading or trailing `/`.
    public var path: String
    /// Whether the path is a directory (formats that mark directories, e.g. with a trailing `/`).
    public var isDirectory: Bool
    /// Final size in bytes for a finished file; bytes received for a failed transfer; `nil` otherwise.
    public var size: Int64?
    /// Who caused it, as resolved by the watch's actor rule (user name, path segment or fixed name).
    public var actor: String
    /// When it happened, in milliseconds since the Unix epoch.
    public var occurredAtMillis: Int64
    /// True when a scan (start-up catch-up, overflow recovery, a directory that appeared)
    /// found it, rather than a live inotify event.
    public var foundByScan: Bool
    /// The watch's Rilavek pipe id and protocol when the event was stored; nil for events
    /// stored before drophook kept them (the watch's current ones are used).
    public var origin: WatchOrigin?
    /// The path before a rename (`renamed` events only).
    public var previousPath: String?
    /// A `deleted` or `created` that, with a `renamed` event, tells of one rename: endpoints
    /// that subscribe to `file.renamed` get the `renamed` event instead.
    public var partOfRename: Bool
    /// Lowercase hex SHA-256 of a finished file, on watches that ask for it (`sha256: true`)
    /// and when the file was no larger than the limit and unchanged while it was read.
    public var sha256: String?
    /// The SFTP client's address, from the server's session log (``actor`` is then the SFTP
    /// login user); nil where no session log is configured or no line matched.
    public var clientAddress: String?
    /// Bytes the SFTP session wrote to the file (created and failed files), from the session log.
    public var bytesWritten: Int64?

    /// What happened to the path.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// A file finished arriving, or a directory appeared.
        case created
        /// A file or directory was removed (or moved out of the tree).
        case deleted
        /// An upload did not finish: under a client temp name it was abandoned (the temp file
        /// was deleted unrenamed), or the SFTP session log says the client went away with the
        /// file still open.
        case failed
        /// A recorded path was renamed inside its watch (``FileEvent/previousPath`` is the old
        /// one). It comes with the `deleted` + `created` pair that says the same to endpoints
        /// that do not subscribe to `file.renamed` (``FileEvent/partOfRename``).
        case renamed
    }

    public init(
        id: String,
        kind: Kind,
        watch: String,
        path: String,
        isDirectory: Bool = false,
        size: Int64? = nil,
        actor: String,
        occurredAtMillis: Int64,
        foundByScan: Bool = false,
        origin: WatchOrigin? = nil,
        previousPath: String? = nil,
        partOfRename: Bool = false,
        sha256: String? = nil,
        clientAddress: String? = nil,
        bytesWritten: Int64? = nil
    ) {
        self.id = id
        self.kind = kind
        self.watch = watch
        self.path = path
        self.isDirectory = isDirectory
        self.size = size
        self.actor = actor
        self.occurredAtMillis = occurredAtMillis
        self.foundByScan = foundByScan
        self.origin = origin
        self.previousPath = previousPath
        self.partOfRename = partOfRename
        self.sha256 = sha256
        self.clientAddress = clientAddress
        self.bytesWritten = bytesWritten
    }

    /// The topic subscribers filter on: `file.created`, `file.deleted` or `file.failed`.
    public var topic: Topic { Topic(kind: kind) }
}
