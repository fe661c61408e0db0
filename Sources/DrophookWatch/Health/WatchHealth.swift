import Synchronization

/// What the watcher reports about itself for `drophook status` and the metrics endpoint.
public struct WatchHealth: Sendable, Hashable {
    /// The start-up scan is done and live events are being processed.
    public var isWatching = false
    /// Directories with an inotify watch.
    public var watchedDirectories = 0
    /// `IN_Q_OVERFLOW` events seen since start.
    public var overflows = 0
    /// Raw records dropped at the memory bound while the outbox took no batch (each drop is
    /// followed by a rescan).
    public var droppedRecords = 0
    /// Full rescans done to recover from overflows.
    public var rescans = 0
    /// `inotify_add_watch` failed with ENOSPC: `fs.inotify.max_user_watches` is too low.
    public var watchLimitReached = false
    /// Directories that are scanned but have no watch because of the limit (retried periodically).
    public var unwatchedDirectories = 0
    /// Directories in the trees that the agent may not read (permissions): their contents are
    /// not reported until they can be read.
    public var unreadableDirectories = 0
    /// Watches this agent needs (watched + unwatched directories).
    public var watchesNeeded = 0
    /// Current `fs.inotify.max_user_watches`, when readable.
    public var maxUserWatches: Int?
    /// Watch roots that are missing, not directories, or were removed or moved away.
    public var unavailableRoots: [String] = []
    /// How each watch (by name) decides that a file found by a scan is finished.
    public var completionModes: [String: CompletionMode] = [:]
    /// Why a watch is not in ``CompletionMode/lease``, by watch name.
    public var completionReasons: [String: String] = [:]

    public init() {}
}

/// The health value shared between the processing task and readers on other threads.
final class HealthCell: Sendable {
    private let state = Mutex(WatchHealth())
    var value: WatchHealth { state.withLock { $0 } }
    func update(_ body: (inout WatchHealth) -> Void) { state.withLock { body(&$0) } }
}
