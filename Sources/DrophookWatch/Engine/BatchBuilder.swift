import DrophookEvents

/// Collects the events of the next batch and the snapshot changes that record them. A path
/// changed twice in one batch keeps only its last change, so upserts and removals never conflict.
struct BatchBuilder {
    private(set) var events: [FileEvent] = []
    private var upserts: [SnapshotKey: SnapshotRecord] = [:]
    private var removals: Set<SnapshotKey> = []

    var isEmpty: Bool { events.isEmpty && upserts.isEmpty && removals.isEmpty }

    /// Events and snapshot changes gathered: what committing the batch will write.
    var changeCount: Int { events.count + upserts.count + removals.count }

    mutating func append(_ event: FileEvent) { events.append(event) }

    mutating func upsert(_ record: SnapshotRecord) {
        let key = SnapshotKey(watch: record.watch, path: record.path)
        removals.remove(key)
        upserts[key] = record
    }

    mutating func remove(watch: String, path: String) {
        let key = SnapshotKey(watch: watch, path: path)
        upserts[key] = nil
        removals.insert(key)
    }

    mutating func take() -> WatchBatch {
        defer { self = BatchBuilder() }
        return WatchBatch(
            events: events,
            snapshot: SnapshotDelta(upserts: Array(upserts.values), removals: Array(removals)))
    }
}
