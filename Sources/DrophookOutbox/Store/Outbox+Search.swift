import DrophookEvents
import GRDB

/// What `drophook deliveries` can ask of the delivery log; every filter combines with the others.
public struct DeliverySearch: Sendable {
    public var endpoint: String?
    public var state: DeliveryState?
    /// Deliveries created at or after this time (milliseconds since the epoch).
    public var sinceMillis: Int64?
    /// Deliveries created before this time.
    public var untilMillis: Int64?
    /// Only events whose path (relative to its watch root) matches.
    public var path: PathGlob?
    /// Only events of this watch.
    public var watch: String?
    public var limit: Int

    public init(endpoint: String? = nil, state: DeliveryState? = nil, sinceMillis: Int64? = nil, untilMillis: Int64? = nil,
                path: PathGlob? = nil, watch: String? = nil, limit: Int = 50) {
        self.endpoint = endpoint
        self.state = state
        self.sinceMillis = sinceMillis
        self.untilMillis = untilMillis
        self.path = path
        self.watch = watch
        self.limit = limit
    }
}

extension Outbox {
    /// Deliveries matching a search, newest first. The time window and the simple filters run
    /// in SQL; the path glob on the rows that pass, until `limit` have matched.
    public func searchDeliveries(_ search: DeliverySearch) throws -> [DeliverySummary] {
        var conditions = ["d.created_at_ms >= ?", "d.created_at_ms < ?"]
        var arguments: StatementArguments = [search.sinceMillis ?? 0, search.untilMillis ?? Int64.max]
        if let state = search.state {
            conditions.append("d.state = ?")
            _ = arguments.append(contentsOf: [state.rawValue])
        }
        if let endpoint = search.endpoint {
            conditions.append("d.endpoint = ?")
            _ = arguments.append(contentsOf: [endpoint])
        }
        if let watch = search.watch {
            conditions.append("e.watch = ?")
            _ = arguments.append(contentsOf: [watch])
        }
        let sql = """
            SELECT d.id AS d_id, d.event_seq, d.endpoint, d.state, d.attempt_count, d.next_attempt_at_ms,
                d.last_status, d.last_error, d.created_at_ms, d.updated_at_ms,
                e.id AS e_id, e.kind, e.watch, e.path
            FROM delivery d JOIN event e ON e.seq = d.event_seq
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY d.created_at_ms DESC, d.event_seq DESC
            """
        return try pool.read { db in
            var found: [DeliverySummary] = []
            let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            while found.count < search.limit, let row = try rows.next() {
                let summary = Self.summary(row)
                if let glob = search.path, !glob.matches(summary.path) { continue }
                found.append(summary)
            }
            return found
        }
    }
}
