import DrophookEvents
import Foundation
import GRDB

/// What the delivery workers take out of the outbox.
///
/// Every query here runs per webhook or per poll, so each walks an index to the few rows it
/// needs and costs the same with ten or a million deliveries owed (`EXPLAIN QUERY PLAN` is
/// checked by `OutboxQueryPlanTests`).
extension Outbox {
    /// Puts deliveries a crash left `delivering` back to `pending`, due now. Their POST may have
    /// reached the receiver: the retry sends the same event id and delivery id with a new attempt
    /// id (at least once). Call once when the agent starts, before the workers run.
    @discardableResult
    public func recoverInterruptedDeliveries(nowMillis: Int64 = Outbox.scheduleMillis()) throws -> Int {
        try pool.write { db in try Self.recoverRows(db, nowMillis: nowMillis) }
    }

    /// ``recoverInterruptedDeliveries(nowMillis:)`` through GRDB's async access.
    @discardableResult
    public func recoverInterruptedDeliveries(nowMillis: Int64 = Outbox.scheduleMillis()) async throws -> Int {
        try await pool.write { db in try Self.recoverRows(db, nowMillis: nowMillis) }
    }

    private static func recoverRows(_ db: Database, nowMillis: Int64) throws -> Int {
        do {
            try db.executeCached(
                sql: "UPDATE delivery SET state = 'pending', next_attempt_at_ms = ?, updated_at_ms = ? WHERE state = 'delivering'",
                arguments: [nowMillis, nowMillis]
            )
            return db.changesCount
        }
    }

    /// Pending deliveries of an endpoint that are due, earliest due first, without claiming them.
    public func dueDeliveries(endpoint: String, nowMillis: Int64 = Outbox.scheduleMillis(), limit: Int) throws -> [DeliveryJob] {
        try pool.read { db in try Self.fetchDue(db, endpoint: endpoint, nowMillis: nowMillis, limit: limit) }
    }

    /// The earliest owed (pending or delivering) delivery of an endpoint: for ordered endpoints,
    /// which deliver strictly in event order, nothing later may go before it.
    public func queueHead(endpoint: String) throws -> DeliveryJob? {
        try pool.read { db in try Self.fetchHead(db, endpoint: endpoint) }
    }

    /// When the endpoint's next pending delivery falls due (nil when nothing is pending).
    public func nextDueMillis(endpoint: String) throws -> Int64? {
        try pool.read { db in try Self.fetchNextDue(db, endpoint: endpoint) }
    }

    /// One look at an endpoint's queue, in one transaction: reads the endpoint's state, lets
    /// `rule` decide what may be taken, marks what it takes `delivering` (so no second look takes
    /// it again), and says when the next pending delivery falls due.
    ///
    /// The commit is not fsynced (see ``writeResendable(_:)``): a claim lost to a power cut
    /// leaves its delivery pending, which is sent again.
    public func claim(
        endpoint: String,
        nowMillis: Int64 = Outbox.scheduleMillis(),
        rule: @Sendable (EndpointState) -> ClaimRule
    ) throws -> QueueClaim {
        try writeResendable { db in try Self.claimRows(db, endpoint: endpoint, nowMillis: nowMillis, rule: rule) }
    }

    /// ``claim(endpoint:nowMillis:rule:)`` through GRDB's async access: the transaction runs on
    /// the database's writer queue while the calling task is suspended, with no thread of ours
    /// in between. The delivery workers claim this way, once per few webhooks.
    public func claim(
        endpoint: String,
        nowMillis: Int64 = Outbox.scheduleMillis(),
        rule: @escaping @Sendable (EndpointState) -> ClaimRule
    ) async throws -> QueueClaim {
        try await writeResendable { db in try Self.claimRows(db, endpoint: endpoint, nowMillis: nowMillis, rule: rule) }
    }

    static func claimRows(
        _ db: Database, endpoint: String, nowMillis: Int64, rule: (EndpointState) -> ClaimRule
    ) throws -> QueueClaim {
        let state = try fetchEndpointState(db, endpoint)
        var jobs: [DeliveryJob]
        switch rule(state) {
        case .nothing:
            jobs = []
        case .anyDue(let limit):
            jobs = try fetchDue(db, endpoint: endpoint, nowMillis: nowMillis, limit: limit)
        case .pingsOnly(let limit):
            jobs = try fetchDuePings(db, endpoint: endpoint, nowMillis: nowMillis, limit: limit)
        case .head(let reclaimOrphan):
            jobs = []
            if let head = try fetchHead(db, endpoint: endpoint), head.nextAttemptAtMillis <= nowMillis,
                head.state == .pending || (head.state == .delivering && reclaimOrphan)
            {
                jobs = [head]
            }
        }
        for job in jobs {
            try markDelivering(db, job.deliveryID, nowMillis: nowMillis)
        }
        jobs = jobs.map {
            var job = $0
            job.state = .delivering
            return job
        }
        return QueueClaim(endpoint: state, jobs: jobs, nextDueMillis: try fetchNextDue(db, endpoint: endpoint))
    }

    /// Claims up to `limit` due deliveries whatever the endpoint's state: ``claim(endpoint:nowMillis:rule:)``
    /// with ``ClaimRule/anyDue(limit:)``.
    public func claimDueDeliveries(endpoint: String, nowMillis: Int64 = Outbox.scheduleMillis(), limit: Int) throws -> [DeliveryJob] {
        guard limit > 0 else { return [] }
        return try claim(endpoint: endpoint, nowMillis: nowMillis) { _ in .anyDue(limit: limit) }.jobs
    }

