import DrophookEvents
import GRDB

/// The watcher's record of each tree, for catch-up after a restart.
extension Outbox {
    /// Every stored snapshot record.
    public func loadSnapshot() throws -> [SnapshotRecord] {
        try pool.read(Self.fetchSnapshot)
    }

    /// Every stored snapshot record, read with GRDB's async access: a snapshot of a large tree
    /// takes a while, and must not hold one of the few cooperative threads meanwhile.
    public func loadSnapshot() async throws -> [SnapshotRecord] {
        try await pool.read(Self.fetchSnapshot)
    }

    /// Read row by row through a cursor: fetching every `Row` first and then converting held a
    /// million row objects beside the records, the restart's largest peak for a large tree.
    @Sendable private static func fetchSnapshot(_ db: Database) throws -> [SnapshotRecord] {
        var records: [SnapshotRecord] = []
        if let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM snapshot") { records.reserveCapacity(count) }
        let rows = try Row.fetchCursor(
            db, sql: "SELECT watch, path, is_directory, inode, size, mtime_ns FROM snapshot ORDER BY watch, path")
        while let row = try rows.next() {
            records.append(
                SnapshotRecord(
                    watch: row[0],
                    path: row[1],
                    isDirectory: row[2],
                    inode: UInt64(bitPattern: row[3] as Int64),
                    size: row[4],
                    mtimeNanos: row[5]
                ))
        }
        return records
    }

    /// Applies a delta without events (e.g. a scan that found nothing new to report).
    public func applySnapshot(_ delta: SnapshotDelta) throws {
        guard !delta.isEmpty else { return }
        try pool.write { db in try Self.apply(delta, db) }
    }

    static func apply(_ delta: SnapshotDelta, _ db: Database) throws {
        for key in delta.removals {
            try db.executeCached(sql: "DELETE FROM snapshot WHERE watch = ? AND path = ?", arguments: [key.watch, key.path])
        }
        for record in delta.upserts {
            // inode is a u64; SQLite integers are signed, so it is stored by bit pattern.
            try db.executeCached(
                sql: """
                    INSERT INTO snapshot (watch, path, is_directory, inode, size, mtime_ns) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(watch, path) DO UPDATE SET
                        is_directory = excluded.is_directory, inode = excluded.inode,
                        size = excluded.size, mtime_ns = excluded.mtime_ns
                    """,
                arguments: [
                    record.watch, record.path, record.isDirectory, Int64(bitPattern: record.inode),
                    record.size, record.mtimeNanos,
                ]
            )
        }
    }
}
