import DrophookEvents
import Glibc
import Logging

/// The watcher's state machine: turns raw inotify records and scans into file events and the
/// snapshot changes that record them. Owned by one task; never shared.
final class WatchEngine {
    let configuration: WatcherConfiguration
    let watches: [WatchConfiguration]
    /// Resolved absolute root path of each watch, nil when unavailable.
    var rootPaths: [String?]
    var roots: [TreeNode?]
    /// Watch index by resolved root path: a directory at one of these paths belongs to that watch.
    var watchIndexByRoot: [String: Int] = [:]

    let inotify: InotifyDescriptor
    /// Paths of the watched directories, for the reader's early watches (``WatchedPaths``).
    let watchedPaths: WatchedPaths
    var logger: Logger
    let health: HealthCell
    let metrics: WatchMetrics
    let timeline: WatchTimeline

    var nodeByWD: [Int32: TreeNode] = [:]
    /// Watch descriptors dropped by the watcher whose `IN_IGNORED` has not been read yet.
    var retiredWDs: Set<Int32> = []
    /// Retired descriptors the kernel handed out again: their records up to the old `IN_IGNORED`
    /// belong to the old directory and are skipped.
    var staleWDs: Set<Int32> = []
    var fileByInode: [InodeKey: TreeNode] = [:]
    var pendingMoves: [UInt32: PendingMove] = [:]
    /// Nodes waiting on a deadline: `.awaitingOpen` or `.settling`. Kept by ``setPhase(_:_:)``;
    /// only removal from the tree drops an entry by hand.
    var timed: [ObjectIdentifier: TreeNode] = [:]
    /// Files held open while their writers write (``holdWhileWriting(_:)``).
    var held: [ObjectIdentifier: TreeNode] = [:]
    /// Directories the agent may not read (EACCES), by path: said once each, looked at again
    /// when their permissions change (``directoryAttributesChanged(_:in:)``).
    var unreadable: [String: TreeNode] = [:]
    /// Directories that could not get a watch because of the watch limit.
    var unwatched: [ObjectIdentifier: TreeNode] = [:]
    var nextUnwatchedRetry: WatchInstant?
    var actors = ActorResolver()
    /// Files recorded lately, oldest first, from ``quietHead`` on (``keepQuietFilesIdle()``).
    var quietFiles: [QuietFile] = []
    var quietHead = 0
    var batch = BatchBuilder()

    // Overflow recovery.
    var rescanDue: WatchInstant?
    var lastRescan: WatchInstant?
    var lastOverflow: WatchInstant?
    var rescanBackoff: Duration = .zero

    /// Watches whose root is missing, with the stored snapshot a returning root is compared
    /// with (``lookAtRoots()``).
    var absentRoots: [Int: [SnapshotRecord]] = [:]
    var nextRootLook: WatchInstant?
    /// Absent roots that appeared inside another watch's tree, warned about once.
    var nestedRootsWarned: Set<Int> = []

    /// How each watch decides that a scan-found file is finished.
    var completionModes: [CompletionMode]

    /// Snapshot records of the watch being scanned at start-up, by relative path.
    var startupRecords = StoredSnapshot()
    /// The start-up scan between its steps; nil before it begins and once it is done.
    var startup: StartupScan?

    /// A `IN_MOVED_FROM` waiting for its `IN_MOVED_TO`; the node is detached meanwhile.
    struct PendingMove {
        var node: TreeNode
        var watch: Int
        var oldPath: String
        var deadline: WatchInstant
    }

    init(configuration: WatcherConfiguration, inotify: InotifyDescriptor, watchedPaths: WatchedPaths,
         timeline: WatchTimeline = WatchTimeline(ContinuousClock()),
         logger: Logger, health: HealthCell, metrics: WatchMetrics) {
        self.configuration = configuration
        self.timeline = timeline
        self.watchedPaths = watchedPaths
        self.watches = configuration.watches
        self.inotify = inotify
        self.logger = logger
        self.health = health
        self.metrics = metrics
        self.rootPaths = Array(repeating: nil, count: configuration.watches.count)
        self.roots = Array(repeating: nil, count: configuration.watches.count)
        self.completionModes = Array(repeating: .stability, count: configuration.watches.count)
    }

