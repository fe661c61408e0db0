/// What the agent last knew about one path of a watched tree: kept in the state database so
/// that a restart can tell what was created or deleted while it was down.
public struct SnapshotRecord: Sendable, Hashable, Codable {
    public var watch: String
    /// Relative to the watch root, as in ``FileEvent/path``.
    public var path: String
    public var isDirectory: Bool
    public var inode: UInt64
    public var size: Int64
    /// Modification time in nanoseconds since the epoch.
    public var mtimeNanos: Int64

    public init(watch: String, path: String, isDirectory: Bool, inode: UInt64, size: Int64, mtimeNanos: Int64) {
        self.watch = watch
        self.path = path
        self.isDirectory = isDirectory
        self.inode = inode
        self.size = size
        self.mtimeNanos = mtimeNanos
    }
}

/// Changes to the stored snapshot that go with a batch of events.
public struct SnapshotDelta: Sendable, Hashable {
    public var upserts: [SnapshotRecord]
    /// (watch, path) pairs no longer in the tree. Removing a directory does not imply its
    /// children: the watcher lists every path it removes.
    public var removals: [SnapshotKey]

    public init(upserts: [SnapshotRecord] = [], removals: [SnapshotKey] = []) {
        self.upserts = upserts
        self.removals = removals
    }

    public var isEmpty: Bool { upserts.isEmpty && removals.isEmpty }
}

/// Identifies one snapshot row.
public struct SnapshotKey: Sendable, Hashable, Codable {
    public var watch: String
    public var path: String
    public init(watch: String, path: String) {
        self.watch = watch
        self.path = path
    }

    /// By bytes (``ExactText``): two spellings of one Unicode name are two paths.
    public static func == (lhs: SnapshotKey, rhs: SnapshotKey) -> Bool {
        ExactText(lhs.watch) == ExactText(rhs.watch) && ExactText(lhs.path) == ExactText(rhs.path)
    }

    public func hash(into hasher: inout Hasher) {
        ExactText.hash(watch, into: &hasher)
        ExactText.hash(path, into: &hasher)
    }
}

/// What the watcher hands to the outbox: events and the snapshot changes they imply,
/// committed together so that a crash can never record a change without its event.
public struct WatchBatch: Sendable, Hashable {
    public var events: [FileEvent]
    public var snapshot: SnapshotDelta

    public init(events: [FileEvent] = [], snapshot: SnapshotDelta = .init()) {
        self.events = events
        self.snapshot = snapshot
    }
}
