import DrophookEvents

/// Files reported while their checksum is still being read (``ChecksumReader``): each one's
/// `created` event and snapshot record wait here and are committed together once the checksum
/// is known, so a crash meanwhile leaves the file unrecorded and the next start reports it.
struct ChecksumsInFlight {
    /// Most checksums read at once: each holds a descriptor. A file reported beyond it waits for
    /// the oldest to finish (as if that one were hashed inline).
    static let limit = 32

    struct Entry {
        let node: TreeNode
        /// The `created` that gets the checksum.
        var event: FileEvent
        let record: SnapshotRecord
        /// Events about the same file said meanwhile that belong after it (a rename's own event).
        var followers: [FileEvent] = []
    }

    private var entries: [UInt64: Entry] = [:]
    private var idByNode: [ObjectIdentifier: UInt64] = [:]
    private var lastID: UInt64 = 0

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    /// The oldest checksum still being read.
    var oldest: UInt64? { entries.keys.min() }

    /// Keeps `event` and `record` for `node` until checksum `id` is known; returns that id.
    mutating func add(_ node: TreeNode, event: FileEvent, record: SnapshotRecord) -> UInt64 {
        precondition(idByNode[ObjectIdentifier(node)] == nil, "a file has one checksum in flight at most")
        lastID += 1
        entries[lastID] = Entry(node: node, event: event, record: record)
        idByNode[ObjectIdentifier(node)] = lastID
        return lastID
    }

    /// Queues `event` behind the `created` of checksum `id`.
    mutating func follow(_ id: UInt64, with event: FileEvent) {
        entries[id]?.followers.append(event)
    }

    /// The checksum in flight for `node`, if any.
    func id(of node: TreeNode) -> UInt64? { idByNode[ObjectIdentifier(node)] }

    mutating func take(_ id: UInt64) -> Entry? {
        guard let entry = entries.removeValue(forKey: id) else { return nil }
        idByNode[ObjectIdentifier(entry.node)] = nil
        return entry
    }

    /// Forgets every checksum in flight (the watcher stops; nothing of them was committed).
    mutating func removeAll() {
        entries = [:]
        idByNode = [:]
    }
}

extension WatchEngine {
    /// Reports a finished file whose watch sends checksums: the event waits for the reader
    /// when there is one (the watcher's), or is hashed here (an engine driven by a test).
    /// False when no checksum can be read (the file is no longer the one reported): the
    /// caller reports it without one.
    func reportWithChecksum(_ node: TreeNode, watch: Int, path: String, limit: Int64, event: FileEvent) -> Bool {
        guard let absolute = absolutePath(node) else { return false }
        guard let reader = checksumReader else {
            var event = event
            event.sha256 = FileChecksum.sha256(path: absolute, expected: node.status, limit: limit)
            appendCreated(event, recording: node, watch: watch, path: path)
            return true
        }
        guard let (descriptor, status) = FileChecksum.open(path: absolute, expected: node.status, limit: limit) else {
            return false
        }
        if checksums.count >= ChecksumsInFlight.limit, let oldest = checksums.oldest {
            apply(reader.waitFor(oldest), waitedFor: oldest)
        }
        node.recorded = true
        let id = checksums.add(node, event: event, record: snapshotRecord(of: node, watch: watch, path: path))
        reader.submit(ChecksumReader.Job(id: id, descriptor: descriptor, status: status, limit: limit))
        return true
    }

    /// Before anything else is said about `node` (its delete, rename, a newer version, a
    /// changed mtime): its `created` goes first, so the wait is for its checksum alone.
    func settleChecksum(of node: TreeNode) {
        guard let id = checksums.id(of: node), let reader = checksumReader else { return }
        apply(reader.waitFor(id), waitedFor: id)
    }

    /// Emits `draft`, after the `created` of `node` when that one waits for its checksum.
    func emit(_ draft: EventDraft, watch: Int, after node: TreeNode) {
        let said = event(draft, watch: watch)
        if let id = checksums.id(of: node) {
            checksums.follow(id, with: said)
        } else {
            append(said)
        }
    }

    /// Commits the events whose checksums the reader finished.
    func applyFinishedChecksums() {
        guard !checksums.isEmpty, let reader = checksumReader else { return }
        apply(reader.takeFinished(), waitedFor: nil)
    }

    private func apply(_ finished: [ChecksumReader.Finished], waitedFor: UInt64?) {
        for item in finished {
            guard let entry = checksums.take(item.id) else { continue }
            append(entry, sha256: item.sha256)
            // Passed over while its checksum was read: its quiet period starts now.
            noteQuiet(entry.node)
        }
        // The reader stopped before it was done (the watcher is stopping): reported without one.
        if let waitedFor, let entry = checksums.take(waitedFor) {
            append(entry, sha256: nil)
        }
    }

    /// A waiting `created` with its checksum, its record, then what followed it.
    private func append(_ entry: ChecksumsInFlight.Entry, sha256: String?) {
        var event = entry.event
        event.sha256 = sha256
        append(event)
        batch.upsert(entry.record)
        entry.followers.forEach(append)
    }
}
