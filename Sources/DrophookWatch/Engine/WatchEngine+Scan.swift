import DrophookEvents
import Glibc

extension WatchEngine {
    /// What a scan compares the disk with.
    enum ScanMode: Equatable {
        /// A directory that just appeared: everything in it is new.
        case live
        /// Overflow recovery or a retried watch: the disk against the in-memory tree.
        case rescan
        /// Start-up: the disk against the stored snapshot (``startupRecords``); differences are
        /// reported only when `reporting`, otherwise recorded silently.
        case startup(reporting: Bool)
        /// A directory renamed inside the tree: its earlier listing may have failed because of
        /// the rename, so names not known yet are added (as in `.live`); known ones are left to
        /// their own records, except files whose records were already read under the old path
        /// (``TreeNode/Phase/awaitingRename(foundByScan:confirmed:)``): they are looked at again.
        case fill
    }

    // MARK: Start-up

    /// Where the start-up scan stands between two of its steps.
    struct StartupScan {
        /// The stored snapshot of every watch, sorted (``StoredSnapshot/sort(_:)``).
        var sorted: [SnapshotRecord]
        /// Watches not begun yet, next last.
        var watchesLeft: [Int]
        /// The watch being scanned and its directories still to list.
        var watch: Int?
        var work: [TreeNode] = []
        var reporting = false
        /// Whether the watch's stored snapshot was complete: its root's record is written last,
        /// so a first start cut short leaves none and the next start records again, silently,
        /// instead of taking unrecorded files for new ones.
        var complete = false
    }

    /// Watches and scans every root in one go (``beginStartup(snapshot:)`` then every step).
    func start(snapshot: inout [SnapshotRecord]) {
        beginStartup(snapshot: &snapshot)
        while !continueStartup(budget: .max) {}
    }

    /// Resolves and checks every root and prepares the start-up scan, which
    /// ``continueStartup(budget:)`` then runs. Takes `snapshot` over (the caller's copy is
    /// emptied, so only one copy is alive).
    func beginStartup(snapshot: inout [SnapshotRecord]) {
        var sorted: [SnapshotRecord] = []
        swap(&sorted, &snapshot)
        StoredSnapshot.sort(&sorted)
        for (index, watch) in watches.enumerated() {
            guard let path = disk.resolve(root: watch.root) else {
                unavailable(index, "does not exist")
                continue
            }
            roots.resolve(index, path: path)
        }
        WriterProbe.ignoreLeaseBreakSignal()
        var reasons: [Int: String] = [:]
        for index in watches.indices {
            guard let path = roots[index].path else { continue }
            if let warning = disk.remoteWritesWarning(watch: watches[index].name, root: path) {
                logger.warning("\(warning)")
            }
            let support = WatchPreflight.completion(root: path, configuration: configuration, assess: disk.leaseSupport(root:))
            roots.setCompletionMode(index, support.mode)
            if let reason = support.reason {
                reasons[index] = reason
                logger.notice(
                    "watch \(watches[index].name): \(reason); files found by scans wait \(configuration.scanSettle) for stability")
            }
        }
        publishCompletionModes(reasons: reasons)
        startup = StartupScan(sorted: sorted, watchesLeft: watches.indices.reversed())
    }

    /// Scans on until the batch holds `budget` changes or the start-up scan is done; true when
    /// done. Between steps the watcher commits the batch, so a first start over a million files
    /// never holds a million snapshot records at once.
    func continueStartup(budget: Int) -> Bool {
        guard var scan = startup else { return true }
        startup = nil
        if step(&scan, budget: budget) {
            // Done: the sorted snapshot goes with `scan`.
            updateWatchHealth()
            return true
        }
        startup = scan
        return false
    }

    private func step(_ scan: inout StartupScan, budget: Int) -> Bool {
        while true {
            if let index = scan.watch {
                let mode = ScanMode.startup(reporting: scan.reporting)
                reconcile(&scan.work, mode: mode) { batch.changeCount >= budget }
                if !scan.work.isEmpty { return false }
                finishStartup(index, reporting: scan.reporting, complete: scan.complete)
                scan.watch = nil
                continue
            }
            guard let index = scan.watchesLeft.popLast() else { return true }
            let watch = watches[index]
            let stored = StoredSnapshot(scan.sorted, watch: watch.name)
            guard let path = roots[index].path else {
                keepAbsent(index, stored: stored)
                continue
            }
            guard let status = disk.status(of: path), status.kind == .directory else {
                unavailable(index, "is not a directory")
                keepAbsent(index, stored: stored)
                continue
            }
            guard let root = watchRoot(index, path: path, status: status) else {
                unavailable(index, "disappeared while starting")
                keepAbsent(index, stored: stored)
                continue
            }
            startupRecords = stored
            scan.complete = startupRecords.take("") != nil
            scan.reporting = configuration.catchUp && scan.complete
            scan.watch = index
            scan.work = [root]
        }
    }

