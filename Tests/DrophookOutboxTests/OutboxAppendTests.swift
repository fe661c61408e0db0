import DrophookEvents
import DrophookOutbox
import Foundation
import Testing

@Suite("Outbox append and snapshot")
struct OutboxAppendTests {
    @Test("a batch is stored with one delivery per routed endpoint and reads back as the same events")
    func batchAppendReadsBack() throws {
        let dir = try TemporaryDirectory()
        let outbox = try Outbox(stateDirectory: dir.path)
        var deleted = fileEvent(.deleted, path: "a/b.csv", size: nil)
        deleted.isDirectory = true
        deleted.foundByScan = true
        var failed = fileEvent(.failed, watch: "other", path: "x.part")
        // What the SFTP session log said travels with the event.
        failed.actor = "partner-7"
        failed.clientAddress = "2001:db8::7"
        failed.bytesWritten = 522_240
        let events = [fileEvent(path: "a/b.csv", size: Int64.max), deleted, failed]
        let result = try outbox.append(WatchBatch(events: events)) { event in
            event.watch == "uploads" ? ["hook-a", "hook-b"] : ["hook-a"]
        }
        #expect(result.events == 3)
        #expect(result.deliveries == 5)
        #expect(result.endpoints == ["hook-a", "hook-b"])

        #expect(try outbox.events() == events)
        for event in events {
            #expect(try outbox.event(id: event.id) == event)
        }
        let due = try outbox.dueDeliveries(endpoint: "hook-a", limit: 10)
        #expect(due.map(\.event) == events.map(QueuedEvent.file))
        #expect(Set(due.map(\.deliveryID)).count == 3)
        #expect(try outbox.dueDeliveries(endpoint: "hook-b", limit: 10).count == 2)

        // Replaying the same batch stores nothing twice.
        let replay = try outbox.append(WatchBatch(events: events)) { _ in ["hook-a"] }
        #expect(replay.events == 0)
        #expect(try outbox.dueDeliveries(endpoint: "hook-a", limit: 10).count == 3)
    }

    @Test("the snapshot delta is applied with the events, and not at all if the batch fails")
    func snapshotDeltaIsAtomicWithEvents() throws {
        let dir = try TemporaryDirectory()
        let outbox = try Outbox(stateDirectory: dir.path)
        let first = fileEvent(path: "one.csv")
        try outbox.append(
            WatchBatch(
                events: [first],
                snapshot: SnapshotDelta(upserts: [record("one.csv", inode: UInt64.max), record("two.csv")])
            )
        ) { _ in ["hook"] }
        #expect(try outbox.loadSnapshot() == [record("one.csv", inode: UInt64.max), record("two.csv")])

        try outbox.append(
            WatchBatch(
                events: [fileEvent(.deleted, path: "two.csv")],
                snapshot: SnapshotDelta(upserts: [record("one.csv", size: 99)], removals: [SnapshotKey(watch: "uploads", path: "two.csv")])
            )
        ) { _ in ["hook"] }
        #expect(try outbox.loadSnapshot() == [record("one.csv", size: 99)])

        // An invalid event after a valid one fails inside the transaction: the whole batch,
        // snapshot included, must roll back.
        var invalid = fileEvent(path: "three.csv")
        invalid.id = ""
        #expect(throws: OutboxError.self) {
            try outbox.append(
                WatchBatch(
                    events: [fileEvent(path: "four.csv"), invalid],
                    snapshot: SnapshotDelta(upserts: [record("three.csv")], removals: [SnapshotKey(watch: "uploads", path: "one.csv")])
                )
            ) { _ in ["hook"] }
        }
        #expect(try outbox.loadSnapshot() == [record("one.csv", size: 99)])
        #expect(try outbox.events().map(\.path) == ["one.csv", "two.csv"])
    }

    @Test("journal mode is WAL and synchronous is FULL")
    func durabilitySettings() throws {
        let dir = try TemporaryDirectory()
        let outbox = try Outbox(stateDirectory: dir.path)
        #expect(try outbox.journalMode() == "wal")
        #expect(try outbox.synchronousLevel() == 2)
        #expect(FileManager.default.fileExists(atPath: dir.path + "/outbox.sqlite"))
    }

    @Test("a write from a second outbox on the same file (the CLI) is seen by the first")
    func secondInstanceWritesAreSeen() throws {
        let dir = try TemporaryDirectory()
        let agent = try Outbox(stateDirectory: dir.path)
        let cli = try Outbox(stateDirectory: dir.path)
        try agent.append(WatchBatch(events: [fileEvent(path: "a")])) { _ in ["hook"] }
        #expect(try cli.dueDeliveries(endpoint: "hook", limit: 5).count == 1)

        try cli.setPaused("hook", true)
        #expect(try agent.endpointState("hook").isPaused(configured: false))
        try cli.setPaused("hook", nil)
        #expect(try agent.endpointState("hook").isPaused(configured: true))
        #expect(try !agent.endpointState("hook").isPaused(configured: false))

        let ping = try cli.appendPing(endpoint: "hook")
        // Due at once whatever the agent's schedule clock says: first in line.
        let due = try agent.dueDeliveries(endpoint: "hook", limit: 5)
        #expect(due.first?.event == .ping(id: ping.eventID, createdAtMillis: due.first?.event.pingCreatedAt ?? -1))
        #expect(due.first?.deliveryID == ping.deliveryID)
    }
}

extension QueuedEvent {
    var pingCreatedAt: Int64? {
        if case .ping(_, let at) = self { return at }
        return nil
    }
}

@Suite("Outbox and file names that are not UTF-8")
struct OutboxFileNameTests {
    @Test("escaped paths are stored and read back unchanged, in events and in the snapshot")
    func escapedPathsSurviveTheDatabase() throws {
        let dir = try TemporaryDirectory()
        let outbox = try Outbox(stateDirectory: dir.path)
        let raw: [UInt8] = Array("dir".utf8) + [0xFF, 0x2F] + Array("report".utf8) + [0xE9, 0x00 + 0x2E, 0x63]
        let path = PathBytes.string(from: raw)
        #expect(PathBytes.isEscaped(path))
        let event = fileEvent(path: path)
        try outbox.append(WatchBatch(events: [event], snapshot: SnapshotDelta(upserts: [record(path)]))) { _ in ["hook"] }
        #expect(try outbox.event(id: event.id)?.path == path)
        #expect(try outbox.loadSnapshot().map(\.path) == [path])
        #expect(PathBytes.bytes(try outbox.loadSnapshot()[0].path) == raw)
    }
}
