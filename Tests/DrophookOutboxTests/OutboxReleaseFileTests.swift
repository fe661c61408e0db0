import DrophookEvents
import Foundation
import GRDB
import Testing

@testable import DrophookOutbox

/// Outbox files that older builds of drophook wrote themselves, kept in `Fixtures/`: today's
/// agent migrates each at open and keeps every row. A schema made by today's migrator stopped
/// at an old version (``OutboxQueueCostTests``) could miss what an old build really wrote.
@Suite("Outbox files from older releases")
struct OutboxReleaseFileTests {
    /// `outbox-45d7812.sqlite`: written by `drophook run` built from commit 45d7812 (schema v3,
    /// before event origins, renames, checksums, sessions and the schedule clock), watching a
    /// tree where `in/old-1.csv`…`old-3.csv` arrived and `gone.csv` came and went, for two
    /// webhooks (`ops`, `pipeline`) that never answered; then stopped with SIGTERM and its
    /// write-ahead log checkpointed.
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/outbox-45d7812.sqlite").path

    @Test func anOutboxWrittenByCommit45d7812IsMigratedWithEveryRow() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/" + Outbox.fileName
        try FileManager.default.copyItem(atPath: Self.fixture, toPath: path)
        let outbox = try Outbox(path: path)

        // Every event, each as it was written, with the fields added since left empty.
        let created = try #require(try outbox.event(id: "0c278fff-e1e2-4316-a249-e7a57251a38e"))
        #expect(created.kind == .created && created.path == "in/old-1.csv" && created.size == 6 && created.watch == "uploads")
        #expect(created.previousPath == nil && created.sha256 == nil && created.clientAddress == nil && created.origin == nil)
        let events = try await outbox.pool.read { db in try String.fetchAll(db, sql: "SELECT kind || ' ' || path FROM event ORDER BY seq") }
        #expect(
            events == [
                "created in", "created in/old-3.csv", "created in/old-2.csv", "created in/old-1.csv", "created gone.csv",
                "deleted gone.csv",
            ])

        // Every delivery still owed, counted by the tally the migration built, and claimable.
        #expect(try await outbox.counts().map { [$0.endpoint: $0.pending] } == [["ops": 6], ["pipeline": 4]])
        let due = Int64.max / 2
        #expect(try outbox.claimDueDeliveries(endpoint: "ops", nowMillis: due, limit: 10).count == 6)
        #expect(try outbox.claimDueDeliveries(endpoint: "pipeline", nowMillis: due, limit: 10).count == 4)
        // The attempt each made is in the delivery log.
        let attempts = try outbox.attempts(eventID: created.id)
        #expect(attempts.count == 2 && attempts.allSatisfy { $0.error?.hasPrefix("connectFailure: ") == true })

        // The snapshot: a later start compares the tree with it instead of starting afresh.
        #expect(Set(try await outbox.loadSnapshot().map(\.path)) == ["", "in", "in/old-1.csv", "in/old-2.csv", "in/old-3.csv"])
        #expect(try await outbox.rebaseSchedule() == 0)
        let migrations = try await outbox.pool.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
        #expect(migrations.last == "v9-stream-attempts")
    }
}
