import Glibc

/// Which directory each inotify watch descriptor watches, and the descriptors given up whose
/// records are still on their way. Keeps the reader's path table (``WatchedPaths``) and each
/// node's ``TreeNode/wd`` in step with it; nothing else writes either.
///
/// Why retired descriptors are kept: the kernel hands a number out again once its
/// `IN_IGNORED` is queued, so records read after a new `inotify_add_watch` may still belong to
/// the directory that had the number before. They are skipped until that `IN_IGNORED` is read.
struct WatchDescriptors {
    /// The directory node of each live descriptor.
    private(set) var nodes: [Int32: TreeNode] = [:]
    /// Given up by the engine; their `IN_IGNORED` not read yet.
    private var retired: Set<Int32> = []
    /// Retired numbers the kernel handed out again: their records up to the old `IN_IGNORED`
    /// belong to the old directory.
    private var stale: Set<Int32> = []
    /// The reader's copy of each descriptor's path (``WatchedPaths``).
    let paths: WatchedPaths

    init(paths: WatchedPaths) { self.paths = paths }

    var count: Int { nodes.count }

    subscript(wd: Int32) -> TreeNode? { nodes[wd] }

    /// `inotify_add_watch` returned `wd` for `node` at `path`. A node that had the number (the
    /// same directory under another name, found before its move records) loses it.
    mutating func watch(_ node: TreeNode, wd: Int32, path: String) {
        if let existing = nodes[wd], existing !== node { existing.wd = -1 }
        if retired.contains(wd) { stale.insert(wd) }
        nodes[wd] = node
        node.wd = wd
        paths.set(wd, path)
    }

    /// Whether `record` belongs to a directory given up whose number is in use again (skip it);
    /// its `IN_IGNORED` ends the skipping.
    mutating func isStale(_ record: InotifyEvent) -> Bool {
        guard stale.contains(record.wd) else { return false }
        if record.has(IN_IGNORED) {
            stale.remove(record.wd)
            retired.remove(record.wd)
        }
        return true
    }

    /// The kernel dropped `wd` (`IN_IGNORED`): the node it watched, nil when the engine had
    /// given the watch up already.
    mutating func ignored(_ wd: Int32) -> TreeNode? {
        paths.remove(wd)
        if retired.remove(wd) != nil { return nil }
        guard let node = nodes.removeValue(forKey: wd) else { return nil }
        node.wd = -1
        return node
    }

    /// Gives up `node`'s watch. Returns its descriptor when `node` held it, so the caller can
    /// ask the kernel to drop it (a directory still on disk); nil when there was none.
    mutating func release(_ node: TreeNode) -> Int32? {
        guard node.wd >= 0 else { return nil }
        let wd = node.wd
        node.wd = -1
        guard nodes[wd] === node else { return nil }
        nodes[wd] = nil
        paths.remove(wd)
        retired.insert(wd)
        return wd
    }

    /// A renamed directory keeps its descriptor; the reader learns its new path.
    func repath(_ node: TreeNode, to path: String) {
        if node.wd >= 0 { paths.set(node.wd, path) }
    }
}
