import Glibc

extension WatchEngine {
    /// A writer opened a new file: keep a read-only descriptor on it until its close is handled
    /// (``HeldFiles``), so that its final size can still be read if the name is already gone by
    /// then (`put` then `rm` before the watcher reads the close). The probe's own `IN_OPEN`
    /// arrives while the node is `.writing`, where it means nothing.
    func holdWhileWriting(_ node: TreeNode) {
        guard node.kind == .file, !held.holds(node), !held.isFull,
            let path = absolutePath(node), let (fd, status) = disk.openForStatus(path: path)
        else { return }
        guard !node.statusKnown || status.inodeKey == node.status.inodeKey else {
            _ = close(fd)
            return
        }
        held.hold(node, descriptor: fd)
    }
}
