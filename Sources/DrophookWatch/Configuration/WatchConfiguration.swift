/// One drop tree to watch: where it is, who counts as the actor, and which names are not files.
public struct WatchConfiguration: Sendable, Hashable {
    /// Name events carry in ``DrophookEvents/FileEvent/watch``.
    public var name: String
    /// Absolute path of the tree's root directory. A symlinked root is resolved once at start.
    public var root: String
    /// How the actor of an event is found.
    public var actor: ActorRule
    /// Extra base-name globs (fnmatch) that are never reported as files; renaming one to a final
    /// name is the final name's transfer-complete event. Deleting one reports nothing.
    public var ignore: [String]
    /// When set, a finished file is reported only once its size and mtime have been stable this
    /// long (for servers whose clients reopen files, e.g. resumed uploads).
    public var settle: Duration?
    /// Whether symbolic links are reported.
    public var symlinks: SymlinkPolicy
    /// When set, a finished file no larger than this carries its SHA-256 (read when it is
    /// reported, on the watcher's own task: a large file delays the records after it).
    public var checksumLimit: Int64?

    public init(
        name: String,
        root: String,
        actor: ActorRule = .owner,
        ignore: [String] = [],
        settle: Duration? = nil,
        symlinks: SymlinkPolicy = .ignore,
        checksumLimit: Int64? = nil
    ) {
        self.name = name
        self.root = root
        self.actor = actor
        self.ignore = ignore
        self.settle = settle
        self.symlinks = symlinks
        self.checksumLimit = checksumLimit
    }
}

/// What the watcher does with symbolic links in a drop tree. Links are never followed or read through.
public enum SymlinkPolicy: String, Sendable, Hashable, CaseIterable {
    /// Symlinks are not files: nothing is reported for them.
    case ignore
    /// A symlink is reported as a `created` file with no size (and `deleted` when removed).
    case report
}

/// Everything the watcher needs: the watched trees and the timing of its decisions.
public struct WatcherConfiguration: Sendable {
    public var watches: [WatchConfiguration]
    /// Report what changed while the agent was down (against a non-empty stored snapshot).
    /// When false, the start-up scan only records the tree.
    public var catchUp: Bool
    /// How long an `IN_MOVED_FROM` waits for its `IN_MOVED_TO` before it counts as a move out of the tree.
    public var moveCookieTimeout: Duration
    /// How long a new name with no writer (no `IN_OPEN`) waits before it counts as a hard link, i.e. finished.
    public var linkTimeout: Duration
    /// A file found by a scan (new directory, overflow rescan, catch-up) whose mtime is younger
    /// than this may still be open for writing: it is reported once its mtime is this old and
    /// unchanged, or at its `IN_CLOSE_WRITE`, whichever comes first.
    public var scanSettle: Duration
    /// Ask the kernel (a read lease, ``CompletionMode/lease``) whether a file found by a scan
    /// still has a writer, where the agent may; false always waits for stability.
    public var leases: Bool
    /// Size of the buffer each `read(2)` of the inotify descriptor fills.
    public var readBufferSize: Int
    /// Most events in one batch handed to the sink.
    public var maxBatchEvents: Int
    /// How often timers (move pairing, settling, rescans) are checked and partial batches flushed.
    public var tickInterval: Duration
    /// Longest wait between two rescans when the inotify queue keeps overflowing.
    public var maxRescanBackoff: Duration
    /// How often directories that could not be watched (watch limit) are retried.
    public var unwatchedRetryInterval: Duration
    /// How often a watch root that is missing (not created yet, removed, moved away, unmounted)
    /// is looked for; it is watched again as soon as it is a directory.
    public var rootRetryInterval: Duration
    /// Most raw inotify records held in memory while the processing task is held up (an outbox
    /// that cannot be written: disk full). Past it records are dropped and the trees rescanned
    /// once the watcher moves again, so memory stays bounded and no change is lost track of.
    /// About 100 bytes each.
    public var maxQueuedRecords: Int
    /// How long a reported file stays untouched before it is kept as a compact record instead
    /// of a tree node (``IdleFiles``). Long enough that a transfer's follow-ups (its temp name's
    /// removal, a link's second name, a `put -p` touch) find it as it was reported.
    public var idleFileCompaction: Duration
    /// Most snapshot changes and events in one start-up batch. A first start over a large tree
    /// commits its records in batches of this size, so its memory stays bounded; the watch's
    /// root record comes last and marks the recording complete.
    public var startupBatchChanges: Int

    public init(
        watches: [WatchConfiguration],
        catchUp: Bool = true,
        moveCookieTimeout: Duration = .milliseconds(200),
        linkTimeout: Duration = .milliseconds(200),
        scanSettle: Duration = .seconds(2),
        leases: Bool = true,
        readBufferSize: Int = 256 * 1024,
        maxBatchEvents: Int = 500,
        tickInterval: Duration = .milliseconds(50),
        maxRescanBackoff: Duration = .seconds(30),
        unwatchedRetryInterval: Duration = .seconds(30),
        rootRetryInterval: Duration = .seconds(1),
        maxQueuedRecords: Int = 200_000,
        idleFileCompaction: Duration = .seconds(10),
        startupBatchChanges: Int = 20_000
    ) {
        self.watches = watches
        self.catchUp = catchUp
        self.moveCookieTimeout = moveCookieTimeout
        self.linkTimeout = linkTimeout
        self.scanSettle = scanSettle
        self.leases = leases
        self.readBufferSize = readBufferSize
        self.maxBatchEvents = maxBatchEvents
        self.tickInterval = tickInterval
        self.maxRescanBackoff = maxRescanBackoff
        self.unwatchedRetryInterval = unwatchedRetryInterval
        self.rootRetryInterval = rootRetryInterval
        self.maxQueuedRecords = maxQueuedRecords
        self.idleFileCompaction = idleFileCompaction
        self.startupBatchChanges = startupBatchChanges
    }
}