    var now: WatchInstant { timeline.now() }

    /// The completion rules with this engine's windows.
    var rules: CompletionRules {
        CompletionRules(scanSettle: configuration.scanSettle, linkTimeout: configuration.linkTimeout)
    }

    // MARK: Paths

    func absolutePath(_ node: TreeNode) -> String? {
        guard let root = node.root, let index = root.rootOfWatch, let base = rootPaths[index],
              let relative = node.relativePath
        else { return nil }
        return relative.isEmpty ? base : base + "/" + relative
    }

    func watchIndex(of node: TreeNode) -> Int? { node.root?.rootOfWatch }

    static func join(_ parent: String, _ name: String) -> String {
        parent.isEmpty ? name : parent + "/" + name
    }

    // MARK: Emitting

    func emit(_ kind: FileEvent.Kind, watch: Int, path: String, isDirectory: Bool, size: Int64?, uid: UInt32, foundByScan: Bool,
              previousPath: String? = nil, partOfRename: Bool = false, sha256: String? = nil) {
        let configuration = watches[watch]
        let event = FileEvent(
            id: newEventID(),
            kind: kind,
            watch: configuration.name,
            path: path,
            isDirectory: isDirectory,
            size: size,
            actor: actors.actor(rule: configuration.actor, relativePath: path, uid: uid),
            occurredAtMillis: WallClock.nanoseconds() / 1_000_000,
            foundByScan: foundByScan,
            previousPath: previousPath,
            partOfRename: partOfRename,
            sha256: sha256)
        batch.append(event)
        metrics.events.increment()
    }

    func record(_ node: TreeNode, watch: Int, path: String) {
        node.recorded = true
        batch.upsert(SnapshotRecord(
            watch: watches[watch].name, path: path, isDirectory: node.isDirectory,
            inode: node.status.inode, size: node.status.size, mtimeNanos: node.status.mtimeNanos))
    }

    /// Reports a node as created (a finished file, a new directory or symlink) and records it.
    func report(_ node: TreeNode, foundByScan: Bool, partOfRename: Bool = false) {
        guard let watch = watchIndex(of: node), let path = node.relativePath else { return }
        setPhase(node, .idle)
        let checksum = node.kind == .file ? watches[watch].checksumLimit.flatMap { limit in
            absolutePath(node).flatMap { FileChecksum.sha256(path: $0, expected: node.status, limit: limit) }
        } : nil
        emit(.created, watch: watch, path: path, isDirectory: node.isDirectory,
             size: node.kind == .file ? node.status.size : nil, uid: node.status.uid, foundByScan: foundByScan,
             partOfRename: partOfRename, sha256: checksum)
        record(node, watch: watch, path: path)
        noteQuiet(node)
    }

    /// Moves a node to `phase` and keeps ``timed`` in step: a node is checked by ``tick()``
    /// exactly while its phase has a deadline.
    func setPhase(_ node: TreeNode, _ phase: TreeNode.Phase) {
        node.phase = phase
        timed[ObjectIdentifier(node)] = phase.hasDeadline ? node : nil
    }

    func register(_ node: TreeNode) {
        guard node.kind == .file, node.statusKnown else { return }
        fileByInode[node.status.inodeKey] = node
    }

    // MARK: Watches

    /// Adds the watch of a directory node. False when the directory is already gone.
    @discardableResult
    func addWatch(_ node: TreeNode, path: String) -> Bool {
        switch inotify.addDirectoryWatch(path: path) {
        case .success(let wd):
            if let existing = nodeByWD[wd], existing !== node {
                // The same directory under a new name, found before its move records were read.
                existing.wd = -1
            }
            if retiredWDs.contains(wd) { staleWDs.insert(wd) }
            nodeByWD[wd] = node
            node.wd = wd
            watchedPaths.set(wd, path)
            if unwatched.removeValue(forKey: ObjectIdentifier(node)) != nil { updateWatchHealth() }
            return true
        case .failure(let error) where error.code == ENOSPC:
            noteWatchLimit(node, path: path)
            return true
        case .failure(let error) where error.code == ENOENT || error.code == ENOTDIR || error.code == ELOOP:
            return false
        case .failure(let error) where error.code == EACCES || error.code == EPERM:
            noteUnreadable(node, path: path, error)
            return true
        case .failure(let error):
            logger.error("cannot watch directory \(path): \(error); files under it are reported only by rescans")
            unwatched[ObjectIdentifier(node)] = node
            updateWatchHealth()
            return true
        }
    }

