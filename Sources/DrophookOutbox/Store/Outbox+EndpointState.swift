import GRDB

/// Pause, resume, disable and enable: written by the CLI or the agent, read by the workers.
extension Outbox {
    /// The endpoint's run-time state (defaults when never written).
    public func endpointState(_ name: String) throws -> EndpointState {
        try pool.read { db in try Self.fetchEndpointState(db, name) }
    }

    /// Every endpoint with stored state.
    public func endpointStates() throws -> [EndpointState] {
        try pool.read { db in try Self.fetchEndpointStates(db) }
    }

    /// ``counts(includingDelivered:)`` and ``endpointStates()`` in one read, through GRDB's async
    /// access (the status file and metrics).
    public func status() async throws -> (counts: [EndpointCounts], states: [EndpointState]) {
        try await pool.read { db in (try Self.fetchCounts(db, includingDelivered: false), try Self.fetchEndpointStates(db)) }
    }

    private static func fetchEndpointStates(_ db: Database) throws -> [EndpointState] {
        try Row.fetchAll(db, sql: "SELECT * FROM endpoint_state ORDER BY name").map(Self.endpointState(from:))
    }

    /// Sets (true/false) or clears (nil: follow the config) the run-time pause.
    public func setPaused(_ endpoint: String, _ paused: Bool?, nowMillis: Int64 = Outbox.nowMillis()) throws {
        try pool.write { db in
            try Self.ensureEndpointRow(db, endpoint, nowMillis: nowMillis)
            try db.execute(
                sql: "UPDATE endpoint_state SET paused = ?, updated_at_ms = ? WHERE name = ?",
                arguments: [paused, nowMillis, endpoint]
            )
        }
    }

    /// Disables an endpoint: its deliveries stay queued, nothing is sent until it is enabled.
    public func disable(_ endpoint: String, reason: String, nowMillis: Int64 = Outbox.nowMillis()) throws {
        try pool.write { db in try Self.disableRow(db, endpoint, reason: reason, nowMillis: nowMillis) }
    }

    /// ``disable(_:reason:nowMillis:)`` through GRDB's async access.
    public func disable(_ endpoint: String, reason: String, nowMillis: Int64 = Outbox.nowMillis()) async throws {
        try await pool.write { db in try Self.disableRow(db, endpoint, reason: reason, nowMillis: nowMillis) }
    }

    private static func disableRow(_ db: Database, _ endpoint: String, reason: String, nowMillis: Int64) throws {
        do {
            try Self.ensureEndpointRow(db, endpoint, nowMillis: nowMillis)
            try db.execute(
                sql: """
                    UPDATE endpoint_state SET disabled = 1, disabled_reason = ?, disabled_at_ms = ?, updated_at_ms = ?
                    WHERE name = ?
                    """,
                arguments: [reason, nowMillis, nowMillis, endpoint]
            )
        }
    }

    /// Enables an endpoint again and makes its whole backlog due now, so it goes out at once
    /// (in order) rather than on the retry times it had when the endpoint was disabled.
    /// Returns how many pending deliveries were made due.
    @discardableResult
    public func enable(_ endpoint: String, nowMillis: Int64 = Outbox.nowMillis()) throws -> Int {
        try pool.write { db in
            try Self.ensureEndpointRow(db, endpoint, nowMillis: nowMillis)
            try db.execute(
                sql: """
                    UPDATE endpoint_state SET disabled = 0, disabled_reason = NULL, disabled_at_ms = NULL,
                        failing_since_ms = NULL, updated_at_ms = ?
                    WHERE name = ?
                    """,
                arguments: [nowMillis, endpoint]
            )
            try db.execute(
                sql: """
                    UPDATE delivery SET next_attempt_at_ms = ?, updated_at_ms = ?
                    WHERE endpoint = ? AND state = 'pending' AND next_attempt_at_ms > ?
                    """,
                // Due now on any clock: this runs in the CLI, not on the agent's schedule clock.
                arguments: [Self.dueNow, nowMillis, endpoint, Self.dueNow]
            )
            return db.changesCount
        }
    }

    static func ensureEndpointRow(_ db: Database, _ name: String, nowMillis: Int64) throws {
        try db.executeCached(
            sql: "INSERT INTO endpoint_state (name, updated_at_ms) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
            arguments: [name, nowMillis]
        )
    }

    static func fetchEndpointState(_ db: Database, _ name: String) throws -> EndpointState {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM endpoint_state WHERE name = ?"), arguments: [name]) else {
            return EndpointState(name: name)
        }
        return endpointState(from: row)
    }

    static func endpointState(from row: Row) -> EndpointState {
        EndpointState(
            name: row["name"],
            pausedOverride: row["paused"],
            disabled: row["disabled"],
            disabledReason: row["disabled_reason"],
            disabledAtMillis: row["disabled_at_ms"],
            failingSinceMillis: row["failing_since_ms"]
        )
    }
}