    /// The end of a watch's start-up scan: what the snapshot holds and the disk does not is
    /// gone; the root's record, written last, marks the snapshot complete.
    func finishStartup(_ index: Int, reporting: Bool, complete: Bool) {
        let watch = watches[index]
        // Stored paths not found on disk, children before parents.
        for stored in startupRecords.untaken() {
            if reporting {
                emit(
                    EventDraft(
                        .deleted, path: stored.path, isDirectory: stored.isDirectory, uid: roots[index].node?.status.uid ?? 0,
                        foundByScan: true), watch: index)
            }
            batch.remove(watch: watch.name, path: stored.path)
        }
        startupRecords = StoredSnapshot()
        if !complete, let root = roots[index].node {
            // The root's own record marks the watch as recorded, even when its tree is empty.
            record(root, watch: index, path: "")
            root.recorded = false
        }
    }

    // MARK: Scanning

    /// Walks the disk under a directory node and brings the tree in line with it. Directories
    /// get their watch before they are listed, so entries created meanwhile show up either in
    /// the listing or as records (or both: a known name is never reported twice).
    func reconcile(_ start: TreeNode, mode: ScanMode) {
        var work = [start]
        reconcile(&work, mode: mode) { false }
    }

    /// Lists the directories of `work` (and those found under them) until none is left or
    /// `enough` says to pause after a directory; what is left stays in `work`.
    func reconcile(_ work: inout [TreeNode], mode: ScanMode, until enough: () -> Bool) {
        while !enough(), let directory = work.popLast() {
            guard let directoryPath = absolutePath(directory), let watch = watchIndex(of: directory),
                let directoryRelative = directory.relativePath
            else { continue }
            let entries: [(name: String, status: FileStatus)]
            switch disk.list(directory: directoryPath) {
            case .success(let listed): entries = listed
            case .failure(let error):
                if error.code == EACCES || error.code == EPERM {
                    noteUnreadable(directory, path: directoryPath, error)
                } else if error.code != ENOENT {
                    logger.error("cannot list directory \(directoryPath): \(error); files under it are not reported")
                }
                continue
            }
            var seen = Set<ExactText>()
            seen.reserveCapacity(entries.count)
            for (name, status) in entries {
                seen.insert(ExactText(name))
                let relative = Self.join(directoryRelative, name)
                let path = directoryPath + "/" + name
                if directory[child: name] == nil, let idle = directory.idleFiles.file(named: name),
                    mode == .fill || idle.isUnchanged(status)
                {
                    // Kept idle and unchanged: nothing to do, and no node to make.
                    continue
                }
                if let existing = child(name, of: directory) {
                    if mode == .fill {
                        if existing.kind == .directory, !existing.statusKnown, status.kind == .directory {
                            // Known only from its records: its look failed because of this very
                            // rename. It is new here, like any name the listing finds.
                            existing.status = status
                            existing.statusKnown = true
                            guard existing.wd >= 0 || addWatch(existing, path: path) else { continue }
                            report(existing, foundByScan: true)
                            work.append(existing)
                        } else if existing.kind == .directory, !existing.isBoundary {
                            if existing.wd < 0 { _ = addWatch(existing, path: path) }
                            work.append(existing)
                        } else if case .awaitingRename(let foundByScan, let confirmed) = existing.phase {
                            complete(existing, foundByScan: foundByScan, confirmed: confirmed)
                        }
                        continue
                    }
                    let sameKind = existing.kind == Self.nodeKind(status.kind)
                    if sameKind, existing.kind != .directory || existing.status.inodeKey == status.inodeKey {
                        if let next = reconcileKnown(existing, status: status, path: path, mode: mode) {
                            work.append(next)
                        }
                        continue
                    }
                    removeSubtree(existing, watch: watch, path: relative, .goneAtScan)
                }
                if let next = found(name, status: status, in: directory, watch: watch, relative: relative, path: path, mode: mode) {
                    work.append(next)
                }
            }
            if mode == .fill { continue }
            for (key, child) in directory.children where !seen.contains(key) {
                let name = key.text
                // A file still awaiting its first look (gone before its IN_CREATE was read): keep
                // for the temp rules. A directory known only from records is gone: say so.
                if !child.statusKnown, !child.recorded, !child.isDirectory { continue }
                removeSubtree(child, watch: watch, path: Self.join(directoryRelative, name), .goneAtScan)
            }
            for name in directory.idleFiles.allNames where !seen.contains(ExactText(name)) {
                guard let gone = child(name, of: directory) else { continue }
                removeSubtree(gone, watch: watch, path: Self.join(directoryRelative, name), .goneAtScan)
            }
        }
    }

    static func nodeKind(_ kind: FileStatus.Kind) -> TreeNode.Kind? {
        switch kind {
        case .directory: .directory
        case .file: .file
        case .symlink: .symlink
        case .special: nil
        }
    }

