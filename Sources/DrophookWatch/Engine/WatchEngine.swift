import DrophookEvents
import Glibc
import Logging

/// The watcher's state machine: turns raw inotify records and scans into file events and the
/// snapshot changes that record them. Owned by ``WatchDriver`` and used on its thread only.
///
/// Its state lives in parts that each keep their own invariant: the watch descriptors
/// (``WatchDescriptors``), the roots (``WatchRoots``), the deadlines (``Deadlines``), the inode
/// index (``InodeIndex``), the held files (``HeldFiles``), the checksums in flight
/// (``ChecksumsInFlight``), the start-up scan (``StartupScan``); what it says goes into
/// ``batch``. The rules that decide when a file is finished are ``CompletionRules``.
final class WatchEngine {
    let configuration: WatcherConfiguration
    let watches: [WatchConfiguration]
    /// Where every look, listing, probe and watch goes: the machine, or a test's tree in memory.
    let disk: any DropTreeDisk
    var logger: Logger
    let health: HealthCell
    let metrics: WatchMetrics
    let timeline: WatchTimeline

    var roots: WatchRoots
    var descriptors: WatchDescriptors
    var inodes = InodeIndex()
    var deadlines = Deadlines()
    var held = HeldFiles()
    /// Files whose `created` waits for its checksum (``ChecksumsInFlight``).
    var checksums = ChecksumsInFlight()
    /// Reads checksums off this thread; nil for an engine a test drives, which hashes inline.
    var checksumReader: ChecksumReader?
    var pendingMoves: [UInt32: PendingMove] = [:]
    /// Directories the agent may not read (EACCES), by path: said once each, looked at again
    /// when their permissions change (``directoryAttributesChanged(_:in:)``).
    var unreadable: [String: TreeNode] = [:]
    var unwatched: UnwatchedDirectories
    var actors = ActorResolver()
    /// Files recorded lately, oldest first, from ``quietHead`` on (``keepQuietFilesIdle()``).
    var quietFiles: [QuietFile] = []
    var quietHead = 0
    var batch = BatchBuilder()

    var rescans: RescanSchedule

    /// When missing roots are looked for next, and watched roots checked (``lookAtRoots()``).
    var nextRootLook: WatchInstant?

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

    init(
        configuration: WatcherConfiguration, disk: any DropTreeDisk, watchedPaths: WatchedPaths,
        timeline: WatchTimeline = WatchTimeline(ContinuousClock()),
        logger: Logger, health: HealthCell, metrics: WatchMetrics
    ) {
        self.configuration = configuration
        self.timeline = timeline
        self.watches = configuration.watches
        self.disk = disk
        self.logger = logger
        self.health = health
        self.metrics = metrics
        self.roots = WatchRoots(configuration.watches)
        self.descriptors = WatchDescriptors(paths: watchedPaths)
        self.unwatched = UnwatchedDirectories(retryInterval: configuration.unwatchedRetryInterval)
        self.rescans = RescanSchedule(maxBackoff: configuration.maxRescanBackoff)
    }

    var now: WatchInstant { timeline.now() }

    /// The watcher stops: held descriptors are closed and checksums in flight forgotten (their
    /// files were never committed, so the next start reports them).
    func stop() {
        held.releaseAll()
        checksums.removeAll()
    }

    /// The completion rules with this engine's windows.
    var rules: CompletionRules {
        CompletionRules(scanSettle: configuration.scanSettle, linkTimeout: configuration.linkTimeout)
    }

    // MARK: Paths

    func absolutePath(_ node: TreeNode) -> String? {
        guard let root = node.root, let index = root.rootOfWatch, let base = roots[index].path,
            let relative = node.relativePath
        else { return nil }
        return relative.isEmpty ? base : base + "/" + relative
    }

    func watchIndex(of node: TreeNode) -> Int? { node.root?.rootOfWatch }

    static func join(_ parent: String, _ name: String) -> String {
        parent.isEmpty ? name : parent + "/" + name
    }

    // MARK: Emitting

