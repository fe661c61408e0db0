/// Renames: an `IN_MOVED_FROM` detaches the node until its `IN_MOVED_TO` (same cookie) says
/// where it went, or the pairing window passes and it counts as moved away.
extension WatchEngine {
    func movedFrom(_ name: String, in directory: TreeNode, cookie: UInt32) {
        guard let node = child(name, of: directory), let watch = watchIndex(of: directory),
            let parentPath = directory.relativePath
        else { return }
        directory.detach(node)
        pendingMoves[cookie] = PendingMove(
            node: node, watch: watch, oldPath: Self.join(parentPath, name),
            deadline: now + configuration.moveCookieTimeout)
    }

    /// A name arrived by rename: the pending move with its cookie (if any) lands here, over
    /// whatever had the name; a name from elsewhere appears as new.
    func movedTo(_ name: String, in directory: TreeNode, cookie: UInt32) {
        let move = pendingMoves.removeValue(forKey: cookie)
        guard let directoryPath = absolutePath(directory), let watch = watchIndex(of: directory),
            let parentPath = directory.relativePath
        else {
            if let move { moveTimedOut(move) }
            return
        }
        let path = directoryPath + "/" + name
        let relativePath = Self.join(parentPath, name)
        if let existing = child(name, of: directory),
            !arrived(over: existing, move: move, name: name, watch: watch, path: path, relativePath: relativePath)
        {
            return
        }
        guard let move, move.watch == watch, move.node.statusKnown || !move.node.isDirectory else {
            // A name from outside the tree, from another watch (gone from that one), or a
            // directory never looked at under its old name: it appears under the new one.
            if let move, move.watch != watch { moveTimedOut(move) }
            if let status = disk.status(of: path) {
                appeared(name, status: status, in: directory, watch: watch, path: path, byRename: true)
            }
            return
        }
        let node = move.node
        node.name = name
        directory.attach(node)
        switch node.kind {
        case .directory:
            renameSubtree(node, watch: watch, from: move.oldPath, to: relativePath)
            repathWatches(under: node)
            reconcile(node, mode: .fill)
        case .symlink:
            renameSubtree(node, watch: watch, from: move.oldPath, to: relativePath)
        case .file:
            fileRenamed(node, watch: watch, from: move.oldPath, to: relativePath, path: path)
        }
    }

    /// A name moved onto `existing`, a name the engine knows. False when nothing is left to do:
    /// a scan found the moved entry at its new name already, or the records repeat what is
    /// known. Otherwise the entry replaced is removed (silently when a finished file replaces a
    /// file: the new file's `created` says it all) and the move goes on.
    private func arrived(
        over existing: TreeNode, move: PendingMove?, name: String, watch: Int, path: String, relativePath: String
    ) -> Bool {
        if let move, existing.kind == move.node.kind {
            // Gone before its first look, the moved node's inode is the one at its new name.
            let movedKey = move.node.statusKnown ? move.node.status.inodeKey : disk.status(of: path)?.inodeKey
            if existing.status.inodeKey == movedKey {
                // A scan already found it at the new name (and reported it, if finished).
                if move.node.kind == .file, !move.node.recorded {
                    // The old name was never reported: it leaves without an event.
                    forget(move.node)
                } else {
                    moveTimedOut(move)
                }
                return false
            }
        }
        if move == nil, let status = disk.status(of: path), status.inodeKey == existing.status.inodeKey {
            return false
        }
        let replacedByFile =
            existing.kind == .file
            && TransferName.classify(name, ignore: watches[watch].ignore).isFinal
            && (move?.node.kind ?? .file) == .file
        removeSubtree(existing, watch: watch, path: relativePath, .replaced(silently: replacedByFile))
        return true
    }