    /// A name a scan found that the tree did not know. Returns a directory to scan next.
    func found(
        _ name: String, status: FileStatus, in directory: TreeNode, watch: Int, relative: String, path: String, mode: ScanMode
    ) -> TreeNode? {
        if case .startup = mode, keptAsStored(name, status: status, in: directory, watch: watch, relative: relative) {
            return nil
        }
        switch status.kind {
        case .special:
            return nil
        case .symlink:
            guard watches[watch].symlinks == .report else { return nil }
            let node = TreeNode(name: name, kind: .symlink, status: status, now: now)
            directory.attach(node)
            foundSettled(node, watch: watch, relative: relative, mode: mode)
            return nil
        case .directory:
            let node = TreeNode(name: name, kind: .directory, status: status, now: now)
            directory.attach(node)
            if let other = roots.watch(rootedAt: path), other != watch {
                node.isBoundary = true
                foundSettled(node, watch: watch, relative: relative, mode: mode)
                return nil
            }
            guard addWatch(node, path: path) else {
                directory.detach(node)
                return nil
            }
            foundSettled(node, watch: watch, relative: relative, mode: mode)
            return node
        case .file:
            let node = TreeNode(name: name, kind: .file, status: status, now: now)
            node.transferName = TransferName.classify(name, ignore: watches[watch].ignore)
            directory.attach(node)
            inodes.register(node)
            if !node.transferName.isFinal {
                setPhase(node, .writing)
                return nil
            }
            foundSettled(node, watch: watch, relative: relative, mode: mode)
            return nil
        }
    }

    /// Reports (or, at a silent start-up, records) a node a scan found.
    func foundSettled(_ node: TreeNode, watch: Int, relative: String, mode: ScanMode) {
        switch mode {
        case .live, .rescan, .fill:
            if node.kind == .file {
                complete(node, foundByScan: true, confirmed: false)
            } else {
                report(node, foundByScan: true)
            }
        case .startup(let reporting):
            let stored = startupRecords.take(relative)
            if let stored, stored.isDirectory == node.isDirectory,
                node.isDirectory
                    || (stored.size == node.status.size && stored.mtimeNanos == node.status.mtimeNanos
                        && stored.inode == node.status.inode)
            {
                node.recorded = true
                return
            }
            guard reporting else {
                record(node, watch: watch, path: relative)
                keepIdle(node)
                return
            }
            if let stored, stored.isDirectory != node.isDirectory {
                emit(
                    EventDraft(.deleted, path: relative, isDirectory: stored.isDirectory, uid: node.status.uid, foundByScan: true),
                    watch: watch)
            }
            if node.kind == .file {
                complete(node, foundByScan: true, confirmed: false)
            } else {
                report(node, foundByScan: true)
            }
        }
    }

    /// At start-up, a file or symlink exactly as the stored snapshot has it goes straight into its
    /// directory's ``IdleFiles``: a restart with a million kept files makes no node for them.
    private func keptAsStored(_ name: String, status: FileStatus, in directory: TreeNode, watch: Int, relative: String) -> Bool {
        switch status.kind {
        case .file: guard TransferName.classify(name, ignore: watches[watch].ignore).isFinal else { return false }
        case .symlink: guard watches[watch].symlinks == .report else { return false }
        case .directory, .special: return false
        }
        let file = IdleFiles.File(status)
        guard directory.statusKnown, status.device == directory.status.device,
            let stored = startupRecords.record(relative), !stored.isDirectory,
            stored.size == file.size, stored.mtimeNanos == file.mtimeNanos, stored.inode == file.inode
        else { return false }
        _ = startupRecords.take(relative)
        directory.idleFiles.keep(name, file)
        return true
    }

    /// A name a scan found that the tree knows. Returns a directory to scan next.
    func reconcileKnown(_ node: TreeNode, status: FileStatus, path: String, mode: ScanMode) -> TreeNode? {
        switch node.kind {
        case .directory:
            node.status = status
            if node.isBoundary { return nil }
            if node.wd < 0 { _ = addWatch(node, path: path) }
            return node
        case .symlink:
            return nil
        case .file:
            if !node.transferName.isFinal {
                node.status = status
                node.statusKnown = true
                inodes.register(node)
                return nil
            }
            if node.recorded, case .idle = node.phase {
                if status.size != node.status.size || status.mtimeNanos != node.status.mtimeNanos
                    || status.inode != node.status.inode
                {
                    complete(node, foundByScan: true, confirmed: false)
                }
                return nil
            }
            if case .settling = node.phase { return nil }
            if case .awaitingRename(let foundByScan, let confirmed) = node.phase {
                complete(node, foundByScan: foundByScan, confirmed: confirmed)
                return nil
            }
            // Awaiting its close: the IN_CLOSE_WRITE may be among the lost records.
            complete(node, foundByScan: true, confirmed: false)
            return nil
        }
    }
}