    /// Turns a draft into the event sent: the id, the actor and the time are filled in here.
    func event(_ draft: EventDraft, watch: Int) -> FileEvent {
        let configuration = watches[watch]
        return FileEvent(
            id: newEventID(),
            kind: draft.kind,
            watch: configuration.name,
            path: draft.path,
            isDirectory: draft.isDirectory,
            size: draft.size,
            actor: actors.actor(rule: configuration.actor, relativePath: draft.path, uid: draft.uid),
            occurredAtMillis: WallClock.nanoseconds() / 1_000_000,
            foundByScan: draft.foundByScan,
            previousPath: draft.previousPath,
            partOfRename: draft.partOfRename,
            sha256: nil)
    }

    /// Adds an event to the batch.
    func emit(_ draft: EventDraft, watch: Int) {
        append(event(draft, watch: watch))
    }

    func append(_ event: FileEvent) {
        batch.append(event)
        metrics.events.increment()
    }

    /// The snapshot record of `node` at `path` as it stands.
    func snapshotRecord(of node: TreeNode, watch: Int, path: String) -> SnapshotRecord {
        SnapshotRecord(
            watch: watches[watch].name, path: path, isDirectory: node.isDirectory,
            inode: node.status.inode, size: node.status.size, mtimeNanos: node.status.mtimeNanos)
    }

    func record(_ node: TreeNode, watch: Int, path: String) {
        settleChecksum(of: node)
        node.recorded = true
        batch.upsert(snapshotRecord(of: node, watch: watch, path: path))
    }

    /// Reports a node as created (a finished file, a new directory or symlink) and records it.
    /// A file whose watch sends checksums is committed once its checksum is read
    /// (``reportWithChecksum(_:watch:path:limit:event:)``).
    func report(_ node: TreeNode, foundByScan: Bool, partOfRename: Bool = false) {
        guard let watch = watchIndex(of: node), let path = node.relativePath else { return }
        settleChecksum(of: node)
        setPhase(node, .idle)
        let created = event(
            EventDraft(
                .created, path: path, isDirectory: node.isDirectory, size: node.kind == .file ? node.status.size : nil,
                uid: node.status.uid, foundByScan: foundByScan, partOfRename: partOfRename), watch: watch)
        if node.kind == .file, let limit = watches[watch].checksumLimit,
            reportWithChecksum(node, watch: watch, path: path, limit: limit, event: created)
        {
            noteQuiet(node)
            return
        }
        appendCreated(created, recording: node, watch: watch, path: path)
        noteQuiet(node)
    }

    /// A `created` event and the record of its node, in the same batch.
    func appendCreated(_ event: FileEvent, recording node: TreeNode, watch: Int, path: String) {
        append(event)
        node.recorded = true
        batch.upsert(snapshotRecord(of: node, watch: watch, path: path))
    }

    /// Moves a node to `phase` (``Deadlines/enter(_:_:)``: checked by ``tick()`` exactly while
    /// its phase has a deadline).
    func setPhase(_ node: TreeNode, _ phase: TreeNode.Phase) {
        deadlines.enter(node, phase)
    }

    // MARK: Watches

    /// Adds the watch of a directory node. False when the directory is already gone.
    @discardableResult
    func addWatch(_ node: TreeNode, path: String) -> Bool {
        switch disk.addDirectoryWatch(path: path) {
        case .success(let wd):
            descriptors.watch(node, wd: wd, path: path)
            if unwatched.remove(node) { updateWatchHealth() }
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
            unwatched.addWithoutRetry(node)
            updateWatchHealth()
            return true
        }
    }

    func noteWatchLimit(_ node: TreeNode, path: String) {
        let first = unwatched.add(node, at: now)
        updateWatchHealth()
        if first {
            let limit = WatchPreflight.maxUserWatches() ?? 0
            logger.error(
                """
                inotify watch limit reached at \(path): fs.inotify.max_user_watches is \(limit), \
                at least \(descriptors.count + unwatched.count) needed; raise it \
                (sysctl fs.inotify.max_user_watches=\(max(limit * 2, (descriptors.count + unwatched.count) * 2))); \
                directories without a watch are rescanned every \(configuration.unwatchedRetryInterval)
                """)
        }
    }

