import GRDB

/// Manual redelivery (`drophook redeliver`): failed deliveries go back in the queue with the
/// same delivery id and event id, so receivers can still deduplicate.
extension Outbox {
    /// Which failed deliveries to queue again.
    public enum RedeliverySelection: Sendable, Hashable {
        case delivery(id: String)
        /// Every failed delivery of the event (one per endpoint).
        case event(id: String)
        /// Every failed delivery of the endpoint.
        case allFailed(endpoint: String)
        /// Every failed delivery created at or after a time (of one endpoint, or all).
        case failedSince(millis: Int64, endpoint: String?)
    }

    /// Puts the selected failed deliveries back to pending, due now, with a fresh retry budget.
    /// Deliveries that are not failed are left alone. Returns how many were queued again.
    @discardableResult
    public func requeue(_ selection: RedeliverySelection, nowMillis: Int64 = Outbox.nowMillis()) throws -> Int {
        let (condition, selected): (String, StatementArguments) =
            switch selection {
            case .delivery(let id): ("id = ?", [id])
            case .event(let id): ("event_seq = (SELECT seq FROM event WHERE id = ?)", [id])
            case .allFailed(let endpoint): ("endpoint = ?", [endpoint])
            case .failedSince(let millis, nil): ("created_at_ms >= ?", [millis])
            case .failedSince(let millis, let endpoint?): ("created_at_ms >= ? AND endpoint = ?", [millis, endpoint])
            }
        return try pool.write { db in
            // A new round starts at the current attempt count, so the retry schedule applies
            // afresh while attempt numbers keep counting up in the log.
            try db.execute(
                sql: """
                    UPDATE delivery SET state = 'pending', round_start = attempt_count, next_attempt_at_ms = ?, updated_at_ms = ?
                    WHERE state = 'failed' AND \(condition)
                    """,
                // Due now on any clock: this runs in the CLI, not on the agent's schedule clock.
                arguments: [Self.dueNow, nowMillis] + selected
            )
            return db.changesCount
        }
    }
}
