import GRDB

/// Retention of the delivery log.
extension Outbox {
    /// What one prune removed.
    public struct PruneResult: Sendable, Hashable {
        public var deliveries: Int
        public var events: Int
    }

    /// Rows deleted per transaction: a month of log can be large, and one huge delete would hold
    /// the write lock (and the watcher's next commit) for seconds.
    static let pruneChunk = 2000

    /// Deletes deliveries delivered before `cutoffMillis` (with their attempts), then events
    /// left with no delivery and stored before the cutoff. Pending, in-flight and failed
    /// deliveries are never touched: they are work still owed or awaiting a decision.
    @discardableResult
    public func prune(olderThan cutoffMillis: Int64) throws -> PruneResult {
        var result = PruneResult(deliveries: 0, events: 0)
        while true {
            let deleted = try pool.write { db in try Self.pruneDeliveries(db, cutoffMillis) }
            result.deliveries += deleted
            if deleted < Self.pruneChunk { break }
        }
        while true {
            let deleted = try pool.write { db in try Self.pruneEvents(db, cutoffMillis) }
            result.events += deleted
            if deleted < Self.pruneChunk { break }
        }
        return result
    }

    /// ``prune(olderThan:)`` through GRDB's async access, a chunk per transaction.
    @discardableResult
    public func prune(olderThan cutoffMillis: Int64) async throws -> PruneResult {
        var result = PruneResult(deliveries: 0, events: 0)
        while true {
            let deleted = try await pool.write { db in try Self.pruneDeliveries(db, cutoffMillis) }
            result.deliveries += deleted
            if deleted < Self.pruneChunk { break }
        }
        while true {
            let deleted = try await pool.write { db in try Self.pruneEvents(db, cutoffMillis) }
            result.events += deleted
            if deleted < Self.pruneChunk { break }
        }
        return result
    }

    private static func pruneDeliveries(_ db: Database, _ cutoffMillis: Int64) throws -> Int {
        // Attempts go by ON DELETE CASCADE.
        try db.execute(
            sql: """
                DELETE FROM delivery WHERE id IN (
                    SELECT id FROM delivery WHERE state = 'delivered' AND updated_at_ms < ? LIMIT ?)
                """,
            arguments: [cutoffMillis, Self.pruneChunk]
        )
        return db.changesCount
    }

    private static func pruneEvents(_ db: Database, _ cutoffMillis: Int64) throws -> Int {
        try db.execute(
            sql: """
                DELETE FROM event WHERE seq IN (
                    SELECT seq FROM event WHERE created_at_ms < ?
                    AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.event_seq = event.seq) LIMIT ?)
                """,
            arguments: [cutoffMillis, Self.pruneChunk]
        )
        return db.changesCount
    }
}
