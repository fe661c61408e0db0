import DrophookEvents
import Glibc

extension WatchEngine {
    // MARK: Roots that go and come back

    /// Says, once per absence, that a watch's root cannot be watched; health names it until the
    /// root is back.
    func unavailable(_ index: Int, _ reason: String) {
        let watch = watches[index]
        logger.error("watch \(watch.name): root \(watch.root) \(reason); it is watched as soon as it is a directory again")
        health.update { health in
            if !health.unavailableRoots.contains(watch.root) { health.unavailableRoots.append(watch.root) }
        }
    }

    /// A root missing at start-up: its stored snapshot is kept for the moment it appears, and
    /// the watch's root record is written even so. The agent has now run with this watch, so a
    /// later start must report what it finds rather than record it silently as a first start.
    func keepAbsent(_ index: Int, stored: StoredSnapshot) {
        if stored.record("") == nil {
            batch.upsert(SnapshotRecord(watch: watches[index].name, path: "", isDirectory: true, inode: 0, size: 0, mtimeNanos: 0))
        }
        roots.markAbsent(index, snapshot: stored.all)
        scheduleRootLook()
    }

    /// The root of a watch disappeared: everything under it is deleted (its files are no longer
    /// at their paths), and the root is looked for until it is back.
    func rootLost(_ index: Int, reason: String) {
        guard let root = roots[index].node else { return }
        unavailable(index, reason)
        wakeAll(under: root)
        for child in Array(root.children.values) {
            removeSubtree(child, watch: index, path: child.name, .movedAway)
        }
        dropWatch(root, remove: true)
        // What the tree held is deleted from the snapshot with the events above; the root's
        // own record stays, so whatever the directory holds when it is back is new.
        roots.markAbsent(index, snapshot: [])
        updateWatchHealth()
        scheduleRootLook()
    }

    func scheduleRootLook() {
        if nextRootLook == nil { nextRootLook = now + configuration.rootRetryInterval }
    }

    /// Every `rootRetryInterval`: checks that each watched root is still the directory at its
    /// path, then looks for every missing root.
    ///
    /// A file system mounted over a watched root (an NFS export or a disk mounted again after
    /// an unmount) raises no inotify record: the watch stays on the directory it covered, and
    /// without this look every upload to the mount would go unseen. One `stat` per root.
    ///
    /// A missing root that is a directory now is watched and scanned against the snapshot kept
    /// for it: what is new is reported, what the snapshot holds and the disk does not is
    /// deleted, what is unchanged stays quiet.
    func lookAtRoots() {
        nextRootLook = nil
        for index in roots.indices {
            guard let root = roots[index].node, let path = roots[index].path, let status = disk.status(of: path) else { continue }
            if status.kind == .directory, status.inodeKey != root.status.inodeKey {
                rootLost(index, reason: "was covered by another directory (a mount) at \(path)")
            }
        }
        for index in roots.absent {
            guard let path = disk.resolve(root: watches[index].root) else { continue }
            guard let status = disk.status(of: path), status.kind == .directory else { continue }
            if let other = roots.watch(owning: path), other != index {
                if roots.warnNested(index) {
                    logger.warning(
                        """
                        watch \(watches[index].name): root \(watches[index].root) appeared inside watch \
                        \(watches[other].name), which reports it; restart the agent to give it its own watch
                        """)
                }
                continue
            }
            adopt(index, path: path, status: status)
        }
        scheduleRootLook()
    }

    /// Makes the root node of watch `index` for the directory at `path` and watches it; nil
    /// when the directory went away before its watch. The one way a root comes to be watched:
    /// at start-up and when a missing root returns.
    func watchRoot(_ index: Int, path: String, status: FileStatus) -> TreeNode? {
        let root = TreeNode(name: "", kind: .directory, status: status, now: now)
        root.rootOfWatch = index
        guard addWatch(root, path: path) else { return nil }
        roots.attach(root, to: index, path: path)
        return root
    }

    private func adopt(_ index: Int, path: String, status: FileStatus) {
        let watch = watches[index]
        guard let root = watchRoot(index, path: path, status: status) else { return }
        let support = WatchPreflight.completion(root: path, configuration: configuration, assess: disk.leaseSupport(root:))
        roots.setCompletionMode(index, support.mode)
        publishCompletionModes(reasons: support.reason.map { [index: $0] } ?? [:])
        startupRecords = StoredSnapshot(roots.takeAbsentSnapshot(index), watch: watch.name)
        _ = startupRecords.take("")
        // The agent was running while this tree filled: everything not in its snapshot is news.
        reconcile(root, mode: .startup(reporting: true))
        finishStartup(index, reporting: true, complete: false)
        health.update { $0.unavailableRoots.removeAll { $0 == watch.root } }
        updateWatchHealth()
        logger.notice("watch \(watch.name): root \(watch.root) is a directory again; watching it")
    }
}
