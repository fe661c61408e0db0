import Glibc

/// Read-only descriptors held on files while their writers write, so that a file's final size
/// can still be read when its name is gone before its close is handled (`put` then `rm`).
/// Bounded (``limit``); each descriptor is closed exactly once, by this part.
struct HeldFiles {
    /// Most files held at once: far above the concurrent uploads of an SFTP server, far below
    /// the agent's descriptor limit.
    static let limit = 256

    private var descriptors: [ObjectIdentifier: Int32] = [:]

    var count: Int { descriptors.count }
    var isFull: Bool { descriptors.count >= Self.limit }

    func holds(_ node: TreeNode) -> Bool { descriptors[ObjectIdentifier(node)] != nil }

    /// Keeps `fd` for `node`; closes it instead when `node` holds one already or the bound is reached.
    mutating func hold(_ node: TreeNode, descriptor fd: Int32) {
        guard !holds(node), !isFull else {
            _ = close(fd)
            return
        }
        descriptors[ObjectIdentifier(node)] = fd
    }

    /// The file's status through its descriptor (valid after its last name is gone), read by
    /// `status` (the engine's ``DropTreeDisk``), and the descriptor closed. Nil when none was held.
    mutating func takeStatus(_ node: TreeNode, status: (Int32) -> FileStatus?) -> FileStatus? {
        guard let fd = descriptors.removeValue(forKey: ObjectIdentifier(node)) else { return nil }
        defer { _ = close(fd) }
        return status(fd)
    }

    mutating func release(_ node: TreeNode) {
        guard let fd = descriptors.removeValue(forKey: ObjectIdentifier(node)) else { return }
        _ = close(fd)
    }

    /// Closes every descriptor (the watcher stops).
    mutating func releaseAll() {
        for fd in descriptors.values { _ = close(fd) }
        descriptors = [:]
    }
}
