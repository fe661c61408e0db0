import DrophookEvents

/// One entry of a watched tree as the watcher knows it. Paths are not stored: they are computed
/// from the parent chain, so renaming a directory re-paths everything under it at once, and a
/// directory's watch descriptor keeps pointing at the right node.
final class TreeNode {
    enum Kind: Sendable, Hashable { case directory, file, symlink }

    /// Where a file not yet reported stands in its transfer.
    enum Phase: Sendable, Hashable {
        /// Reported (or silently recorded), or a directory or symlink.
        case idle
        /// Created with no writer seen yet: an `IN_OPEN` makes it `.writing`; none before the
        /// deadline means the name came from `link()` and the file is finished.
        case awaitingOpen(deadline: WatchInstant)
        /// Open for writing; finished at `IN_CLOSE_WRITE`.
        case writing
        /// Finished, waiting until its size and mtime have been stable for the window, as
        /// observed since `since`. A scan may also accept an mtime already that old
        /// (`acceptOldMtime`); a `settle:` watch never does, because clients that preserve
        /// timestamps set old mtimes on fresh uploads.
        case settling(window: Duration, foundByScan: Bool, since: WatchInstant, acceptOldMtime: Bool)
        /// Finished, but gone from its path when it was looked at: it or a directory above it
        /// was renamed before the records were read. The rename's records (read later) look
        /// again at the new path, with the same `foundByScan` and `confirmed` as the failed
        /// look; its delete drops it.
        case awaitingRename(foundByScan: Bool, confirmed: Bool)

        /// Whether ``WatchEngine/tick()`` must look at the node: it waits for a deadline or for
        /// stability.
        var hasDeadline: Bool {
            switch self {
            case .awaitingOpen, .settling: true
            case .idle, .writing, .awaitingRename: false
            }
        }

        /// For a file known to be finished but not reported yet: whether a scan found it.
        /// Nil in every other phase (reported, or still being written).
        var finishedUnreported: Bool? {
            switch self {
            case .awaitingOpen: false
            case .settling(_, let foundByScan, _, _): foundByScan
            case .awaitingRename(let foundByScan, _): foundByScan
            case .idle, .writing: nil
            }
        }
    }

    var name: String
    weak var parent: TreeNode?
    let kind: Kind
    /// Entries that need a node: directories, files in transfer, files reported moments ago.
    /// Keyed by bytes (``ExactText``).
    private(set) var children: [ExactText: TreeNode] = [:]
    /// Files reported and quiet since, kept compact (``IdleFiles``); a directory's only.
    var idleFiles = IdleFiles()
    /// Watch descriptor of a directory, -1 when it has none; written by ``WatchDescriptors`` alone.
    var wd: Int32 = -1
    /// Index of the watch this node is the root of; nil for every other node.
    var rootOfWatch: Int?
    /// A directory that is the root of a deeper watch: its contents belong to that watch.
    var isBoundary = false
    var status: FileStatus
    /// In the stored snapshot: reported, or recorded silently.
    var recorded = false
    /// Written by ``Deadlines/enter(_:_:)`` alone, which keeps the deadlines in step.
    var phase: Phase = .idle
    var transferName: TransferName = .final
    /// When the watcher first saw this node (orders a temp file against its final name).
    var firstSeen: WatchInstant
    /// A writer closed it at least once (`IN_CLOSE_WRITE`), even if it was renamed before it
    /// could be stat'd: a rename then finishes it.
    var closeSeen = false
    /// Closed after writing, but gone before its size could be read: reported without a size.
    var closedSizeUnknown = false
    /// Whether the inode was known from a successful `lstat` (not only assumed).
    var statusKnown: Bool

    init(name: String, kind: Kind, status: FileStatus, statusKnown: Bool = true, now: WatchInstant) {
        self.name = name
        self.kind = kind
        self.status = status
        self.statusKnown = statusKnown
        self.firstSeen = now
    }

    var isDirectory: Bool { kind == .directory }

    /// The root node above this one, nil when the node is detached (moved away, removed).
    var root: TreeNode? {
        var node = self
        while let parent = node.parent { node = parent }
        return node.rootOfWatch == nil ? nil : node
    }

    /// Path relative to its watch root (`""` for the root), nil when detached.
    var relativePath: String? {
        if rootOfWatch != nil { return "" }
        var names = [name]
        var node = self
        while let parent = node.parent {
            if parent.rootOfWatch != nil {
                return names.reversed().joined(separator: "/")
            }
            names.append(parent.name)
            node = parent
        }
        return nil
    }

    /// The child node named `name`, compared by bytes.
    subscript(child name: String) -> TreeNode? { children[ExactText(name)] }

    func attach(_ child: TreeNode) {
        child.parent = self
        children[ExactText(child.name)] = child
    }

    func detach(_ child: TreeNode) {
        let key = ExactText(child.name)
        if children[key] === child { children[key] = nil }
        child.parent = nil
    }

    /// Forgets every child node (a removed subtree, taken apart).
    func dropChildren() { children = [:] }
}

extension FileStatus {
    /// Stand-in for a node whose `lstat` failed (the name was already gone).
    static let unknown = FileStatus(
        kind: .file, device: 0, inode: 0, size: 0, mtimeNanos: 0, uid: 0, linkCount: 1)

    init(kind: Kind, device: UInt64, inode: UInt64, size: Int64, mtimeNanos: Int64, uid: UInt32, linkCount: UInt64) {
        self.kind = kind
        self.device = device
        self.inode = inode
        self.size = size
        self.mtimeNanos = mtimeNanos
        self.uid = uid
        self.linkCount = linkCount
    }
}
