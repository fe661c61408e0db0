import Foundation
import DrophookEvents
import GRDB

/// What the delivery workers take out and put back.
extension Outbox {
    /// Puts deliveries a crash left `delivering` back to `pending`, due now. Their POST may have
    /// reached the receiver: the retry sends the same event id and delivery id with a new attempt
    /// id (at least once). Call once when the agent starts, before the workers run.
    @discardableResult
    public func recoverInterruptedDeliveries(nowMillis: Int64 = Outbox.nowMillis()) throws -> Int {
        try pool.write { db in
            try db.executeCached(
                sql: "UPDATE delivery SET state = 'pending', next_attempt_at_ms = ?, updated_at_ms = ? WHERE state = 'delivering'",
                arguments: [nowMillis, nowMillis]
            )
            return db.changesCount
        }
    }

    /// Pending deliveries of an endpoint that are due, oldest event first, without claiming them.
    public func dueDeliveries(
        endpoint: String,
        nowMillis: Int64 = Outbox.nowMillis(),
        limit: Int,
        excluding inFlight: Set<String> = []
    ) throws -> [DeliveryJob] {
        try pool.read { db in
            try Self.fetchDue(db, endpoint: endpoint, nowMillis: nowMillis, limit: limit, excluding: inFlight)
        }
    }

    /// Takes up to `limit` due deliveries of an endpoint, oldest event first, and marks them
    /// `delivering` in the same transaction, so neither another worker nor a second claim
    /// picks them again. `pingsOnly` takes only `webhook.ping` deliveries (a paused endpoint
    /// still answers `drophook ping`).
    public func claimDueDeliveries(
        endpoint: String,
        nowMillis: Int64 = Outbox.nowMillis(),
        limit: Int,
        pingsOnly: Bool = false
    ) throws -> [DeliveryJob] {
        guard limit > 0 else { return [] }
        return try pool.write { db in
            let jobs = try Self.fetchDue(db, endpoint: endpoint, nowMillis: nowMillis, limit: limit, excluding: [], pingsOnly: pingsOnly)
            for job in jobs {
                try Self.markDelivering(db, job.deliveryID, nowMillis: nowMillis)
            }
            return jobs.map { var job = $0; job.state = .delivering; return job }
        }
    }