    func noteWatchLimit(_ node: TreeNode, path: String) {
        let first = unwatched.isEmpty
        unwatched[ObjectIdentifier(node)] = node
        if nextUnwatchedRetry == nil { nextUnwatchedRetry = now + configuration.unwatchedRetryInterval }
        updateWatchHealth()
        if first {
            let limit = WatchPreflight.maxUserWatches() ?? 0
            logger.error("""
                inotify watch limit reached at \(path): fs.inotify.max_user_watches is \(limit), \
                at least \(nodeByWD.count + unwatched.count) needed; raise it \
                (sysctl fs.inotify.max_user_watches=\(max(limit * 2, (nodeByWD.count + unwatched.count) * 2))); \
                directories without a watch are rescanned every \(configuration.unwatchedRetryInterval)
                """)
        }
    }

    func updateWatchHealth() {
        let watched = nodeByWD.count
        let missing = unwatched.count
        health.update {
            $0.watchedDirectories = watched
            $0.unwatchedDirectories = missing
            $0.watchesNeeded = watched + missing
            if missing > 0 { $0.watchLimitReached = true }
            if $0.maxUserWatches == nil { $0.maxUserWatches = WatchPreflight.maxUserWatches() }
        }
        metrics.watchedDirectories.record(watched)
        metrics.unwatchedDirectories.record(missing)
        metrics.watchLimitReached.record(missing > 0 ? 1 : 0)
    }

    /// Drops the watch of a directory node; `remove` also asks the kernel (for a directory that
    /// still exists, e.g. moved out of the tree).
    func dropWatch(_ node: TreeNode, remove: Bool) {
        unwatched[ObjectIdentifier(node)] = nil
        guard node.wd >= 0 else { return }
        let wd = node.wd
        node.wd = -1
        guard nodeByWD[wd] === node else { return }
        nodeByWD[wd] = nil
        watchedPaths.remove(wd)
        retiredWDs.insert(wd)
        if remove { inotify.removeWatch(wd) }
    }

    // MARK: Removing

    /// Why a subtree leaves the tree, which decides what is said and undone.
    enum Removal {
        /// Its `IN_DELETE` was read: the kernel drops the watches itself.
        case deleted
        /// Moved out of the tree, or the watch root was lost: its watches must be removed.
        case movedAway
        /// A scan found it gone, or a different kind of entry in its place: events are `foundByScan`.
        case goneAtScan
        /// Renamed over; when a finished file replaced a file, the new file's `created` says it
        /// all and the old one gets no `deleted` (`silently`).
        case replaced(silently: Bool)

        var removesWatches: Bool { if case .deleted = self { false } else { true } }
        var foundByScan: Bool { if case .goneAtScan = self { true } else { false } }
        var silentRoot: Bool { if case .replaced(let silently) = self { silently } else { false } }
    }

