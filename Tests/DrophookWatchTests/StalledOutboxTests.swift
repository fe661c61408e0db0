import DrophookEvents
import DrophookTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import DrophookWatch

/// The outbox takes no batch for a while (disk full): the watcher goes on reading with its
/// records held in a bounded queue; past the bound it drops them and rescans once the outbox
/// takes batches again, so every change is still reported, exactly once.
@Suite("Stalled outbox")
struct StalledOutboxTests {
    @Test(.timeLimit(.minutes(2)))
    func recordsPastTheMemoryBoundAreRecoveredByARescan() async throws {
        let tree = TempTree("stalled")
        var configuration = WatcherConfiguration.test(tree)
        configuration.maxQueuedRecords = 40
        // The processing task waits for the stuck commit once its next batch is this full.
        configuration.maxBatchEvents = 10
        var logger = Logger(label: "drophook.watch.test")
        logger.logLevel = .error
        let watcher = DropTreeWatcher(configuration: configuration, snapshot: [], logger: logger, clock: ContinuousClock(), faults: .none)
        let stalled = Mutex(false)
        let committed = Observed<WatchBatch>()
        // Announces each batch that reaches the commit while the "disk" is full.
        let stuckCommits = Observed<WatchBatch>()
        let running = Task {
            try await watcher.run { batch in
                // A commit that cannot finish while the "disk" is full.
                if stalled.withLock({ $0 }) { stuckCommits.append(batch) }
                while stalled.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(20)) }
                committed.append(batch)
            }
        }
        #expect(await pollUntil(within: .seconds(20)) { watcher.health.isWatching })
        tree.write("first.csv", "1")
        #expect(await committed.wait(within: .seconds(10)) { $0.flatMap(\.events).contains { $0.path == "first.csv" } })

        stalled.withLock { $0 = true }
        // Something to be stuck committing: the stall starts when its batch is in the commit.
        tree.write("stuck.csv", "s")
        #expect(await stuckCommits.wait(within: .seconds(20)) { !$0.isEmpty }, "a batch reached the stuck commit")
        // Then far more records than the bound holds. The stall ends when the reader has
        // dropped some, not after a guessed time, so a loaded machine only makes it longer.
        for index in 0..<200 { tree.write("f\(index).csv", "\(index)") }
        let dropped = await pollUntil(within: .seconds(30)) { watcher.health.droppedRecords > 0 }
        #expect(dropped, "600 records past a 40-record bound while the commit is stuck must be dropped")
        stalled.withLock { $0 = false }

        let expected = Set(["first.csv", "stuck.csv"] + (0..<200).map { "f\($0).csv" })
        let allSeen = await committed.wait(within: .seconds(30)) {
            Set($0.flatMap(\.events).filter { $0.kind == .created }.map(\.path)) == expected
        }
        #expect(allSeen)
        running.cancel()
        _ = await running.result
        let created = committed.items.flatMap(\.events).filter { $0.kind == .created }.map(\.path)
        #expect(created.count == expected.count, "each file reported once")
        // The reader kept draining the kernel queue; what did not fit was dropped, not queued,
        // and the rescan that follows found every file.
        #expect(watcher.health.overflows >= 1, "the drop was followed by a rescan")
        #expect(watcher.health.rescans >= 1)
    }
}
