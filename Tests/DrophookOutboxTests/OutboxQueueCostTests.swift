import DrophookEvents
import Foundation
import GRDB
import Testing

@testable import DrophookOutbox

/// The queries a busy agent runs per webhook or per status poll must walk an index to the few
/// rows they need, so their cost does not grow with the backlog. Checked on SQLite's own plan,
/// which is what decides the cost, rather than by timing.
@Suite("Outbox queue cost")
struct OutboxQueueCostTests {
    private func plan(_ outbox: Outbox, _ sql: String, _ arguments: StatementArguments) throws -> [String] {
        try outbox.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
        }
    }

    @Test(
        "claims, the ordered head, the next due time and the counts never scan or sort the queue",
        arguments: [
            ("due", Outbox.dueQuery, ["hook", 1, 8] as StatementArguments),
            ("pings", Outbox.duePingsQuery, ["hook", 1, 1] as StatementArguments),
            ("head", Outbox.oldestInStateQuery, ["hook", "pending"] as StatementArguments),
            ("next due", Outbox.nextDueQuery, ["hook"] as StatementArguments),
        ])
    func perWebhookQueriesSeekAnIndex(name: String, sql: String, arguments: StatementArguments) throws {
        let dir = try TemporaryDirectory()
        let outbox = try Outbox(stateDirectory: dir.path)
        let details = try plan(outbox, sql, arguments)
        #expect(!details.isEmpty)
        for detail in details {
            #expect(!detail.contains("TEMP B-TREE"), "\(name): \(detail)")
            // The partial index of pings holds only pings, so walking it is not walking the queue.
            #expect(!detail.hasPrefix("SCAN") || detail.contains("event_pings"), "\(name): \(detail)")
        }
    }

    @Test(
        "the delivery log's newest page walks the state-and-age index instead of sorting the log",
        arguments: [false, true])
    func newestPageWalksAnIndex(byEndpoint: Bool) throws {
        let dir = try TemporaryDirectory()
        let outbox = try Outbox(stateDirectory: dir.path)
        let arguments: StatementArguments = byEndpoint ? ["delivered", "hook", 50] : ["delivered", 50]
        let details = try plan(outbox, Outbox.recentQuery(endpoint: byEndpoint), arguments)
        #expect(details.contains { $0.contains("delivery_by_state_age") }, "\(details)")
        #expect(!details.contains { $0.contains("TEMP B-TREE") }, "\(details)")
    }

    @Test("the per-state tally follows appends, claims, attempts, releases, redelivery and pruning")
    func tallyMatchesTheRows() throws {
        let dir = try TemporaryDirectory()
        let outbox = try Outbox(stateDirectory: dir.path)
        func truth() throws -> [String: Int] {
            try outbox.pool.read { db in
                var counts: [String: Int] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT endpoint, state, COUNT(*) AS n FROM delivery GROUP BY endpoint, state") {
                    counts["\(row["endpoint"] as String)/\(row["state"] as String)"] = row["n"]
                }
                return counts
            }
        }
        func tallied() throws -> [String: Int] {
            var counts: [String: Int] = [:]
            for count in try outbox.counts(includingDelivered: true) {
                for (state, n) in [
                    ("pending", count.pending), ("delivering", count.delivering),
                    ("delivered", count.delivered), ("failed", count.failed),
                ] where n > 0 {
                    counts["\(count.endpoint)/\(state)"] = n
                }
            }
            return counts
        }

        let old: Int64 = 1_000
        try outbox.append(WatchBatch(events: (0..<20).map { fileEvent(path: "f\($0)") }), nowMillis: old) { event in
            event.path.hasSuffix("0") ? ["a"] : ["a", "b"]
        }
        #expect(try tallied() == truth())
        #expect(try outbox.queueDepth(endpoint: "a") == 20)

        let jobs = try outbox.claimDueDeliveries(endpoint: "a", nowMillis: old, limit: 6)
        #expect(try tallied() == truth())
        _ = try outbox.recordAttempts(
            [
                .init(attemptRecord(for: jobs[0], status: 204, result: .delivered), endpoint: "a", transition: .delivered),
                .init(attemptRecord(for: jobs[1], status: 400, result: .failed), endpoint: "a", transition: .failed),
                .init(attemptRecord(for: jobs[2], status: 500, result: .retry), endpoint: "a", transition: .retry(atMillis: old + 10)),
            ], nowMillis: old)
        try outbox.release(deliveryIDs: [jobs[3].deliveryID])
        #expect(try tallied() == truth())
        #expect(try outbox.queueDepth(endpoint: "a") == 18)

        #expect(try outbox.requeue(.allFailed(endpoint: "a")) == 1)
        #expect(try tallied() == truth())
        #expect(try outbox.prune(olderThan: old + 1).deliveries == 1)
        #expect(try tallied() == truth())
        #expect(try outbox.counts().allSatisfy { $0.delivered == 0 }, "delivered rows are left out unless asked for")
    }

    @Test("an outbox from before the tally is migrated with its counts")
    func migratesAnOlderOutbox() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/" + Outbox.fileName
        do {
            let pool = try DatabasePool(path: path)
            try OutboxSchema.migrator.migrate(pool, upTo: "v2-queue-indexes")
            try pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO event (id, watch, kind, path, is_directory, actor, occurred_at_ms, found_by_scan, created_at_ms)
                        VALUES ('e1', 'uploads', 'created', 'a.csv', 0, 'alice', 1, 0, 1);
                        INSERT INTO delivery (id, event_seq, endpoint, state, next_attempt_at_ms, created_at_ms, updated_at_ms)
                        VALUES ('d1', 1, 'a', 'pending', 1, 1, 1), ('d2', 1, 'b', 'failed', 1, 1, 1);
                        """)
            }
        }
        let outbox = try Outbox(path: path)
        #expect(try outbox.queueDepth(endpoint: "a") == 1)
        #expect(try outbox.counts().map { [$0.endpoint: [$0.pending, $0.failed]] } == [["a": [1, 0]], ["b": [0, 1]]])
        #expect(try outbox.claimDueDeliveries(endpoint: "a", nowMillis: 5, limit: 5).map(\.deliveryID) == ["d1"])
    }

    @Test("the first schema of all is migrated to the newest: events, deliveries and the snapshot read back")
    func migratesTheFirstSchema() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/" + Outbox.fileName
        do {
            let pool = try DatabasePool(path: path)
            try OutboxSchema.migrator.migrate(pool, upTo: "v1")
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO event (id, watch, kind, path, is_directory, size, actor, occurred_at_ms, found_by_scan, created_at_ms)
                        VALUES ('e1', 'uploads', 'created', 'a.csv', 0, 3, 'alice', 1, 0, 1);
                        INSERT INTO delivery (id, event_seq, endpoint, state, next_attempt_at_ms, created_at_ms, updated_at_ms)
                        VALUES ('d1', 1, 'a', 'pending', 1, 1, 1);
                        INSERT INTO snapshot (watch, path, is_directory, inode, size, mtime_ns) VALUES ('uploads', '', 1, 2, 0, 0);
                        """)
            }
        }
        let outbox = try Outbox(path: path)
        let event = try #require(try outbox.event(id: "e1"))
        #expect(event.path == "a.csv" && event.size == 3 && event.previousPath == nil && event.sha256 == nil && event.clientAddress == nil)
        #expect(try await outbox.loadSnapshot().map(\.path) == [""])
        #expect(try await outbox.rebaseSchedule() == 0)
        #expect(try outbox.claimDueDeliveries(endpoint: "a", nowMillis: 5, limit: 5).map(\.deliveryID) == ["d1"])
    }
}

