/// Files known as nodes, by inode: how a new name is recognised as content already seen (a
/// second link, a rename read late, a client's temp file renamed to its final name).
///
/// Holds one node per inode; a node leaving the tree takes its entry only if it is the one
/// held (another name of the same file may have taken it over).
struct InodeIndex {
    private var files: [InodeKey: TreeNode] = [:]

    var isEmpty: Bool { files.isEmpty }

    subscript(key: InodeKey) -> TreeNode? { files[key] }

    /// Indexes a file whose inode is known (from an `lstat`), replacing any node held for it.
    mutating func register(_ node: TreeNode) {
        guard node.kind == .file, node.statusKnown else { return }
        files[node.status.inodeKey] = node
    }

    /// Indexes `node` unless another name of its file is held already.
    mutating func registerIfFree(_ node: TreeNode) {
        guard node.kind == .file, node.statusKnown, files[node.status.inodeKey] == nil else { return }
        files[node.status.inodeKey] = node
    }

    /// Drops `node`'s entry when it is the node held for its inode.
    mutating func forget(_ node: TreeNode) {
        guard node.statusKnown, files[node.status.inodeKey] === node else { return }
        files[node.status.inodeKey] = nil
    }
}