    /// Gives claimed deliveries back unattempted (the worker stopped before sending them, or
    /// their attempt could not be recorded); they are due again at once.
    public func release(deliveryIDs: [String], nowMillis: Int64 = Outbox.nowMillis()) throws {
        guard !deliveryIDs.isEmpty else { return }
        try writeResendable { db in try Self.releaseRows(db, deliveryIDs, nowMillis: nowMillis) }
    }

    /// ``release(deliveryIDs:nowMillis:)`` through GRDB's async access.
    public func release(deliveryIDs: [String], nowMillis: Int64 = Outbox.nowMillis()) async throws {
        guard !deliveryIDs.isEmpty else { return }
        try await writeResendable { db in try Self.releaseRows(db, deliveryIDs, nowMillis: nowMillis) }
    }

    static func releaseRows(_ db: Database, _ deliveryIDs: [String], nowMillis: Int64) throws {
        for id in deliveryIDs {
            try db.executeCached(
                sql: "UPDATE delivery SET state = 'pending', updated_at_ms = ? WHERE id = ? AND state = 'delivering'",
                arguments: [nowMillis, id]
            )
        }
    }

    /// A write transaction whose loss on power failure only makes a delivery go out again:
    /// claims and attempt records. It is committed with `synchronous = NORMAL` (no fsync; in WAL
    /// mode a `kill -9` still keeps it, only an OS crash can lose it), and the next event
    /// commit's fsync, at `FULL`, makes it durable with everything before it. Events and the
    /// snapshot are never written this way.
    func writeResendable<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.writeWithoutTransaction { db in try Self.resendable(db, body) }
    }

    /// ``writeResendable(_:)`` through GRDB's async access.
    func writeResendable<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.writeWithoutTransaction { db in try Self.resendable(db, body) }
    }

    private static func resendable<T>(_ db: Database, _ body: (Database) throws -> T) throws -> T {
        try db.executeCached(sql: "PRAGMA synchronous = NORMAL")
        let outcome = Result<T, any Error> {
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            return result!
        }
        // Back to FULL whatever the transaction did: the next event commit on this connection
        // must be fsynced. A connection left at NORMAL would lose that durability silently, so
        // a failed restore fails this write (which is safe to redo) instead of being ignored.
        do {
            try db.executeCached(sql: "PRAGMA synchronous = FULL")
        } catch {
            throw OutboxError(
                .durabilityLost, "cannot set the outbox connection back to synchronous = FULL after a claim or attempt write: \(error)")
        }
        return try outcome.get()
    }

    // The walks below use `delivery_due (endpoint, state, next_attempt_at_ms, event_seq)` and
    // `delivery_queue (endpoint, state, event_seq)`; INDEXED BY makes a wrong plan an error
    // instead of a silent scan of the backlog.

    /// Due deliveries, earliest due then oldest event. Arguments: endpoint, now, limit.
    static let dueQuery = """
        SELECT \(jobColumns) FROM delivery d INDEXED BY delivery_due JOIN event e ON e.seq = d.event_seq
        WHERE d.endpoint = ? AND d.state = 'pending' AND d.next_attempt_at_ms <= ?
        ORDER BY d.next_attempt_at_ms, d.event_seq LIMIT ?
        """

    /// Due `drophook ping` deliveries. Arguments: endpoint, now, limit. CROSS JOIN fixes the join
    /// order: from the partial index of pings (a handful of rows), never from a paused endpoint's
    /// whole backlog.
    static let duePingsQuery = """
        SELECT \(jobColumns) FROM event e INDEXED BY event_pings CROSS JOIN delivery d ON d.event_seq = e.seq
        WHERE e.kind = '\(pingKind)' AND d.endpoint = ? AND d.state = 'pending' AND d.next_attempt_at_ms <= ?
        ORDER BY e.seq LIMIT ?
        """

    /// The oldest delivery of an endpoint in one state. Arguments: endpoint, state.
    static let oldestInStateQuery = """
        SELECT \(jobColumns) FROM delivery d INDEXED BY delivery_queue JOIN event e ON e.seq = d.event_seq
        WHERE d.endpoint = ? AND d.state = ? ORDER BY d.event_seq LIMIT 1
        """

    /// When the endpoint's next pending delivery falls due. Argument: endpoint.
    static let nextDueQuery = """
        SELECT MIN(next_attempt_at_ms) FROM delivery INDEXED BY delivery_due WHERE endpoint = ? AND state = 'pending'
        """

    static func fetchDue(_ db: Database, endpoint: String, nowMillis: Int64, limit: Int) throws -> [DeliveryJob] {
        try Row.fetchAll(db.cachedStatement(sql: dueQuery), arguments: [endpoint, nowMillis, limit]).map(Self.job)
    }

    static func fetchDuePings(_ db: Database, endpoint: String, nowMillis: Int64, limit: Int) throws -> [DeliveryJob] {
        try Row.fetchAll(db.cachedStatement(sql: duePingsQuery), arguments: [endpoint, nowMillis, limit]).map(Self.job)
    }

    static func fetchHead(_ db: Database, endpoint: String) throws -> DeliveryJob? {
        // Two index seeks (one per owed state) instead of one `state IN (…)` that SQLite sorts.
        var head: DeliveryJob?
        for state in [DeliveryState.pending, .delivering] {
            let row = try Row.fetchOne(db.cachedStatement(sql: oldestInStateQuery), arguments: [endpoint, state.rawValue])
            if let job = try row.map(Self.job), job.eventSeq < head?.eventSeq ?? .max {
                head = job
            }
        }
        return head
    }

    static func fetchNextDue(_ db: Database, endpoint: String) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: nextDueQuery), arguments: [endpoint])
    }

    static func markDelivering(_ db: Database, _ id: String, nowMillis: Int64) throws {
        try db.executeCached(
            sql: "UPDATE delivery SET state = 'delivering', updated_at_ms = ? WHERE id = ?",
            arguments: [nowMillis, id]
        )
    }
}
