/// Files that were reported and stay untouched leave the tree of nodes for their directory's
/// compact ``IdleFiles``, so memory follows what is happening, not how many files partners
/// leave behind. Any record that needs one of them as a node wakes it first.
extension WatchEngine {
    /// A reported (or recorded) file or symlink, to be kept compact once it has been quiet for
    /// ``WatcherConfiguration/idleFileCompaction``.
    struct QuietFile {
        let node: TreeNode
        let since: WatchInstant
    }

    /// The child called `name`, woken into a node when it was kept idle.
    func child(_ name: String, of directory: TreeNode) -> TreeNode? {
        if let node = directory[child: name] { return node }
        guard let file = directory.idleFiles.take(name) else { return nil }
        let node = wake(name, file, in: directory)
        noteQuiet(node)
        return node
    }

    /// Wakes every idle file under `top` (a subtree about to be removed or renamed as a whole).
    func wakeAll(under top: TreeNode) {
        var stack = [top]
        while let directory = stack.popLast() {
            for (name, file) in directory.idleFiles.takeAll() { _ = wake(name, file, in: directory) }
            stack.append(contentsOf: directory.children.values.filter(\.isDirectory))
        }
    }

    private func wake(_ name: String, _ file: IdleFiles.File, in directory: TreeNode) -> TreeNode {
        let status = FileStatus(
            kind: file.isSymlink ? .symlink : .file, device: directory.status.device, inode: file.inode,
            size: file.size, mtimeNanos: file.mtimeNanos, uid: file.uid, linkCount: 1)
        // Quiet since before anything the watcher tracks now (``isAbandoned(_:parent:)``).
        let node = TreeNode(name: name, kind: file.isSymlink ? .symlink : .file, status: status, now: .zero)
        node.recorded = true
        directory.attach(node)
        // A new name already linked to this inode keeps its place in the map: its link is found
        // when this name is deleted (``finishLinkOf(_:)``).
        inodes.registerIfFree(node)
        return node
    }

    /// Starts the quiet period of a file or symlink that was just recorded.
    func noteQuiet(_ node: TreeNode) {
        guard node.kind != .directory else { return }
        quietFiles.append(QuietFile(node: node, since: now))
    }

    /// Keeps compact every file whose quiet period ended and that is still as it was recorded.
    func keepQuietFilesIdle() {
        let cutoff = now - configuration.idleFileCompaction
        while quietHead < quietFiles.count, quietFiles[quietHead].since <= cutoff {
            keepIdle(quietFiles[quietHead].node)
            quietHead += 1
        }
        if quietHead == quietFiles.count {
            quietFiles.removeAll(keepingCapacity: quietFiles.count < 4096)
            quietHead = 0
        } else if quietHead > 4096, quietHead * 2 > quietFiles.count {
            quietFiles.removeFirst(quietHead)
            quietHead = 0
        }
    }

    /// Moves a node into its directory's ``IdleFiles`` when nothing about it is pending: recorded,
    /// idle, no descriptor held, attached, on its directory's device. Otherwise leaves it be (a
    /// later record notes it quiet again).
    func keepIdle(_ node: TreeNode) {
        guard node.kind != .directory, node.recorded, case .idle = node.phase, !held.holds(node),
            checksums.id(of: node) == nil,
            node.statusKnown, !node.closedSizeUnknown, node.transferName.isFinal,
            let parent = node.parent, parent[child: node.name] === node,
            parent.statusKnown, node.status.device == parent.status.device
        else { return }
        parent.detach(node)
        inodes.forget(node)
        parent.idleFiles.keep(node.name, IdleFiles.File(node.status))
    }
}

extension IdleFiles.File {
    init(_ status: FileStatus) {
        self.init(
            isSymlink: status.kind == .symlink, inode: status.inode, size: status.size,
            mtimeNanos: status.mtimeNanos, uid: status.uid)
    }

    /// Whether a scan's `status` shows this file as it was kept: same kind, and for a file the
    /// same inode, size and mtime (what ``WatchEngine/reconcileKnown(_:status:path:mode:)``
    /// compares); a symlink is never looked at again.
    func isUnchanged(_ status: FileStatus) -> Bool {
        if isSymlink { return status.kind == .symlink }
        return status.kind == .file && status.inode == inode && status.size == size && status.mtimeNanos == mtimeNanos
    }
}
