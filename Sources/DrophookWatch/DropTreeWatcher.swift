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
        let driver = WatchDriver(
            configuration: configuration, logger: logger, health: healthCell, metrics: metrics,
            timeline: timeline, faults: faults, passed: { [self] in passes.withLock { $0 += 1 } })
        // Handed over, not copied: the driver's copy is the only one alive (a million records
        // at a first start over a large tree).
        try await driver.run(
            snapshot: { [self] in
                snapshot.withLock { held in
                    defer { held = [] }
                    return held
                }
            }, sink: sink)
    }
}
