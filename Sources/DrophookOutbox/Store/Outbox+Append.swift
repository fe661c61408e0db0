import DrophookEvents
import GRDB

/// What the watcher and `drophook ping` put in.
extension Outbox {
    /// What one append stored.
    public struct AppendResult: Sendable, Hashable {
        /// Events stored (events already present by id are skipped).
        public var events: Int
        /// Deliveries queued, summed over endpoints.
        public var deliveries: Int
        /// Endpoints that got at least one new delivery: the workers to wake.
        public var endpoints: Set<String>
    }

    /// Stores a watcher batch in one transaction: its events, one pending delivery per
    /// (event, endpoint that `route` names), and its snapshot delta. A crash either keeps all
    /// of it or none, and a burst costs one commit.
    ///
    /// An event whose id is already stored is skipped, so replaying a batch is harmless.
    /// An event without an id or watch fails the whole batch.
    @discardableResult
    public func append(
        _ batch: WatchBatch,
        nowMillis: Int64 = Outbox.nowMillis(),
        route: (FileEvent) -> [String]
    ) throws -> AppendResult {
        let routes = Self.routes(batch, route)
        return try pool.write { db in try Self.appendRows(db, routes, snapshot: batch.snapshot, nowMillis: nowMillis) }
    }

    /// ``append(_:nowMillis:route:)`` through GRDB's async access: the commit (and its fsync)
    /// runs on GRDB's writer, never on a cooperative thread.
    @discardableResult
    public func append(
        _ batch: WatchBatch,
        nowMillis: Int64 = Outbox.nowMillis(),
        route: (FileEvent) -> [String]
    ) async throws -> AppendResult {
        let routes = Self.routes(batch, route)
        let snapshot = batch.snapshot
        return try await pool.write { db in try Self.appendRows(db, routes, snapshot: snapshot, nowMillis: nowMillis) }
    }

    private static func routes(_ batch: WatchBatch, _ route: (FileEvent) -> [String]) -> [(event: FileEvent, endpoints: [String])] {
        batch.events.map { (event: $0, endpoints: Array(Set(route($0))).sorted()) }
    }

    private static func appendRows(
        _ db: Database, _ routes: [(event: FileEvent, endpoints: [String])], snapshot: SnapshotDelta, nowMillis: Int64
    ) throws -> AppendResult {
        var result = AppendResult(events: 0, deliveries: 0, endpoints: [])
        // Due when stored, on the schedule clock (`nowMillis` itself when the clock was not stepped).
        let due = nowMillis + (scheduleMillis() - Outbox.nowMillis())
        do {
            for (event, endpoints) in routes {
                guard !event.id.isEmpty, !event.watch.isEmpty else {
                    // Thrown inside the transaction: nothing of the batch is kept.
                    throw OutboxError(.invalidEvent, "event at \"\(event.path)\" has no id or no watch — the batch was not stored")
                }
                if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM event WHERE id = ?"), arguments: [event.id]) == true {
                    continue
                }
                let seq = try Self.insertEvent(db, event, nowMillis: nowMillis)
                result.events += 1
                for endpoint in endpoints {
                    _ = try Self.insertDelivery(db, eventSeq: seq, endpoint: endpoint, nowMillis: nowMillis, dueMillis: due)
                    result.deliveries += 1
                    result.endpoints.insert(endpoint)
                }
            }
            try Self.apply(snapshot, db)
        }
        return result
    }

    /// Queues one event for one endpoint (a replay or a hand-made event). Returns the delivery id.
    /// If the event is already stored, only the delivery is added (or the existing one returned).
    @discardableResult
    public func enqueue(_ event: FileEvent, endpoint: String, nowMillis: Int64 = Outbox.nowMillis()) throws -> String {
        try pool.write { db in
            let seq =
                try Int64.fetchOne(db, sql: "SELECT seq FROM event WHERE id = ?", arguments: [event.id])
                ?? Self.insertEvent(db, event, nowMillis: nowMillis)
            if let existing = try String.fetchOne(
                db, sql: "SELECT id FROM delivery WHERE event_seq = ? AND endpoint = ?", arguments: [seq, endpoint]
            ) {
                return existing
            }
            return try Self.insertDelivery(db, eventSeq: seq, endpoint: endpoint, nowMillis: nowMillis, dueMillis: Self.dueNow)
        }
    }

    /// Queues a `webhook.ping` for one endpoint (`drophook ping`). It is delivered, retried and
    /// logged like any event. Returns (event id, delivery id).
    @discardableResult
    public func appendPing(endpoint: String, nowMillis: Int64 = Outbox.nowMillis()) throws -> (eventID: String, deliveryID: String) {
        let eventID = Outbox.newID()
        let deliveryID = try pool.write { db in
            try db.executeCached(
                sql: """
                    INSERT INTO event (id, watch, kind, path, is_directory, size, actor, occurred_at_ms, found_by_scan, created_at_ms)
                    VALUES (?, '', ?, '', 0, NULL, '', ?, 0, ?)
                    """,
                arguments: [eventID, Self.pingKind, nowMillis, nowMillis]
            )
            // Written by `drophook ping`, whose clock is not the agent's schedule clock.
            return try Self.insertDelivery(
                db, eventSeq: db.lastInsertedRowID, endpoint: endpoint, nowMillis: nowMillis, dueMillis: Self.dueNow)
        }
        return (eventID, deliveryID)
    }

    /// Reads a stored file event back by id (nil if unknown or a ping).
    public func event(id: String) throws -> FileEvent? {
        try pool.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT \(Self.eventColumns)
                        FROM event WHERE id = ?
                        """, arguments: [id])
            else { return nil }
            if case .file(let event) = try Self.queuedEvent(row) { return event }
            return nil
        }
    }

    /// Every stored file event in global order (tests, export).
    public func events(afterSeq: Int64 = 0, limit: Int = 1000) throws -> [FileEvent] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.eventColumns)
                    FROM event WHERE seq > ? AND kind != ? ORDER BY seq LIMIT ?
                    """, arguments: [afterSeq, Self.pingKind, limit]
            ).compactMap { row in
                if case .file(let event) = try Self.queuedEvent(row) { return event }
                return nil
            }
        }
    }
}
