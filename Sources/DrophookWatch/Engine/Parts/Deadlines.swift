/// The nodes whose phase has a deadline (`.awaitingOpen`, `.settling`), which each tick looks
/// at. The set follows the phases by construction: ``enter(_:_:)`` is the only way a node's
/// phase changes, and a node leaves early only when it leaves the tree (``remove(_:)``).
struct Deadlines {
    private(set) var nodes: [ObjectIdentifier: TreeNode] = [:]

    var isEmpty: Bool { nodes.isEmpty }

    /// Moves `node` to `phase`, tracked exactly while the phase has a deadline.
    mutating func enter(_ node: TreeNode, _ phase: TreeNode.Phase) {
        node.phase = phase
        nodes[ObjectIdentifier(node)] = phase.hasDeadline ? node : nil
    }

    /// `node` leaves the tree (removed, or forgotten after a scan found it under another name).
    mutating func remove(_ node: TreeNode) {
        nodes[ObjectIdentifier(node)] = nil
    }
}
