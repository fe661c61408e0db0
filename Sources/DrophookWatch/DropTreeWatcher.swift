import CLinux
import DrophookEvents
import Logging
import Synchronization

/// Watches the drop trees and reports, in batches, every file that finished arriving, every
/// delete and every abandoned upload, each exactly once, with the snapshot changes that record it.
public final class DropTreeWatcher: Sendable {
    public let configuration: WatcherConfiguration
    /// The stored snapshot until the start-up scan takes it: held no longer than that, since it
    /// holds a record per file kept in the trees.
    private let snapshot: Mutex<[SnapshotRecord]>
    private let logger: Logger
    private let healthCell = HealthCell()
    private let metrics = WatchMetrics()
    private let started = Mutex(false)
    private let passes = Mutex(0)
    private let timeline: WatchTimeline
    private let faults: WatcherFaults

    /// - Parameter snapshot: the stored snapshot of every watch (empty on a first start).
    public convenience init(configuration: WatcherConfiguration, snapshot: [SnapshotRecord], logger: Logger) {
        self.init(configuration: configuration, snapshot: snapshot, logger: logger, clock: ContinuousClock())
    }

    /// - Parameter clock: what the watcher's deadlines (move pairing, link checks, settling,
    ///   rescans) are measured on; tests pass a clock they move by hand.
    public convenience init<C: Clock>(configuration: WatcherConfiguration, snapshot: [SnapshotRecord], logger: Logger, clock: C)
    where C.Duration == Duration {
        self.init(configuration: configuration, snapshot: snapshot, logger: logger, clock: clock, faults: .none)
    }

    /// - Parameter faults: what a test injects (``WatcherFaults``).
    init<C: Clock>(configuration: WatcherConfiguration, snapshot: [SnapshotRecord], logger: Logger, clock: C, faults: WatcherFaults)
    where C.Duration == Duration {
        self.faults = faults
        self.configuration = configuration
        self.snapshot = Mutex(snapshot)
        self.logger = logger
        self.timeline = WatchTimeline(clock)
    }

    /// Current health: watched directories, overflows, watch limit.
    public var health: WatchHealth { healthCell.value }

    /// How many times the processing loop has gone round since watching began. It goes round at
    /// least every ``WatcherConfiguration/tickInterval`` while the watcher works, so a number
    /// that stops growing means it is stuck (systemd's watchdog is fed only while it grows).
    public var progress: Int { passes.withLock { $0 } }

    /// Scans the trees (the first batches carry the start-up snapshot changes and any catch-up
    /// events, ``WatcherConfiguration/startupBatchChanges`` at a time), then runs until the task is cancelled, calling `sink` with each batch in order.
    /// The next batch waits for the sink to return. A sink error stops the watcher and is rethrown.
    /// A watcher runs once.
    public func run(sink: @escaping @Sendable (WatchBatch) async throws -> Void) async throws {
        let alreadyStarted = started.withLock { value in
            defer { value = true }
            return value
        }
        guard !alreadyStarted else {
            throw WatchError(.alreadyRunning, "a DropTreeWatcher runs once; create a new one to restart watching")
        }
        let inotify = try InotifyDescriptor.open()
        let queue = RawEventQueue(limit: configuration.maxQueuedRecords) { [metrics, healthCell] count in
            metrics.droppedRecords.increment(by: Int64(count))
            healthCell.update { $0.droppedRecords += count }
        }
        let watchedPaths = WatchedPaths()
        let reader = try InotifyReader(
            descriptor: inotify, queue: queue, watchedPaths: watchedPaths,
            bufferSize: configuration.readBufferSize, gate: faults.readerGate)
        let engine = WatchEngine(
            configuration: configuration, inotify: inotify, watchedPaths: watchedPaths, timeline: timeline,
            logger: logger, health: healthCell, metrics: metrics)
        // Read while the start-up scan runs, so the kernel queue drains meanwhile.
        reader.start()
        let interval = configuration.tickInterval
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                queue.ring()
            }
        }
        do {
            try await withTaskCancellationHandler {
                try await process(engine: engine, queue: queue, sink: sink)
            } onCancel: {
                queue.finish()
            }
        } catch {
            await shutDown(ticker: ticker, reader: reader, inotify: inotify)
            throw error
        }
        await shutDown(ticker: ticker, reader: reader, inotify: inotify)
    }

    private func process(engine: WatchEngine, queue: RawEventQueue, sink: @escaping @Sendable (WatchBatch) async throws -> Void) async throws {
        var records = snapshot.withLock { held in
            defer { held = [] }
            return held
        }
        engine.beginStartup(snapshot: &records)
        let chunk = max(configuration.startupBatchChanges, 1)
        while !engine.continueStartup(budget: chunk) {
            try await sink(engine.batch.take())
        }
        if !engine.batch.isEmpty { try await sink(engine.batch.take()) }
        // The start-up scan freed the snapshot and its per-watch tables; hand that memory back
        // to the system instead of keeping the start-up peak as the resident size for months.
        _ = drophook_release_free_memory()
        healthCell.update { $0.isWatching = true }
        logger.info("watching \(engine.nodeByWD.count) directories in \(configuration.watches.count) \(configuration.watches.count == 1 ? "tree" : "trees")")
        let committer = BatchCommitter(sink: sink, committed: { queue.ring() })
        let maxBatch = max(configuration.maxBatchEvents, 1)
        do {
            for await _ in queue.doorbell {
                if Task.isCancelled { break }
                passes.withLock { $0 += 1 }
                try await committer.checkFailure()
                let failure = queue.readerFailure
                let (chunks, dropped) = queue.takeAll()
                if dropped > 0 {
                    // Counted as they were dropped (the queue's `dropped`); said once per stall.
                    logger.warning("""
                        \(dropped) inotify records were dropped: \(configuration.maxQueuedRecords) were already \
                        waiting for the outbox to take a batch; the trees are rescanned, so no change is missed
                        """)
                }
                for chunk in chunks {
                    for event in chunk {
                        engine.handle(event)
                        // A full batch waits for the commit before it: memory stays bounded.
                        if engine.batch.events.count >= maxBatch { try await committer.commit(engine.batch.take()) }
                    }
                }
                engine.tick()
                // Otherwise a batch starts only when no commit runs; until then it gathers.
                if !engine.batch.isEmpty, committer.isIdle { try await committer.commit(engine.batch.take()) }
                if let failure {
                    // Everything read before the failure is stored; then stop, so the agent exits
                    // non-zero (and is restarted to catch up) instead of looking healthy while deaf.
                    if !engine.batch.isEmpty { try await committer.commit(engine.batch.take()) }
                    try await committer.waitUntilIdle()
                    logger.critical("\(failure)")
                    throw failure
                }
            }
        } catch {
            engine.releaseAllHeld()
            // The error that ended the loop is the one thrown; a commit still running is
            // awaited so that nothing writes after the watcher has returned, and its own
            // failure would only repeat that error.
            try? await committer.waitUntilIdle()
            throw error
        }
        engine.releaseAllHeld()
        // Stopping: the commit in flight ends; what gathered after it is caught up at the next start.
        do {
            try await committer.waitUntilIdle()
        } catch {
            logger.warning("the last batch could not be stored while stopping (\(error)); the next start's scan reports what it held")
        }
    }

    private func shutDown(ticker: Task<Void, Never>, reader: InotifyReader, inotify: InotifyDescriptor) async {
        ticker.cancel()
        reader.stop()
        await reader.waitUntilStopped()
        inotify.close()
        healthCell.update { $0.isWatching = false }
    }
}
