/// Directories that have no inotify watch because the watch limit was reached: rescanned,
/// and their watch tried again, every ``WatcherConfiguration/unwatchedRetryInterval``.
struct UnwatchedDirectories {
    private(set) var nodes: [ObjectIdentifier: TreeNode] = [:]
    /// When the next retry is due; nil while nothing waits.
    private(set) var retryDue: WatchInstant?
    let retryInterval: Duration

    init(retryInterval: Duration) { self.retryInterval = retryInterval }

    var count: Int { nodes.count }
    var isEmpty: Bool { nodes.isEmpty }

    /// `node` could not get a watch at `now`. True when it is the first (the limit was just reached).
    mutating func add(_ node: TreeNode, at now: WatchInstant) -> Bool {
        let first = nodes.isEmpty
        nodes[ObjectIdentifier(node)] = node
        if retryDue == nil { retryDue = now + retryInterval }
        return first
    }

    /// A directory that cannot be watched for another reason (an unexpected error): rescanned
    /// with the others, and never retried on its own timer.
    mutating func addWithoutRetry(_ node: TreeNode) {
        nodes[ObjectIdentifier(node)] = node
    }

    /// `node` has a watch now, or left the tree. True when it was waiting.
    @discardableResult
    mutating func remove(_ node: TreeNode) -> Bool {
        nodes.removeValue(forKey: ObjectIdentifier(node)) != nil
    }

    /// The directories to try again when the retry is due at `now`, nil otherwise; the next
    /// retry is scheduled with ``scheduleRetry(at:)`` if some still have no watch.
    mutating func takeDue(at now: WatchInstant) -> [TreeNode]? {
        guard let due = retryDue, due <= now else { return nil }
        retryDue = nil
        return Array(nodes.values)
    }

    mutating func scheduleRetry(at now: WatchInstant) {
        retryDue = now + retryInterval
    }
}
