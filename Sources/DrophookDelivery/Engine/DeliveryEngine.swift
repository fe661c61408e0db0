import DrophookEvents
import DrophookOutbox
import Logging
import Synchronization

/// Delivers everything the outbox owes: one worker per endpoint, retries on schedule,
/// pause/resume/disable from the outbox's endpoint state, and the delivery log's retention.
///
/// Wiring: open the ``Outbox``, make the engine with the endpoints from the config, run
/// ``run()`` as a service, call ``wake(endpoints:)`` after each ``Outbox/append(_:nowMillis:route:)``
/// (with the result's `endpoints`), and ``reload(endpoints:watches:organizationID:)`` on SIGHUP.
public final class DeliveryEngine: Sendable {
    /// Engine-wide settings.
    public struct Configuration: Sendable {
        /// SFTP To Go `Metadata.Organization.Id`, nil to omit it.
        public var organizationID: String?
        /// Pipe id and protocol per watch name, for Rilavek payloads.
        public var watches: [String: WatchOrigin]
        /// This host's name, in CloudEvents' `source`.
        public var host: String
        /// Longest a worker sleeps before looking at the outbox again: how soon a change the
        /// CLI made (pause, resume, redeliver) is noticed.
        public var pollInterval: Duration
        /// How long delivered deliveries and their attempts stay in the log.
        public var retention: Duration
        /// How often the log is pruned.
        public var pruneInterval: Duration
        /// Pauses between tries to record a finished attempt while the database refuses the
        /// write (busy, full). When they run out the claim is handed back and the delivery goes
        /// out again later, so a database fault costs a resend, never a stalled queue.
        public var recordRetryDelays: [Duration]

        public init(
            organizationID: String? = nil,
            watches: [String: WatchOrigin] = [:],
            host: String = "localhost",
            pollInterval: Duration = .seconds(1),
            retention: Duration = .seconds(30 * 86_400),
            pruneInterval: Duration = .seconds(3600),
            recordRetryDelays: [Duration] = (1...9).map { .milliseconds(200 * $0) }
        ) {
            self.organizationID = organizationID
            self.watches = watches
            self.host = host
            self.pollInterval = pollInterval
            self.retention = retention
            self.pruneInterval = pruneInterval
            self.recordRetryDelays = recordRetryDelays
        }
    }

    private enum Command: Sendable {
        case start(EndpointWorker)
    }

    private struct State: Sendable {
        var configuration: Configuration
        var workers: [String: EndpointWorker] = [:]
    }

    let outbox: Outbox
    /// Shared by every endpoint's worker, so attempts finishing together commit together.
    let recorder: AttemptRecorder
    let transport: any WebhookTransport
    let logger: Logger
    /// Every time delivery reads: attempts, retries, signatures and pruning.
    let clock: DeliveryClock
    private let state: Mutex<State>
    private let commands: AsyncStream<Command>
    private let commandSink: AsyncStream<Command>.Continuation

    public init(
        outbox: Outbox,
        transport: any WebhookTransport,
        endpoints: [EndpointConfiguration],
        configuration: Configuration = .init(),
        logger: Logger = Logger(label: "drophook.delivery"),
        clock: DeliveryClock = .system
    ) {
        self.outbox = outbox
        recorder = AttemptRecorder(outbox: outbox, nowMillis: clock.wallMillis)
        self.transport = transport
        self.logger = logger
        self.clock = clock
        (commands, commandSink) = AsyncStream.makeStream(of: Command.self)
        state = Mutex(State(configuration: configuration))
        reload(endpoints: endpoints)
    }

    /// Delivers until cancelled. First puts back deliveries a crash left in flight; on
    /// cancellation stops taking new deliveries, lets in-flight requests finish and be recorded,
    /// and returns with everything else still owed in the outbox.
    public func run() async throws {
        let recovered = try await outbox.recoverInterruptedDeliveries()
        if recovered > 0 {
            logger.notice("\(recovered) deliveries were in flight when drophook stopped; sending them again with the same delivery ids")
        }
        await warnAboutOrphanedQueues()
        await withDiscardingTaskGroup { group in
            group.addTask { await self.pruneLoop() }
            group.addTask { await self.scheduleClockLoop() }
            for await command in commands {
                switch command {
                case .start(let worker):
                    group.addTask { await worker.run() }
                }
            }
        }
    }

    /// Makes every worker look at the outbox now (after an append, or a CLI change).
    public func wake() {
        for worker in state.withLock({ Array($0.workers.values) }) {
            worker.signal.signal()
        }
    }

