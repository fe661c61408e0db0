import CLinux
import DrophookEvents
import Logging

/// Carries the watch engine's work out on a thread of its own (``WatchThread``): the start-up
/// scan, every inotify record, every tick. So no `lstat`, directory listing, lease probe or
/// open of a watched file runs on Swift's cooperative pool, and a checksum runs on neither
/// (``ChecksumReader``).
///
/// The actor's executor is the thread: its methods run there, and each `await` (a batch
/// committed to the outbox, the doorbell) gives the thread up until it resumes. The engine is
/// created and used inside the actor only, so it needs no lock of its own.
actor WatchDriver {
    private let thread = WatchThread(name: "drophook-watch")
    nonisolated var unownedExecutor: UnownedSerialExecutor { thread.asUnownedSerialExecutor() }

    private let configuration: WatcherConfiguration
    private let logger: Logger
    private let health: HealthCell
    private let metrics: WatchMetrics
    private let timeline: WatchTimeline
    private let faults: WatcherFaults
    private let passed: @Sendable () -> Void

    /// - Parameter passed: called each time the processing loop goes round (the watchdog's progress).
    init(
        configuration: WatcherConfiguration, logger: Logger, health: HealthCell, metrics: WatchMetrics,
        timeline: WatchTimeline, faults: WatcherFaults, passed: @escaping @Sendable () -> Void
    ) {
        self.configuration = configuration
        self.logger = logger
        self.health = health
        self.metrics = metrics
        self.timeline = timeline
        self.faults = faults
        self.passed = passed
    }

    // No job can be enqueued for an actor that is gone: its thread may end.
    deinit { thread.stop() }

    /// Watches until the task is cancelled or a sink call fails (``DropTreeWatcher/run(sink:)``).
    /// - Parameter snapshot: hands the stored snapshot over (called once).
    func run(snapshot: @Sendable () -> [SnapshotRecord], sink: @escaping @Sendable (WatchBatch) async throws -> Void) async throws {
        assert(WatchThread.isCurrent, "the watch driver runs on its own thread")
        let inotify = try InotifyDescriptor.open()
        let queue = RawEventQueue(limit: configuration.maxQueuedRecords) { [metrics, health] count in
            metrics.droppedRecords.increment(by: Int64(count))
            health.update { $0.droppedRecords += count }
        }
        let watchedPaths = WatchedPaths()
        let reader: InotifyReader
        do {
            reader = try InotifyReader(
                descriptor: inotify, queue: queue, watchedPaths: watchedPaths,
                bufferSize: configuration.readBufferSize, hold: faults.readHold)
        } catch {
            inotify.close()
            throw error
        }
        let engine = WatchEngine(
            configuration: configuration, disk: LocalDisk(inotify: inotify), watchedPaths: watchedPaths, timeline: timeline,
            logger: logger, health: health, metrics: metrics)
        let checksums = ChecksumReader(ready: { queue.ring() })
        engine.checksumReader = checksums
        // Read while the start-up scan runs, so the kernel queue drains meanwhile.
        reader.start()
        let interval = configuration.tickInterval
        let ticker = Task.detached {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                queue.ring()
            }
        }
        defer {
            ticker.cancel()
            checksums.stop()
        }
        do {
            try await withTaskCancellationHandler {
                try await process(engine: engine, snapshot: snapshot, queue: queue, sink: sink)
            } onCancel: {
                queue.finish()
            }
        } catch {
            await shutDown(reader: reader, inotify: inotify)
            throw error
        }
        await shutDown(reader: reader, inotify: inotify)
    }

    private func process(
        engine: WatchEngine, snapshot: @Sendable () -> [SnapshotRecord], queue: RawEventQueue,
        sink: @escaping @Sendable (WatchBatch) async throws -> Void
    ) async throws {
        var records = snapshot()
        engine.beginStartup(snapshot: &records)
        let chunk = max(configuration.startupBatchChanges, 1)
        while !engine.continueStartup(budget: chunk) {
            engine.applyFinishedChecksums()
            try await sink(engine.batch.take())
        }
        engine.applyFinishedChecksums()
        if !engine.batch.isEmpty { try await sink(engine.batch.take()) }
        // The start-up scan freed the snapshot and its per-watch tables; hand that memory back
        // to the system instead of keeping the start-up peak as the resident size for months.
        _ = drophook_release_free_memory()
        health.update { $0.isWatching = true }
        let trees = configuration.watches.count
        logger.info("watching \(engine.descriptors.count) directories in \(trees) \(trees == 1 ? "tree" : "trees")")
        let committer = BatchCommitter(sink: sink, committed: { queue.ring() })
        let maxBatch = max(configuration.maxBatchEvents, 1)
        do {
            for await _ in queue.doorbell {
                if Task.isCancelled { break }
                passed()
                try await committer.checkFailure()
                let failure = queue.readerFailure
                let (chunks, dropped) = queue.takeAll()
                if dropped > 0 {
                    // Counted as they were dropped (the queue's `dropped`); said once per stall.
                    logger.warning(
                        """
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
                engine.applyFinishedChecksums()
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
            engine.stop()
            // The error that ended the loop is the one thrown; a commit still running is
            // awaited so that nothing writes after the watcher has returned, and its own
            // failure would only repeat that error.
            try? await committer.waitUntilIdle()
            throw error
        }
        engine.stop()
        // Stopping: the commit in flight ends; what gathered after it is caught up at the next start.
        do {
            try await committer.waitUntilIdle()
        } catch {
            logger.warning("the last batch could not be stored while stopping (\(error)); the next start's scan reports what it held")
        }
    }

    private func shutDown(reader: InotifyReader, inotify: InotifyDescriptor) async {
        reader.stop()
        await reader.waitUntilStopped()
        inotify.close()
        health.update { $0.isWatching = false }
    }
}
