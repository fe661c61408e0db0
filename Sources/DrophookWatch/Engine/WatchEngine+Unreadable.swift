import Glibc

extension WatchEngine {
    // MARK: Directories the agent may not read

    /// A directory the agent may not read: said once (not at every rescan), counted in the
    /// health, and looked at again when its permissions change.
    func noteUnreadable(_ node: TreeNode, path: String, _ error: WatchErrno) {
        guard unreadable.updateValue(node, forKey: path) == nil else { return }
        logger.error(
            """
            cannot read directory \(path): \(error); what is under it is not reported until the agent may read it \
            (give its user read access, or CAP_DAC_READ_SEARCH); it is tried again when its permissions change
            """)
        publishUnreadable()
    }

    /// A directory's permissions or owner changed: one the agent could not read is tried again,
    /// and what it holds is reported as new.
    func directoryAttributesChanged(_ name: String, in directory: TreeNode) {
        guard !unreadable.isEmpty, let parentPath = absolutePath(directory) else { return }
        let path = parentPath + "/" + name
        guard let node = unreadable[path], node.root != nil else { return }
        guard disk.mayEnter(directory: path) else { return }
        unreadable[path] = nil
        publishUnreadable()
        logger.notice("directory \(path) can be read now; reporting what it holds")
        if node.wd < 0, !addWatch(node, path: path) { return }
        reconcile(node, mode: .live)
    }

    /// Directories that left the tree: nothing to retry, nothing to count.
    func forgetUnreadableGone() {
        guard !unreadable.isEmpty else { return }
        let before = unreadable.count
        unreadable = unreadable.filter { $0.value.root != nil }
        if unreadable.count != before { publishUnreadable() }
    }

    /// Puts the number of unreadable directories into the health and the gauge.
    func publishUnreadable() {
        let count = unreadable.count
        health.update { $0.unreadableDirectories = count }
        metrics.unreadableDirectories.record(count)
    }
}
