import GRDB

/// Retention of the delivery log.
extension Outbox {
    /// What one prune removed.
    public struct PruneResult: Sendable, Hashable {
        public var deliveries: Int
        public var events: Int
    }

    /// Deletes deliveries delivered before `cutoffMillis` (with their attempts), then events
    /// left with no delivery and stored before the cutoff. Pending, in-flight and failed
    /// deliveries are never touched: they are work still owed or awaiting a decision.
    @discardableResult
    public func prune(olderThan cutoffMillis: Int64) throws -> PruneResult {
        try pool.write { db in
            // Attempts go by ON DELETE CASCADE.
            try db.execute(
                sql: "DELETE FROM delivery WHERE state = 'delivered' AND updated_at_ms < ?",
                arguments: [cutoffMillis]
            )
            let deliveries = db.changesCount
            try db.execute(
                sql: """
                    DELETE FROM event WHERE created_at_ms < ?
                    AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.event_seq = event.seq)
                    """,
                arguments: [cutoffMillis]
            )
            return PruneResult(deliveries: deliveries, events: db.changesCount)
        }
    }
}