    /// Removes a node and everything under it: one `deleted` per recorded path, children before
    /// parents; an abandoned client temp file is a `failed` transfer.
    func removeSubtree(_ node: TreeNode, watch: Int, path: String, _ removal: Removal) {
        let (removeWatches, foundByScan, silentRoot) = (removal.removesWatches, removal.foundByScan, removal.silentRoot)
        if node.isDirectory { wakeAll(under: node) }
        let parent = node.parent
        parent?.detach(node)
        var ordered: [(TreeNode, String)] = []
        var stack: [(TreeNode, String)] = [(node, path)]
        while let (current, currentPath) = stack.popLast() {
            ordered.append((current, currentPath))
            for child in current.children.values {
                stack.append((child, Self.join(currentPath, child.name)))
            }
        }
        let rootUID = roots[watch]?.status.uid ?? 0
        for (current, currentPath) in ordered.reversed() {
            let isTop = current === node
            finishLinkOf(current)
            if current.recorded, !(isTop && silentRoot) {
                emit(.deleted, watch: watch, path: currentPath, isDirectory: current.isDirectory,
                     size: nil, uid: current.statusKnown ? current.status.uid : rootUID, foundByScan: foundByScan)
                batch.remove(watch: watches[watch].name, path: currentPath)
            } else if current.recorded {
                batch.remove(watch: watches[watch].name, path: currentPath)
            } else if current.isDirectory, !current.statusKnown {
                // A directory known only from its records (gone before it was looked at).
                emit(.created, watch: watch, path: currentPath, isDirectory: true, size: nil, uid: rootUID, foundByScan: false)
                emit(.deleted, watch: watch, path: currentPath, isDirectory: true, size: nil, uid: rootUID, foundByScan: foundByScan)
            } else if current.kind == .file, current.transferName.isFinal, current.statusKnown,
                      let seenFoundByScan = current.phase.finishedUnreported {
                // Seen finished on disk, gone before it was reported: say what happened.
                let uid = current.status.uid
                emit(.created, watch: watch, path: currentPath, isDirectory: false,
                     size: current.closedSizeUnknown ? nil : current.status.size, uid: uid, foundByScan: seenFoundByScan)
                emit(.deleted, watch: watch, path: currentPath, isDirectory: false, size: nil,
                     uid: uid, foundByScan: foundByScan)
            } else if current.kind == .file, current.transferName == .clientTemp,
                      isAbandoned(current, parent: isTop ? parent : current.parent) {
                let parentPath = currentPath.split(separator: "/").dropLast().joined(separator: "/")
                let finalName = TransferName.finalName(forTemp: current.name) ?? current.name
                emit(.failed, watch: watch, path: Self.join(parentPath, finalName), isDirectory: false,
                     size: current.statusKnown ? current.status.size : nil,
                     uid: current.statusKnown ? current.status.uid : rootUID, foundByScan: foundByScan)
            }
            current.recorded = false
            releaseHeld(current)
            if current.isDirectory { dropWatch(current, remove: removeWatches) }
            timed[ObjectIdentifier(current)] = nil
            if current.statusKnown, fileByInode[current.status.inodeKey] === current {
                fileByInode[current.status.inodeKey] = nil
            }
        }
        for (current, _) in ordered where current !== node { current.dropChildren() }
        node.dropChildren()
        if !unreadable.isEmpty, node.isDirectory {
            // Gone from the tree: nothing to retry, nothing to count.
            let before = unreadable.count
            unreadable = unreadable.filter { $0.value.root != nil }
            if unreadable.count != before { publishUnreadable() }
        }
        updateWatchHealth()
    }

    /// OpenSSH's plain SFTP rename is `link()` then `unlink()`. When the old name was an idle file
    /// (``IdleFiles``, not in the inode map) and the unlink came before the new name's `lstat`,
    /// the new name waits for a writer like any new file; the old name's removal shows it was a
    /// link of this content, so it is finished now: reported before the old name's delete, as
    /// when the link was seen at once.
    func finishLinkOf(_ removed: TreeNode) {
        guard removed.kind == .file, removed.statusKnown, let linked = fileByInode[removed.status.inodeKey],
              linked !== removed, case .awaitingOpen = linked.phase
        else { return }
        setPhase(linked, .writing)
        complete(linked, foundByScan: false, confirmed: true)
    }

    /// Whether a client temp file that disappeared was abandoned rather than linked or renamed
    /// to its final name.
    func isAbandoned(_ temp: TreeNode, parent: TreeNode?) -> Bool {
        if temp.statusKnown, let other = fileByInode[temp.status.inodeKey], other !== temp { return false }
        if let parent, let finalName = TransferName.finalName(forTemp: temp.name),
           let sibling = child(finalName, of: parent), sibling.kind == .file {
            if temp.statusKnown, sibling.status.inodeKey == temp.status.inodeKey { return false }
            // The temp's inode was never seen (read late): a final name that appeared after it is its rename.
            if !temp.statusKnown, sibling.firstSeen >= temp.firstSeen { return false }
        }
        return true
    }
}

/// A new event id: a time-ordered lowercase UUID (v7).
func newEventID() -> String {
    EventID.timeOrdered()
}

