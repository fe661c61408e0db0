import DrophookEvents
import Foundation
import GRDB

/// The delivery log, as the CLI and metrics see it.
extension Outbox {
    /// Most recently updated deliveries first, optionally of one endpoint and/or state.
    ///
    /// One short walk of `delivery_by_state_age` per state, newest first, merged: the newest page
    /// costs the same with a million rows in the log.
    public func recentDeliveries(endpoint: String? = nil, state: DeliveryState? = nil, limit: Int = 50) throws -> [DeliverySummary] {
        let states = state.map { [$0] } ?? DeliveryState.allCases
        let sql = Self.recentQuery(endpoint: endpoint != nil)
        return try pool.read { db in
            var page: [DeliverySummary] = []
            for state in states {
                var arguments: StatementArguments = [state.rawValue]
                if let endpoint { _ = arguments.append(contentsOf: [endpoint]) }
                _ = arguments.append(contentsOf: [limit])
                page += try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).map(Self.summary)
            }
            page.sort { ($0.updatedAtMillis, $0.eventSeq) > ($1.updatedAtMillis, $1.eventSeq) }
            return Array(page.prefix(limit))
        }
    }

    /// The columns ``summary(_:)`` reads, from `delivery d` joined with `event e`.
    static let summaryColumns = """
        d.id AS d_id, d.event_seq, d.endpoint, d.state, d.attempt_count, d.next_attempt_at_ms,
        d.last_status, d.last_stream_sequence, d.last_error, d.created_at_ms, d.updated_at_ms, e.id AS e_id, e.kind, e.watch, e.path
        """

    /// The newest deliveries in one state (arguments: state, [endpoint,] limit).
    static func recentQuery(endpoint: Bool) -> String {
        """
        SELECT \(summaryColumns)
        FROM delivery d INDEXED BY delivery_by_state_age JOIN event e ON e.seq = d.event_seq
        WHERE d.state = ? \(endpoint ? "AND d.endpoint = ?" : "")
        ORDER BY d.updated_at_ms DESC, d.event_seq DESC LIMIT ?
        """
    }

    /// One delivery's summary by id.
    public func delivery(id: String) throws -> DeliverySummary? {
        try pool.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT \(Self.summaryColumns)
                    FROM delivery d JOIN event e ON e.seq = d.event_seq WHERE d.id = ?
                    """, arguments: [id]
            ).map(Self.summary)
        }
    }

    /// Every attempt of one delivery, first to last, in full.
    public func attempts(deliveryID: String) throws -> [AttemptRecord] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM attempt WHERE delivery_id = ? ORDER BY number, started_at_ms",
                arguments: [deliveryID]
            ).map(Self.attempt)
        }
    }

    /// Every attempt of one event, over all its endpoints, in the order they were made.
    public func attempts(eventID: String) throws -> [AttemptRecord] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT a.* FROM attempt a JOIN delivery d ON d.id = a.delivery_id JOIN event e ON e.seq = d.event_seq
                    WHERE e.id = ? ORDER BY a.started_at_ms, a.number
                    """, arguments: [eventID]
            ).map(Self.attempt)
        }
    }

    /// Deliveries per endpoint and state, for metrics and `drophook status`.
    ///
    /// Read from `delivery_tally`, which triggers keep in step with the rows, so a status poll
    /// costs the same with a million deliveries owed. Delivered rows are reported only when
    /// asked for (nobody polling the status needs them).
    public func counts(includingDelivered: Bool = false) throws -> [EndpointCounts] {
        try pool.read { db in try Self.fetchCounts(db, includingDelivered: includingDelivered) }
    }

    /// ``counts(includingDelivered:)`` through GRDB's async access.
    public func counts(includingDelivered: Bool = false) async throws -> [EndpointCounts] {
        try await pool.read { db in try Self.fetchCounts(db, includingDelivered: includingDelivered) }
    }

    static func fetchCounts(_ db: Database, includingDelivered: Bool) throws -> [EndpointCounts] {
        do {
            var byEndpoint: [String: EndpointCounts] = [:]
            for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT endpoint, state, n FROM delivery_tally WHERE n > 0")) {
                let name: String = row["endpoint"]
                let count: Int = row["n"]
                let state = DeliveryState(rawValue: row["state"])
                if state == .delivered, !includingDelivered { continue }
                var counts = byEndpoint[name] ?? EndpointCounts(endpoint: name)
                switch state {
                case .pending: counts.pending = count
                case .delivering: counts.delivering = count
                case .delivered: counts.delivered = count
                case .failed: counts.failed = count
                case nil: break
                }
                byEndpoint[name] = counts
            }
            return byEndpoint.values.sorted { $0.endpoint < $1.endpoint }
        }
    }

    /// Deliveries still owed (pending or in flight) by one endpoint: its queue depth.
    public func queueDepth(endpoint: String) throws -> Int {
        try pool.read { db in try Self.fetchQueueDepth(db, endpoint: endpoint) }
    }

    /// ``queueDepth(endpoint:)`` and ``endpointState(_:)`` in one read, through GRDB's async access.
    public func gauges(endpoint: String) async throws -> (queueDepth: Int, state: EndpointState) {
        try await pool.read { db in (try Self.fetchQueueDepth(db, endpoint: endpoint), try Self.fetchEndpointState(db, endpoint)) }
    }

    private static func fetchQueueDepth(_ db: Database, endpoint: String) throws -> Int {
        try Int.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT COALESCE(SUM(n), 0) FROM delivery_tally WHERE endpoint = ? AND state IN ('pending', 'delivering')
                    """), arguments: [endpoint]) ?? 0
    }

    static func summary(_ row: Row) -> DeliverySummary {
        let kind: String = row["kind"]
        return DeliverySummary(
            deliveryID: row["d_id"],
            eventID: row["e_id"],
            eventSeq: row["event_seq"],
            endpoint: row["endpoint"],
            topic: kind == pingKind ? .webhookPing : FileEvent.Kind(rawValue: kind).map(Topic.init(kind:)) ?? Topic(rawValue: kind),
            watch: row["watch"],
            path: row["path"],
            state: DeliveryState(rawValue: row["state"]) ?? .pending,
            attemptCount: row["attempt_count"],
            nextAttemptAtMillis: row["next_attempt_at_ms"],
            lastStatus: row["last_status"],
            lastSequence: (row["last_stream_sequence"] as Int64?).map { UInt64(bitPattern: $0) },
            lastError: row["last_error"],
            createdAtMillis: row["created_at_ms"],
            updatedAtMillis: row["updated_at_ms"]
        )
    }

    static func attempt(_ row: Row) -> AttemptRecord {
        let requestBody: Data = row["request_body"] ?? Data()
        let responseBody: Data = row["response_body"] ?? Data()
        let subject: String? = row["stream_subject"]
        let streamName: String? = row["stream_name"]
        let sequence: Int64? = row["stream_sequence"]
        let acknowledgement = streamName.flatMap { name in
            sequence.map {
                StreamAcknowledgement(stream: name, sequence: UInt64(bitPattern: $0), duplicate: row["stream_duplicate"] ?? false)
            }
        }
        return AttemptRecord(
            id: row["id"],
            deliveryID: row["delivery_id"],
            number: row["number"],
            startedAtMillis: row["started_at_ms"],
            durationMillis: row["duration_ms"],
            target: subject.map(AttemptRecord.Target.subject) ?? .url(row["request_url"]),
            requestHeaders: decodeHeaders(row["request_headers"]),
            requestBody: Array(requestBody),
            responseStatus: row["response_status"],
            responseHeaders: decodeHeaders(row["response_headers"]),
            responseBody: Array(responseBody),
            responseTruncated: row["response_truncated"],
            acknowledgement: acknowledgement,
            error: row["error"],
            result: AttemptResult(rawValue: row["result"]) ?? .failed
        )
    }
}
