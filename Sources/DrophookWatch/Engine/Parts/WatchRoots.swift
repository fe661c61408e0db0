import DrophookEvents

/// One slot per configured watch, in configuration order: where its root resolves, the root
/// node while it is watched, how the watch decides that a scan-found file is finished, and
/// the stored snapshot kept while the root is missing. One slot instead of parallel arrays,
/// so a root's parts cannot fall out of step.
struct WatchRoots {
    struct Slot {
        let configuration: WatchConfiguration
        /// The resolved absolute path of the root; nil while it is unavailable.
        fileprivate(set) var path: String?
        /// The root node while the root is watched.
        fileprivate(set) var node: TreeNode?
        /// How files a scan found are judged finished (leases where the kernel grants them).
        var completionMode: CompletionMode = .stability
        /// While the root is missing: the stored snapshot a returning root is compared with.
        fileprivate(set) var absentSnapshot: [SnapshotRecord]?
        /// A missing root that appeared inside another watch's tree was warned about.
        fileprivate(set) var nestedWarned = false
    }

    private(set) var slots: [Slot]
    /// Slot index by resolved root path: a directory at one of these paths is that watch's root.
    private var indexByPath: [String: Int] = [:]

    init(_ watches: [WatchConfiguration]) {
        slots = watches.map { Slot(configuration: $0) }
    }

    subscript(index: Int) -> Slot { slots[index] }

    var indices: Range<Int> { slots.indices }

    /// Every root node being watched.
    var watchedNodes: [TreeNode] { slots.compactMap(\.node) }

    /// Watches whose root is missing, in configuration order.
    var absent: [Int] { slots.indices.filter { slots[$0].absentSnapshot != nil } }

    /// The watch whose root is at exactly `path`.
    func watch(rootedAt path: String) -> Int? { indexByPath[path] }

    /// The watched tree that holds `path` (its root or below), if any.
    func watch(owning path: String) -> Int? {
        for (index, slot) in slots.enumerated() {
            guard let root = slot.path, slot.node != nil else { continue }
            if path == root || path.utf8.starts(with: (root == "/" ? root : root + "/").utf8) { return index }
        }
        return nil
    }

    /// The root of watch `index` resolved to `path` (before it is watched).
    mutating func resolve(_ index: Int, path: String) {
        slots[index].path = path
        indexByPath[path] = index
    }

    /// `node` is the watched root of watch `index`, at `path`. A snapshot kept while it was
    /// missing stays until ``takeAbsentSnapshot(_:)``.
    mutating func attach(_ node: TreeNode, to index: Int, path: String) {
        precondition(node.rootOfWatch == index, "a root node knows its watch")
        resolve(index, path: path)
        slots[index].node = node
        slots[index].nestedWarned = false
    }

    /// Watch `index` has no root node; `snapshot` is what a returning root is compared with.
    mutating func markAbsent(_ index: Int, snapshot: [SnapshotRecord]) {
        if let path = slots[index].path, indexByPath[path] == index { indexByPath[path] = nil }
        slots[index].path = nil
        slots[index].node = nil
        slots[index].absentSnapshot = snapshot
    }

    /// Takes the snapshot kept for a missing root (it is being watched again).
    mutating func takeAbsentSnapshot(_ index: Int) -> [SnapshotRecord] {
        defer { slots[index].absentSnapshot = nil }
        return slots[index].absentSnapshot ?? []
    }

    mutating func setCompletionMode(_ index: Int, _ mode: CompletionMode) {
        slots[index].completionMode = mode
    }

    /// True the first time watch `index`'s root is found inside another tree.
    mutating func warnNested(_ index: Int) -> Bool {
        defer { slots[index].nestedWarned = true }
        return !slots[index].nestedWarned
    }
}