    /// Makes the named endpoints' workers look at the outbox now.
    public func wake<Names: Sequence<String>>(endpoints names: Names) {
        let workers = state.withLock { state in names.compactMap { state.workers[$0] } }
        for worker in workers {
            worker.signal.signal()
        }
    }

    /// Swaps the endpoint configuration (SIGHUP). Queued deliveries stay in the outbox: an
    /// endpoint that is removed keeps its queue until it comes back under the same name.
    public func reload(endpoints: [EndpointConfiguration], watches: [String: WatchOrigin]? = nil, organizationID: String?? = nil) {
        var started: [EndpointWorker] = []
        var stopped: [EndpointWorker] = []
        state.withLock { state in
            if let watches { state.configuration.watches = watches }
            if let organizationID { state.configuration.organizationID = organizationID }
            let configuration = state.configuration
            var keep = Set<String>()
            for endpoint in endpoints {
                keep.insert(endpoint.name)
                let settings = EndpointWorker.Settings(
                    endpoint: endpoint,
                    watches: configuration.watches,
                    organizationID: configuration.organizationID,
                    host: configuration.host,
                    pollInterval: configuration.pollInterval,
                    recordRetryDelays: configuration.recordRetryDelays
                )
                if let worker = state.workers[endpoint.name] {
                    worker.update(settings)
                } else {
                    let worker = EndpointWorker(
                        settings: settings, outbox: outbox, recorder: recorder, transport: transport, clock: clock, logger: logger)
                    state.workers[endpoint.name] = worker
                    started.append(worker)
                }
            }
            for (name, worker) in state.workers where !keep.contains(name) {
                state.workers[name] = nil
                stopped.append(worker)
            }
        }
        for worker in stopped {
            worker.stop()
        }
        for worker in started {
            commandSink.yield(.start(worker))
        }
    }

    /// How many times the named endpoint's worker has looked at its queue since it started (nil
    /// for an endpoint not being delivered). It grows on every wake-up and at least once per poll
    /// interval while the worker runs: a sign of progress, and what shows that a worker has seen
    /// a change (a look that began after the change has finished once it grew by two).
    public func queueLooks(endpoint: String) -> Int? {
        state.withLock { $0.workers[endpoint] }?.looks
    }

    /// Queue looks of every worker together: it grows at least once per poll interval while the
    /// workers run, so one that stops growing means delivery is stuck. Nil with no workers.
    public var progress: Int? {
        let workers = state.withLock { Array($0.workers.values) }
        guard !workers.isEmpty else { return nil }
        return workers.reduce(0) { $0 + $1.looks }
    }

    /// Names of the endpoints being delivered.
    public var endpointNames: [String] {
        state.withLock { $0.workers.keys.sorted() }
    }

    private func pruneLoop() async {
        while !Task.isCancelled {
            let configuration = state.withLock { $0.configuration }
            do {
                let cutoff = clock.wallMillis() - configuration.retention.milliseconds
                let pruned = try await outbox.prune(olderThan: cutoff)
                if pruned.deliveries > 0 || pruned.events > 0 {
                    logger.info(
                        "pruned the delivery log: \(pruned.deliveries) deliveries, \(pruned.events) events older than \(DurationParser.format(configuration.retention))"
                    )
                }
            } catch {
                logger.error("cannot prune the delivery log in \(outbox.path): \(error)")
            }
            try? await Task.sleep(for: configuration.pruneInterval)
        }
    }

    /// Notices a step of the wall clock (NTP, `date -s`) and stores how far the schedule clock
    /// now is from it, so that a restart keeps the owed retries' spacing too.
    private func scheduleClockLoop() async {
        while !Task.isCancelled {
            do {
                if let step = try await outbox.recordScheduleOffset() {
                    logger.warning(
                        "the wall clock was stepped by \(step) ms; retries keep their spacing (they are timed on the monotonic clock)")
                }
            } catch {
                logger.error("cannot record the schedule clock in \(outbox.path): \(error)")
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Deliveries owed to an endpoint that is no longer in the config wait for it to come back
    /// under the same name; say so, since nothing else will.
    private func warnAboutOrphanedQueues() async {
        let configured = Set(endpointNames)
        let counts: [EndpointCounts]
        do {
            counts = try await outbox.counts()
        } catch {
            logger.warning("cannot look for queues of webhooks no longer in the config: \(error)")
            return
        }
        for count in counts where !configured.contains(count.endpoint) && (count.queued > 0 || count.failed > 0) {
            logger.warning(
                """
                \(count.queued) pending and \(count.failed) failed deliveries are kept for webhook "\(count.endpoint)", \
                which is not in the config; they are delivered if it comes back under that name
                """)
        }
    }
}
