import DrophookEvents
import Synchronization
import Testing

@testable import DrophookWatch

@Suite("Batch commits beside the engine")
struct BatchCommitterTests {
    /// A commit that ends before `commit` returns must still leave the committer idle, or the
    /// next batch would gather forever.
    @Test func aCommitThatEndsAtOnceLeavesTheCommitterIdle() async throws {
        let stored = Mutex<[Int]>([])
        let committer = BatchCommitter(sink: { batch in stored.withLock { $0.append(batch.events.count) } }, committed: {})
        for round in 0..<5_000 {
            try await committer.commit(WatchBatch(events: Array(repeating: Self.event, count: round % 3)))
            try await committer.waitUntilIdle()
            #expect(committer.isIdle, "round \(round)")
            if !committer.isIdle { break }
        }
        let sizes = stored.withLock { $0 }
        #expect(sizes.count == 5_000)
        let inOrder = sizes.elementsEqual((0..<sizes.count).map { $0 % 3 })
        #expect(inOrder, "batches stay in order")
    }

    @Test func aFailedCommitIsRethrown() async throws {
        struct DiskFull: Error {}
        let committer = BatchCommitter(sink: { _ in throw DiskFull() }, committed: {})
        try await committer.commit(WatchBatch())
        await #expect(throws: DiskFull.self) { try await committer.waitUntilIdle() }
        await #expect(throws: DiskFull.self) { try await committer.checkFailure() }
    }

    static let event = FileEvent(
        id: "36cd78bc-0662-43b1-a7aa-0cde4876ab2a", kind: .created, watch: "w", path: "p",
        actor: "a", occurredAtMillis: 1)
}