@Suite("Attempt group commit")
struct AttemptRecorderTests {
    @Test("attempts finishing together are recorded in fewer commits than attempts, each with its outcome")
    func burstsShareCommits() async throws {
        let dir = try TemporaryDirectory()
        let outbox = try Outbox(stateDirectory: dir.path)
        let count = 200
        try await outbox.append(WatchBatch(events: (0..<count).map { fileEvent(path: "f\($0)") })) { _ in ["a"] }
        let jobs = try outbox.claimDueDeliveries(endpoint: "a", limit: count)
        let recorder = AttemptRecorder(outbox: outbox)
        try await withThrowingTaskGroup(of: EndpointState.self) { group in
            for job in jobs {
                group.addTask {
                    try await recorder.record(
                        .init(attemptRecord(for: job, status: 204, result: .delivered), endpoint: "a", transition: .delivered))
                }
            }
            for try await state in group {
                #expect(state.name == "a")
            }
        }
        #expect(try await outbox.counts(includingDelivered: true).first?.delivered == count)
        #expect(try jobs.allSatisfy { try outbox.attempts(deliveryID: $0.deliveryID).count == 1 })
        #expect(recorder.commits >= 1)
        #expect(recorder.commits < count / 2, "\(recorder.commits) commits for \(count) attempts")
    }

    @Test("a lone attempt is committed without waiting for company")
    func loneAttemptCommits() async throws {
        let dir = try TemporaryDirectory()
        let outbox = try Outbox(stateDirectory: dir.path)
        try await outbox.append(WatchBatch(events: [fileEvent(path: "one")])) { _ in ["a"] }
        let job = try #require(try outbox.claimDueDeliveries(endpoint: "a", limit: 1).first)
        let recorder = AttemptRecorder(outbox: outbox)
        let state = try await recorder.record(
            .init(
                attemptRecord(for: job, status: 500, result: .retry), endpoint: "a",
                transition: .retry(atMillis: Outbox.nowMillis() + 60_000)))
        #expect(state.failingSinceMillis != nil)
        #expect(recorder.commits == 1)
        #expect(try outbox.queueDepth(endpoint: "a") == 1)
    }
}
