import DrophookEvents
import GRDB

/// What `drophook deliveries` can ask of the delivery log; every filter combines with the others.
public struct DeliverySearch: Sendable {
    public var endpoint: String?
    public var state: DeliveryState?
    /// Deliveries of events stored at or after this time (milliseconds since the epoch).
    public var sinceMillis: Int64?
    /// Deliveries of events stored before this time.
    public var untilMillis: Int64?
    /// Only events whose path (relative to its watch root) matches.
    public var path: PathGlob?
    /// Only events of this watch.
    public var watch: String?
    public var limit: Int

    public init(
        endpoint: String? = nil, state: DeliveryState? = nil, sinceMillis: Int64? = nil, untilMillis: Int64? = nil,
        path: PathGlob? = nil, watch: String? = nil, limit: Int = 50
    ) {
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
    /// Deliveries matching a search, newest first. The walk goes down the events' age index
    /// (an event's deliveries are made with it, in the same transaction) and stops once `limit`
    /// rows have matched, so the newest page of a million-row log costs a page; the path glob
    /// is applied to the rows the SQL filters pass.
    public func searchDeliveries(_ search: DeliverySearch) throws -> [DeliverySummary] {
        var conditions = ["e.created_at_ms >= ?", "e.created_at_ms < ?"]
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
            SELECT \(Self.summaryColumns)
            FROM event e INDEXED BY event_by_age JOIN delivery d ON d.event_seq = e.seq
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY e.created_at_ms DESC, e.seq DESC
            """
        return try pool.read { db in
            var found: [DeliverySummary] = []
            let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            while found.count < search.limit, let row = try rows.next() {
                // The path alone first: most rows of a narrow search go no further.
                if let glob = search.path, !glob.matches(row["path"]) { continue }
                found.append(Self.summary(row))
            }
            return found
        }
    }
}