    /// The earliest owed (pending or delivering) delivery of an endpoint: for ordered endpoints,
    /// which deliver strictly in event order, nothing later may go before it.
    public func queueHead(endpoint: String) throws -> DeliveryJob? {
        try pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT \(Self.jobColumns) FROM delivery d JOIN event e ON e.seq = d.event_seq
                WHERE d.endpoint = ? AND d.state IN ('pending', 'delivering')
                ORDER BY d.event_seq LIMIT 1
                """, arguments: [endpoint]).map(Self.job)
        }
    }

    /// Marks one pending delivery `delivering` if it still is pending and due. Returns the claimed job.
    public func claim(deliveryID: String, nowMillis: Int64 = Outbox.nowMillis()) throws -> DeliveryJob? {
        try pool.write { db in
            guard var job = try Row.fetchOne(db, sql: """
                SELECT \(Self.jobColumns) FROM delivery d JOIN event e ON e.seq = d.event_seq
                WHERE d.id = ? AND d.state = 'pending' AND d.next_attempt_at_ms <= ?
                """, arguments: [deliveryID, nowMillis]).map(Self.job) else { return nil }
            try Self.markDelivering(db, deliveryID, nowMillis: nowMillis)
            job.state = .delivering
            return job
        }
    }

    /// When the endpoint's next pending delivery falls due (nil when nothing is pending).
    public func nextDueMillis(endpoint: String) throws -> Int64? {
        try pool.read { db in
            try Int64.fetchOne(db, sql: """
                SELECT MIN(next_attempt_at_ms) FROM delivery WHERE endpoint = ? AND state = 'pending'
                """, arguments: [endpoint])
        }
    }

    /// Writes an attempt to the log and moves its delivery on, in one transaction; also keeps
    /// the endpoint's `failing_since` (cleared by a success, set by the first failure of a run).
    /// Returns the endpoint's state afterwards, for the auto-disable rule.
    @discardableResult
    public func recordAttempt(
        _ attempt: AttemptRecord,
        endpoint: String,
        transition: DeliveryTransition,
        nowMillis: Int64 = Outbox.nowMillis()
    ) throws -> EndpointState {
        try pool.write { db in
            let body = Array(attempt.responseBody.prefix(AttemptRecord.maxResponseBodyBytes))
            try db.executeCached(
                sql: """
                    INSERT INTO attempt (id, delivery_id, number, started_at_ms, duration_ms, request_url, request_headers,
                        request_body, response_status, response_headers, response_body, response_truncated, error, result)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [attempt.id, attempt.deliveryID, attempt.number, attempt.startedAtMillis, attempt.durationMillis,
                            attempt.requestURL, Self.encodeHeaders(attempt.requestHeaders), Data(attempt.requestBody),
                            attempt.responseStatus, Self.encodeHeaders(attempt.responseHeaders), Data(body),
                            attempt.responseTruncated || body.count < attempt.responseBody.count,
                            attempt.error, attempt.result.rawValue]
            )
            let (state, next): (DeliveryState, Int64?) = switch transition {
            case .delivered: (.delivered, nil)
            case .retry(let at): (.pending, at)
            case .failed: (.failed, nil)
            }
            try db.executeCached(
                sql: """
                    UPDATE delivery SET state = ?, attempt_count = attempt_count + 1,
                        next_attempt_at_ms = COALESCE(?, next_attempt_at_ms),
                        last_status = ?, last_error = ?, updated_at_ms = ?
                    WHERE id = ?
                    """,
                arguments: [state.rawValue, next, attempt.responseStatus, attempt.error, nowMillis, attempt.deliveryID]
            )
            try Self.ensureEndpointRow(db, endpoint, nowMillis: nowMillis)
            if transition == .delivered {
                try db.executeCached(sql: "UPDATE endpoint_state SET failing_since_ms = NULL WHERE name = ?", arguments: [endpoint])
            } else {
                try db.executeCached(
                    sql: "UPDATE endpoint_state SET failing_since_ms = COALESCE(failing_since_ms, ?) WHERE name = ?",
                    arguments: [attempt.startedAtMillis, endpoint]
                )
            }
            return try Self.fetchEndpointState(db, endpoint)
        }
    }

    /// Gives a claimed delivery back unattempted (the worker stopped before sending it).
    public func release(deliveryID: String, nowMillis: Int64 = Outbox.nowMillis()) throws {
        try pool.write { db in
            try db.executeCached(
                sql: "UPDATE delivery SET state = 'pending', updated_at_ms = ? WHERE id = ? AND state = 'delivering'",
                arguments: [nowMillis, deliveryID]
            )
        }
    }

    static func fetchDue(
        _ db: Database, endpoint: String, nowMillis: Int64, limit: Int, excluding: Set<String>, pingsOnly: Bool = false
    ) throws -> [DeliveryJob] {
        // Fetch a little more than asked so that excluded ids don't starve the result.
        let rows = try Row.fetchAll(db, sql: """
            SELECT \(Self.jobColumns) FROM delivery d JOIN event e ON e.seq = d.event_seq
            WHERE d.endpoint = ? AND d.state = 'pending' AND d.next_attempt_at_ms <= ?
            \(pingsOnly ? "AND e.kind = '\(Self.pingKind)'" : "")
            ORDER BY d.event_seq LIMIT ?
            """, arguments: [endpoint, nowMillis, limit + excluding.count])
        return try rows.map(Self.job).filter { !excluding.contains($0.deliveryID) }.prefix(limit).map { $0 }
    }

    static func markDelivering(_ db: Database, _ id: String, nowMillis: Int64) throws {
        try db.executeCached(
            sql: "UPDATE delivery SET state = 'delivering', updated_at_ms = ? WHERE id = ?",
            arguments: [nowMillis, id]
        )
    }
}
