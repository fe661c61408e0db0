import DrophookDelivery
import DrophookEvents
import DrophookOutbox
import DrophookSessions
import DrophookWatch
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// The front half of the agent: the watcher's batches go into the outbox (one transaction
/// each, with their snapshot changes), then the delivery engine is woken for the endpoints
/// that got work.
///
/// With a session log, each batch first learns from it who caused its events (and which
/// uploads were cut off), waiting a bounded time for lines still on their way.
///
/// A reload that changes the watches restarts the watcher; it catches up from the stored
/// snapshot, so nothing that happened during the restart is missed.
final class WatchPipeline: Service, Sendable {
    private struct State {
        var configuration: AgentConfiguration
        var route: @Sendable (FileEvent) -> [String]
        /// Pipe id and protocol per watch, stamped on events as they are stored.
        var origins: [String: WatchOrigin]
        /// Root per watch, where the session log's real paths meet events.
        var roots: [String: String]
        var watcher: DropTreeWatcher?
        /// The running watcher's task; cancelled to restart it with new watches.
        var round: Task<Void, any Error>?
        var restartRequested = false
    }

    private let state: Mutex<State>
    /// Why the last commit failed, while the outbox refuses batches (disk full, read-only).
    private let storeFailure = Mutex<String?>(nil)
    private let writeFailures = Counter(label: "drophook_outbox_write_failures_total")
    private let writable = Gauge(label: "drophook_outbox_writable")
    private let outbox: Outbox
    private let engine: DeliveryEngine
    private let sessionLog: SessionLog?
    private let logger: Logger

    init(configuration: AgentConfiguration, outbox: Outbox, engine: DeliveryEngine, sessionLog: SessionLog?, logger: Logger) {
        self.state = Mutex(
            State(
                configuration: configuration,
                route: EndpointConfiguration.route(configuration.endpointConfigurations),
                origins: configuration.watchOrigins,
                roots: configuration.watchRoots,
                watcher: nil
            ))
        self.outbox = outbox
        self.engine = engine
        self.sessionLog = sessionLog
        self.logger = logger
    }

    /// The config in force (the latest that loaded without mistakes).
    var configuration: AgentConfiguration { state.withLock { $0.configuration } }

    /// The running watcher's health, if it has started.
    var health: WatchHealth? { state.withLock { $0.watcher?.health } }

    /// Why the outbox refuses the watcher's batches, while it does.
    var outboxWriteFailure: String? { storeFailure.withLock { $0 } }

    /// The running watcher's loop count (``DropTreeWatcher/progress``), if it has started.
    var watcherProgress: Int? { state.withLock { $0.watcher?.progress } }

    /// Takes a reloaded config: new routing at once, and a watcher restart if the watches changed.
    func reload(_ configuration: AgentConfiguration) {
        let roundToStop = state.withLock { state -> Task<Void, any Error>? in
            let changed = state.configuration.watches != configuration.watches || state.configuration.catchUp != configuration.catchUp
            state.configuration = configuration
            state.route = EndpointConfiguration.route(configuration.endpointConfigurations)
            state.origins = configuration.watchOrigins
            state.roots = configuration.watchRoots
            guard changed else { return nil }
            state.restartRequested = true
            return state.round
        }
        roundToStop?.cancel()
    }

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let configuration = self.state.withLock { $0.configuration }
                // Loaded straight into the watcher, which lets go of it once the start-up scan
                // has used it: a record per kept file must not stay in memory for months.
                let watcher = DropTreeWatcher(
                    configuration: configuration.watcherConfiguration,
                    snapshot: try await self.outbox.loadSnapshot(),
                    logger: self.logger
                )
                let round = Task { try await watcher.run(sink: { try await self.commit($0) }) }
                self.state.withLock {
                    $0.watcher = watcher
                    $0.round = round
                    $0.restartRequested = false
                }
                do {
                    try await withTaskCancellationHandler {
                        try await round.value
                    } onCancel: {
                        round.cancel()
                    }
                } catch is CancellationError {
                    // A restart or shutdown: decided below.
                }
                guard !Task.isCancelled else { return }
                guard self.state.withLock({ $0.restartRequested }) else {
                    throw WatchPipelineError("the watcher stopped by itself; see the errors above")
                }
                self.logger.notice("watches changed: restarting the watcher (it catches up from the snapshot)")
            }
        }
    }

    /// Stores one batch; retries until it is stored, because the watcher must not move on
    /// (and its snapshot must not advance) past events that are not on disk.
    private func commit(_ batch: WatchBatch) async throws {
        var batch = batch
        if let sessionLog {
            // Before routing: the SFTP user is the actor that `actors:` filters see.
            batch.events = await sessionLog.attribute(batch.events, roots: state.withLock { $0.roots })
        }
        var delay = Duration.milliseconds(100)
        while true {
            do {
                let (route, origins) = state.withLock { ($0.route, $0.origins) }
                // What a queued event says about its watch is fixed now, not at send time.
                var stamped = batch
                for index in stamped.events.indices where stamped.events[index].origin == nil {
                    stamped.events[index].origin = origins[stamped.events[index].watch]
                }
                // The commit waits for an fsync: GRDB's writer does it, off the cooperative threads.
                let result = try await outbox.append(stamped, route: route)
                if !result.endpoints.isEmpty { engine.wake(endpoints: result.endpoints) }
                if storeFailure.withLock({ $0.take() }) != nil {
                    writable.record(1)
                    logger.notice("the outbox takes events again; \(batch.events.count) waiting events are stored")
                }
                return
            } catch {
                storeFailure.withLock { $0 = "cannot write the outbox \(outbox.path): \(error)" }
                writeFailures.increment()
                writable.record(0)
                // The watcher goes on reading meanwhile; what does not fit in its bounded
                // queue is found again by a rescan once this batch is stored.
                logger.error("cannot store \(batch.events.count) events in the outbox, retrying in \(delay): \(error)")
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(30))
            }
        }
    }
}

/// The watcher ended without being asked to: the agent stops (and systemd restarts it).
/// ServiceLifecycle's error shape: a stable ``Code`` and a one-line description.
struct WatchPipelineError: Error, CustomStringConvertible {
    /// What kind of failure this is; compare with the static members.
    struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case watcherStopped = "watcher_stopped"
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        var description: String { value.rawValue }

        /// The watcher's run returned or threw while no restart was asked for.
        static let watcherStopped = Code(.watcherStopped)
    }

    let code: Code
    let description: String

    init(_ description: String) {
        code = .watcherStopped
        self.description = description
    }
}
