import DrophookEvents
import Foundation
import GRDB
import Testing

@testable import DrophookOutbox

@Suite("Outbox schedule clock")
struct OutboxScheduleClockTests {
    /// The last run's schedule clock was an hour behind the wall clock (the wall clock was
    /// stepped forward while it ran): its owed due times move an hour on, so a 5-minute retry
    /// is still 5 minutes away and does not go out at once.
    @Test func aStartMovesOwedDueTimesOntoTheWallClock() async throws {
        let dir = try TemporaryDirectory()
        let outbox = try Outbox(stateDirectory: dir.path)
        try await outbox.append(WatchBatch(events: [fileEvent(path: "a"), fileEvent(path: "b")])) { _ in ["hook"] }
        let hour: Int64 = 3_600_000
        let now = Outbox.nowMillis()
        try await outbox.pool.write { db in
            // "a" retries in 5 minutes on the last run's clock; "b" was delivered.
            try db.execute(sql: "UPDATE delivery SET next_attempt_at_ms = ? WHERE event_seq = 1", arguments: [now - hour + 300_000])
            try db.execute(sql: "UPDATE delivery SET state = 'delivered', next_attempt_at_ms = 7 WHERE event_seq = 2")
            try db.execute(sql: "INSERT OR REPLACE INTO schedule_clock (id, offset_ms) VALUES (1, ?)", arguments: [-hour])
        }
        #expect(try await outbox.rebaseSchedule() == -hour)
        let due = try await outbox.pool.read { db in
            try Int64.fetchAll(db, sql: "SELECT next_attempt_at_ms FROM delivery ORDER BY event_seq")
        }
        #expect(due[1] == 7, "a delivered row keeps its times")
        #expect(abs(due[0] - (now + 300_000)) < 1000)
        #expect(try await outbox.claim(endpoint: "hook") { _ in .anyDue(limit: 5) }.jobs.isEmpty)
        // Rebased once: a second start finds nothing to move.
        #expect(try await outbox.rebaseSchedule() == 0)
        #expect(try await outbox.recordScheduleOffset() == nil)
    }
}
