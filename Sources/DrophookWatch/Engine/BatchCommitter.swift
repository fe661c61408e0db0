import DrophookEvents
import Synchronization

/// Hands batches to the sink on a task of its own, one at a time and in order, so that the
/// engine goes on reacting to records while the outbox waits for its fsync.
///
/// Why: a new directory must get its watch within moments of its `IN_CREATE`. An SFTP client's
/// `mkdir`, `put`, `rm`, `rmdir` take a few milliseconds in all; an engine that waited for a
/// commit before reading on would list the directory after the file had come and gone. Records
/// handled while a commit is in flight gather into the next batch, so a burst also needs fewer
/// commits. ``commit(_:)`` is called by one task (the watcher's processing task).
final class BatchCommitter: Sendable {
    private struct State {
        var running: Task<Void, any Error>?
        var finished = true
    }

    private let state = Mutex(State())
    private let sink: @Sendable (WatchBatch) async throws -> Void
    /// Called when a commit ends, so that the engine flushes what gathered meanwhile.
    private let committed: @Sendable () -> Void

    init(sink: @escaping @Sendable (WatchBatch) async throws -> Void, committed: @escaping @Sendable () -> Void) {
        self.sink = sink
        self.committed = committed
    }

    /// No commit is running: the next batch can start at once.
    var isIdle: Bool { state.withLock { $0.finished } }

    /// Starts committing `batch`; waits first for the commit before it (batches stay in order).
    func commit(_ batch: WatchBatch) async throws {
        try await waitUntilIdle()
        // Marked busy before the task exists: a commit that ends at once must not be marked
        // busy again after it said it was done.
        state.withLock { $0.finished = false }
        let task = Task { [self] in
            defer {
                state.withLock { $0.finished = true }
                committed()
            }
            try await sink(batch)
        }
        state.withLock { $0.running = task }
    }

    /// Waits for the running commit, rethrowing its error.
    func waitUntilIdle() async throws {
        let running = state.withLock { $0.running }
        try await running?.value
    }

    /// Rethrows the error of a commit that already ended with one, without waiting.
    func checkFailure() async throws {
        if isIdle { try await waitUntilIdle() }
    }
}
