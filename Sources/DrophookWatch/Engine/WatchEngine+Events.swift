import Glibc

extension WatchEngine {
    /// Applies one inotify record.
    func handle(_ event: InotifyEvent) {
        if event.has(IN_Q_OVERFLOW) {
            noteOverflow(atMemoryBound: event.wd == RawEventQueue.boundWD)
            return
        }
        if descriptors.isStale(event) { return }
        if event.has(IN_IGNORED) {
            watchIgnored(event.wd)
            return
        }
        guard let directory = descriptors[event.wd], !directory.isBoundary else { return }
        guard let name = event.name else {
            if event.has(IN_MOVE_SELF), let index = directory.rootOfWatch {
                rootLost(index, reason: "was moved or renamed")
            }
            return
        }
        // Records for a directory detached by a pending move are covered by the move itself.
        guard directory.root != nil else { return }
        if event.has(IN_CREATE) {
            created(name, in: directory, isDirectory: event.has(IN_ISDIR))
        } else if event.has(IN_MOVED_FROM) {
            movedFrom(name, in: directory, cookie: event.cookie)
        } else if event.has(IN_MOVED_TO) {
            movedTo(name, in: directory, cookie: event.cookie)
        } else if event.has(IN_DELETE) {
            deleted(name, in: directory)
        } else if event.has(IN_OPEN) {
            if !event.has(IN_ISDIR) { opened(name, in: directory) }
        } else if event.has(IN_CLOSE_WRITE) {
            closedWrite(name, in: directory)
        } else if event.has(IN_ATTRIB) {
            if event.has(IN_ISDIR) {
                directoryAttributesChanged(name, in: directory)
            } else {
                attributesChanged(name, in: directory)
            }
        }
    }

    /// `put -p`, WinSCP and others set the mtime after the file was reported: the snapshot
    /// follows silently, so a restart does not mistake the file for a changed one.
    func attributesChanged(_ name: String, in directory: TreeNode) {
        guard let node = child(name, of: directory), node.kind == .file, node.recorded, case .idle = node.phase,
            let watch = watchIndex(of: directory), let path = absolutePath(node),
            let fresh = disk.status(of: path), fresh.kind == .file,
            fresh.inodeKey == node.status.inodeKey, fresh.size == node.status.size,
            fresh.mtimeNanos != node.status.mtimeNanos, let relative = node.relativePath
        else { return }
        node.status = fresh
        record(node, watch: watch, path: relative)
    }

    func watchIgnored(_ wd: Int32) {
        guard let node = descriptors.ignored(wd) else { return }
        updateWatchHealth()
        if let index = node.rootOfWatch {
            rootLost(index, reason: "was removed")
        }
        // Any other directory: its parent's IN_DELETE (or move) removes the node.
    }

    func created(_ name: String, in directory: TreeNode, isDirectory: Bool = false) {
        // Already known: a scan of a new directory found it first.
        if directory[child: name] != nil || directory.idleFiles.contains(name) { return }
        guard let directoryPath = absolutePath(directory), let watch = watchIndex(of: directory) else { return }
        let path = directoryPath + "/" + name
        guard let status = disk.status(of: path) else {
            if isDirectory {
                // Created and gone before it was looked at: its own records prove it existed,
                // and its delete (or move) says what became of it.
                directory.attach(TreeNode(name: name, kind: .directory, status: .unknown, statusKnown: false, now: now))
                return
            }
            // Gone already. A temp file is still tracked so that a later final name can be told
            // apart from an abandoned upload.
            if TransferName.classify(name, ignore: watches[watch].ignore) == .clientTemp {
                let node = TreeNode(name: name, kind: .file, status: .unknown, statusKnown: false, now: now)
                node.transferName = .clientTemp
                setPhase(node, .writing)
                directory.attach(node)
            }
            return
        }
        appeared(name, status: status, in: directory, watch: watch, path: path, byRename: false)
    }

    /// A name appeared by create, link or move-in (not a scan).
    func appeared(_ name: String, status: FileStatus, in directory: TreeNode, watch: Int, path: String, byRename: Bool) {
        switch status.kind {
        case .special:
            return
        case .symlink:
            guard watches[watch].symlinks == .report else { return }
            let node = TreeNode(name: name, kind: .symlink, status: status, now: now)
            directory.attach(node)
            report(node, foundByScan: false)
        case .directory:
            addDirectory(name, status: status, in: directory, path: path)
        case .file:
            let node = TreeNode(name: name, kind: .file, status: status, now: now)
            node.transferName = TransferName.classify(name, ignore: watches[watch].ignore)
            let linked = status.linkCount > 1 || inodes[status.inodeKey] != nil
            directory.attach(node)
            inodes.register(node)
            switch rules.appeared(transferName: node.transferName, byRename: byRename, linked: linked, now: now) {
            case .track(let phase), .waitForWriter(let phase):
                setPhase(node, phase)
            case .finished:
                complete(node, foundByScan: false, confirmed: true)
            }
        }
    }

    /// A directory appeared live: watch it first, report it, then scan it so nothing created
    /// before the watch existed is missed.
    func addDirectory(_ name: String, status: FileStatus, in parent: TreeNode, path: String) {
        let node = TreeNode(name: name, kind: .directory, status: status, now: now)
        parent.attach(node)
        if let other = roots.watch(rootedAt: path), other != watchIndex(of: parent) {
            node.isBoundary = true
            report(node, foundByScan: false)
            return
        }
        guard addWatch(node, path: path) else {
            // Gone between its lstat and its watch: known from its records only, like a
            // directory gone before its lstat (its delete or move says what became of it).
            node.statusKnown = false
            return
        }
        report(node, foundByScan: false)
        reconcile(node, mode: .live)
        updateWatchHealth()
    }

    func opened(_ name: String, in directory: TreeNode) {
        // An idle file's opening means nothing (its close decides): it is not woken, so readers
        // downloading old files cost no node.
        guard let node = directory[child: name], let phase = rules.opened(node.phase) else { return }
        setPhase(node, phase)
        holdWhileWriting(node)
    }

    func closedWrite(_ name: String, in directory: TreeNode) {
        guard let directoryPath = absolutePath(directory), let watch = watchIndex(of: directory) else { return }
        let path = directoryPath + "/" + name
        guard let node = child(name, of: directory) else {
            // Created before its directory had a watch, or gone when its IN_CREATE was read.
            if let status = disk.status(of: path), status.kind == .file {
                appeared(name, status: status, in: directory, watch: watch, path: path, byRename: true)
            }
            return
        }
        guard node.kind == .file else { return }
        if !node.transferName.isFinal {
            if let fresh = disk.status(of: path), fresh.kind == .file {
                node.status = fresh
                node.statusKnown = true
                inodes.register(node)
            }
            return
        }
        node.closeSeen = true
        let fresh = rules.looksAtClose(node.phase, recorded: node.recorded) ? disk.status(of: path) : nil
        switch rules.closedWrite(node.phase, recorded: node.recorded, known: node.status, fresh: fresh) {
        case .finished(let foundByScan):
            complete(node, foundByScan: foundByScan, confirmed: true)
        case .unchanged:
            break
        }
    }

    func deleted(_ name: String, in directory: TreeNode) {
        guard let node = child(name, of: directory), let watch = watchIndex(of: directory),
            let parentPath = directory.relativePath
        else { return }
        removeSubtree(node, watch: watch, path: Self.join(parentPath, name), .deleted)
    }
}