    func updateWatchHealth() {
        let watched = descriptors.count
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
        unwatched.remove(node)
        if let wd = descriptors.release(node), remove { disk.removeWatch(wd) }
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
        let foundByScan = removal.foundByScan
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
        let rootUID = roots[watch].node?.status.uid ?? 0
        for (current, currentPath) in ordered.reversed() {
            let isTop = current === node
            settleChecksum(of: current)
            finishLinkOf(current)
            if current.recorded, !(isTop && removal.silentRoot) {
                emit(
                    EventDraft(
                        .deleted, path: currentPath, isDirectory: current.isDirectory,
                        uid: current.statusKnown ? current.status.uid : rootUID, foundByScan: foundByScan), watch: watch)
                batch.remove(watch: watches[watch].name, path: currentPath)
            } else if current.recorded {
                batch.remove(watch: watches[watch].name, path: currentPath)
            } else if current.isDirectory, !current.statusKnown {
                // A directory known only from its records (gone before it was looked at).
                emit(EventDraft(.created, path: currentPath, isDirectory: true, uid: rootUID, foundByScan: false), watch: watch)
                emit(EventDraft(.deleted, path: currentPath, isDirectory: true, uid: rootUID, foundByScan: foundByScan), watch: watch)
            } else if current.kind == .file, current.transferName.isFinal, current.statusKnown,
                let seenFoundByScan = current.phase.finishedUnreported
            {
                // Seen finished on disk, gone before it was reported: say what happened.
                let uid = current.status.uid
                emit(
                    EventDraft(
                        .created, path: currentPath, isDirectory: false,
                        size: current.closedSizeUnknown ? nil : current.status.size, uid: uid, foundByScan: seenFoundByScan), watch: watch)
                emit(EventDraft(.deleted, path: currentPath, isDirectory: false, uid: uid, foundByScan: foundByScan), watch: watch)
            } else if current.kind == .file, current.transferName == .clientTemp,
                isAbandoned(current, parent: isTop ? parent : current.parent)
            {
                let parentPath = currentPath.split(separator: "/").dropLast().joined(separator: "/")
                let finalName = TransferName.finalName(forTemp: current.name) ?? current.name
                emit(
                    EventDraft(
                        .failed, path: Self.join(parentPath, finalName), isDirectory: false,
                        size: current.statusKnown ? current.status.size : nil,
                        uid: current.statusKnown ? current.status.uid : rootUID, foundByScan: foundByScan), watch: watch)
            }
            current.recorded = false
            held.release(current)
            if current.isDirectory { dropWatch(current, remove: removal.removesWatches) }
            deadlines.remove(current)
            inodes.forget(current)
        }
        for (current, _) in ordered where current !== node { current.dropChildren() }
        node.dropChildren()
        if node.isDirectory { forgetUnreadableGone() }
        updateWatchHealth()
    }

    /// OpenSSH's plain SFTP rename is `link()` then `unlink()`. When the old name was an idle file
    /// (``IdleFiles``, not in the inode map) and the unlink came before the new name's `lstat`,
    /// the new name waits for a writer like any new file; the old name's removal shows it was a
    /// link of this content, so it is finished now: reported before the old name's delete, as
    /// when the link was seen at once.
    func finishLinkOf(_ removed: TreeNode) {
        guard removed.kind == .file, removed.statusKnown, let linked = inodes[removed.status.inodeKey],
            linked !== removed, case .awaitingOpen = linked.phase
        else { return }
        setPhase(linked, .writing)
        complete(linked, foundByScan: false, confirmed: true)
    }

    /// Whether a client temp file that disappeared was abandoned rather than linked or renamed
    /// to its final name.
    func isAbandoned(_ temp: TreeNode, parent: TreeNode?) -> Bool {
        if temp.statusKnown, let other = inodes[temp.status.inodeKey], other !== temp { return false }
        if let parent, let finalName = TransferName.finalName(forTemp: temp.name),
            let sibling = child(finalName, of: parent), sibling.kind == .file
        {
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