    /// A file renamed inside its watch. A reported file renamed to another final name is a
    /// rename (`deleted` and `created` marked as its parts, then `renamed`); to a temp name, a
    /// delete. A file not reported yet is complete when it reaches its final name from a temp
    /// name, or after its close, or after the look its late records made failed.
    private func fileRenamed(_ node: TreeNode, watch: Int, from oldPath: String, to relativePath: String, path: String) {
        let wasFinal = node.transferName.isFinal
        node.transferName = TransferName.classify(node.name, ignore: watches[watch].ignore)
        guard node.recorded else {
            guard node.transferName.isFinal else { return setPhase(node, .writing) }
            if case .awaitingRename(let foundByScan, let confirmed) = node.phase {
                // Finished while its records were read late: this is the rename it waited for.
                complete(node, foundByScan: foundByScan, confirmed: confirmed)
            } else if !wasFinal || node.closeSeen {
                // A temp name renamed to its final name, or a closed file renamed before
                // it could be looked at: the transfer is complete.
                complete(node, foundByScan: false, confirmed: true)
            }
            return
        }
        settleChecksum(of: node)
        let renamed = node.transferName.isFinal
        emit(
            EventDraft(.deleted, path: oldPath, isDirectory: false, uid: node.status.uid, foundByScan: false, partOfRename: renamed),
            watch: watch)
        batch.remove(watch: watches[watch].name, path: oldPath)
        node.recorded = false
        guard renamed else { return setPhase(node, .writing) }
        if let fresh = disk.status(of: path), fresh.kind == .file { node.status = fresh }
        report(node, foundByScan: false, partOfRename: true)
        // After the new name's `created`, which may wait for its checksum.
        emit(
            EventDraft(
                .renamed, path: relativePath, isDirectory: false, size: node.status.size, uid: node.status.uid, foundByScan: false,
                previousPath: oldPath), watch: watch, after: node)
    }

    /// A directory (or symlink) renamed inside its watch: every recorded path under it is
    /// deleted at the old path and created at the new one. Watches keep working: paths come
    /// from the parent chain.
    func renameSubtree(_ node: TreeNode, watch: Int, from oldPath: String, to newPath: String) {
        guard oldPath != newPath else { return }
        wakeAll(under: node)
        var entries: [(node: TreeNode, suffix: String)] = []
        var stack: [(TreeNode, String)] = [(node, "")]
        while let (current, suffix) = stack.popLast() {
            entries.append((current, suffix))
            for child in current.children.values.sorted(by: { $0.name > $1.name }) {
                stack.append((child, suffix + "/" + child.name))
            }
        }
        let name = watches[watch].name
        for (current, _) in entries { settleChecksum(of: current) }
        for (current, suffix) in entries.reversed() where current.recorded {
            emit(
                EventDraft(
                    .deleted, path: oldPath + suffix, isDirectory: current.isDirectory,
                    uid: current.status.uid, foundByScan: false, partOfRename: true), watch: watch)
            batch.remove(watch: name, path: oldPath + suffix)
        }
        for (current, suffix) in entries where current.recorded {
            let size = current.kind == .file ? current.status.size : nil
            emit(
                EventDraft(
                    .created, path: newPath + suffix, isDirectory: current.isDirectory,
                    size: size, uid: current.status.uid, foundByScan: false, partOfRename: true), watch: watch)
            record(current, watch: watch, path: newPath + suffix)
            noteQuiet(current)
        }
        // Each renamed path once more, as one event, for endpoints that take `file.renamed`.
        for (current, suffix) in entries where current.recorded {
            emit(
                EventDraft(
                    .renamed, path: newPath + suffix, isDirectory: current.isDirectory,
                    size: current.kind == .file ? current.status.size : nil, uid: current.status.uid, foundByScan: false,
                    previousPath: oldPath + suffix), watch: watch)
        }
    }

    /// Drops an unreported file node that a scan already found under its new name.
    func forget(_ node: TreeNode) {
        deadlines.remove(node)
        inodes.forget(node)
        held.release(node)
    }

    /// A renamed directory's watches keep their descriptors; their paths change.
    func repathWatches(under node: TreeNode) {
        var stack = [node]
        while let directory = stack.popLast() {
            if let path = absolutePath(directory) { descriptors.repath(directory, to: path) }
            stack.append(contentsOf: directory.children.values.filter(\.isDirectory))
        }
    }

    /// Moves whose `IN_MOVED_TO` did not come by `now` (every move, when nil: a rescan finds
    /// where things are, since either half of a move may have been lost).
    func timeOutMoves(dueBy now: WatchInstant?) {
        for (cookie, move) in pendingMoves where now.map({ move.deadline <= $0 }) ?? true {
            pendingMoves[cookie] = nil
            moveTimedOut(move)
        }
    }

    /// An `IN_MOVED_FROM` with no `IN_MOVED_TO` in the tree: moved out, i.e. deleted.
    func moveTimedOut(_ move: PendingMove) {
        removeSubtree(move.node, watch: move.watch, path: move.oldPath, .movedAway)
    }
}
