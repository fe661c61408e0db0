import Glibc

extension WatchEngine {
    /// Most files held open at once while their writers write (a bound on descriptors, far above
    /// the concurrent uploads of an SFTP server).
    static let maxHeldFiles = 256

    /// A writer opened a new file: keep a read-only descriptor on it until its close is handled,
    /// so that its final size can still be read if the name is already gone by then (`put` then
    /// `rm` before the watcher reads the close). The probe's own `IN_OPEN` arrives while the
    /// node is `.writing`, where it means nothing.
    func holdWhileWriting(_ node: TreeNode) {
        guard node.kind == .file, node.heldDescriptor < 0, held.count < Self.maxHeldFiles,
              let path = absolutePath(node), let (fd, status) = FileStatus.openForStatus(path: path)
        else { return }
        guard !node.statusKnown || status.inodeKey == node.status.inodeKey else {
            _ = close(fd)
            return
        }
        hold(node, descriptor: fd)
    }

    /// Keeps `fd` (a read-only descriptor on the node's file) until the close is handled; closes
    /// it instead when the node holds one already or the bound is reached.
    func hold(_ node: TreeNode, descriptor fd: Int32) {
        guard node.heldDescriptor < 0, held.count < Self.maxHeldFiles else {
            _ = close(fd)
            return
        }
        node.heldDescriptor = fd
        held[ObjectIdentifier(node)] = node
    }

    /// The file's status through its held descriptor (valid even after its last name is gone);
    /// releases the descriptor. Nil when none was held.
    func takeHeldStatus(_ node: TreeNode) -> FileStatus? {
        guard node.heldDescriptor >= 0 else { return nil }
        defer { releaseHeld(node) }
        return FileStatus.of(descriptor: node.heldDescriptor)
    }

    func releaseHeld(_ node: TreeNode) {
        guard node.heldDescriptor >= 0 else { return }
        _ = close(node.heldDescriptor)
        node.heldDescriptor = -1
        held[ObjectIdentifier(node)] = nil
    }

    /// Closes every held descriptor (the watcher stops).
    func releaseAllHeld() {
        for node in Array(held.values) { releaseHeld(node) }
    }
}
