import DrophookEvents
import DrophookOutbox
import Logging
import Synchronization

/// Delivers one endpoint's queue: claims due deliveries from the outbox, keeps up to
/// `concurrency` of them in flight (one, in event order, when `ordered`), and sleeps until the
/// next retry falls due, a poke, or the poll interval, whichever comes first.
///
/// Each endpoint has its own worker, so a slow or dead receiver only ever holds up its own queue.
final class EndpointWorker: Sendable {
    /// Everything a worker reads from the config; swapped whole on reload.
    struct Settings: Sendable {
        var endpoint: EndpointConfiguration
        var watches: [String: WatchOrigin]
        var organizationID: String?
        var host: String
        var pollInterval: Duration
        var recordRetryDelays: [Duration]
    }

    let name: String
    let outbox: Outbox
    let transport: any WebhookTransport
    let logger: Logger
    let metrics: DeliveryMetrics
    /// Every time the worker reads: when attempts start and end, when retries fall due.
    let clock: DeliveryClock
    let signal = WakeSignal()
    /// The abuse-protection handshake's answer, for endpoints that ask for one.
    let handshake: WebhookHandshake
    /// What the worker's loop and its attempts share, under one lock: a step reads it whole,
    /// so it never acts on settings of one reload and a pause of another.
    struct State {
        var settings: Settings
        /// Deliveries being attempted now.
        var inFlight: Set<String> = []
        /// Claims to hand back: attempts that could not be recorded, whose release failed too.
        var orphans: Set<String> = []
        /// The endpoint's run-time state as the last claim read it (a ping's payload says whether
        /// the endpoint is paused).
        var lastState: EndpointState?
        /// Completed looks at the queue: the worker's sign of progress.
        var looks = 0
        var stopped = false
    }

    let state: Mutex<State>
    let recorder: AttemptRecorder

    init(
        settings: Settings, outbox: Outbox, recorder: AttemptRecorder, transport: any WebhookTransport, clock: DeliveryClock,
        logger: Logger
    ) {
        name = settings.endpoint.name
        self.clock = clock
        handshake = WebhookHandshake(now: clock.instant)
        self.recorder = recorder
        state = Mutex(State(settings: settings))
        self.outbox = outbox
        self.transport = transport
        var logger = logger
        logger[metadataKey: "endpoint"] = "\(settings.endpoint.name)"
        self.logger = logger
        metrics = DeliveryMetrics(endpoint: settings.endpoint.name)
    }

    var settings: Settings {
        state.withLock { $0.settings }
    }

    /// Completed looks at the queue (``DeliveryEngine/queueLooks(endpoint:)``).
    var looks: Int { state.withLock { $0.looks } }

    /// The endpoint's run-time state as the last claim read it.
    var lastState: EndpointState? { state.withLock { $0.lastState } }

    /// Swaps the configuration; queued deliveries are untouched and in-flight ones finish as they began.
    func update(_ settings: Settings) {
        state.withLock { $0.settings = settings }
        signal.signal()
    }

    /// Stops taking new deliveries; `run()` returns once the in-flight ones are recorded.
    func stop() {
        state.withLock { $0.stopped = true }
        signal.signal()
    }

    var isStopped: Bool { state.withLock { $0.stopped } }

    /// Runs until cancelled or stopped. In-flight attempts are allowed to finish (each is bounded
    /// by the endpoint's total timeout) and are recorded; everything else stays owed in the outbox.
    ///
    /// An unordered endpoint claims up to twice its concurrency at a time and keeps what it cannot
    /// send yet in `ready`, so a finishing attempt's slot is refilled without a database round
    /// trip and a burst costs one claim per `concurrency` webhooks, not one per webhook.
    func run() async {
        await withDiscardingTaskGroup { group in
            var ready: [DeliveryJob] = []
            var lastDepthUpdate = clock.instant() - .seconds(3600)
            while !Task.isCancelled, !isStopped {
                let settings = self.settings
                var wait = settings.pollInterval
                if !ready.isEmpty, isHeldBack(settings) {
                    // Disabled (410, or auto-disable) or paused since the claim: what was
                    // claimed but not started goes back unsent.
                    await release(ready.map(\.deliveryID))
                    ready = []
                }
                startReady(&ready, settings, group: &group)
                if ready.isEmpty {
                    do {
                        let plan = try await planNextStep(settings)
                        if Task.isCancelled || isStopped {
                            // Stopped while the queue was being read: what was claimed goes back unsent.
                            ready = plan.jobs
                            break
                        }
                        ready = plan.jobs
                        state.withLock { $0.looks += 1 }
                        startReady(&ready, settings, group: &group)
                        wait = plan.wait
                    } catch {
                        logger.error("cannot read the delivery queue: \(error)")
                    }
                }
                if clock.instant() - lastDepthUpdate >= .seconds(1) {
                    lastDepthUpdate = clock.instant()
                    await updateGauges()
                }
                await signal.wait(for: wait)
            }
            await release(ready.map(\.deliveryID))
        }
        await updateGauges()
    }

    /// Whether the endpoint's state, as last seen, holds deliveries back (pings aside).
    private func isHeldBack(_ settings: Settings) -> Bool {
        guard let last = lastState else { return false }
        return last.disabled || last.isPaused(configured: settings.endpoint.paused)
    }

    /// Starts claimed deliveries while the endpoint has free slots.
    private func startReady(_ ready: inout [DeliveryJob], _ settings: Settings, group: inout DiscardingTaskGroup) {
        let slots = settings.endpoint.ordered ? 1 : settings.endpoint.concurrency
        let free = slots - state.withLock { $0.inFlight.count }
        guard free > 0, !ready.isEmpty else { return }
        let count = min(free, ready.count)
        for job in ready.prefix(count) {
            start(job, settings, group: &group)
        }
        ready.removeFirst(count)
    }

    /// Claims what may go now, in one transaction; says how long to sleep before looking again.
    private func planNextStep(_ settings: Settings) async throws -> (jobs: [DeliveryJob], wait: Duration) {
        let endpoint = settings.endpoint
        let name = self.name
        let (busy, orphans) = state.withLock { ($0.inFlight.count, $0.orphans) }
        let idle = settings.pollInterval
        // Unordered: in flight plus claimed ahead stays within twice the concurrency.
        let room = 2 * endpoint.concurrency - busy
        if !orphans.isEmpty {
            try await outbox.release(deliveryIDs: Array(orphans))
        }
        let claimed = try await outbox.claim(endpoint: name, nowMillis: clock.scheduleMillis()) { state in
            if state.disabled { return .nothing }
            if state.isPaused(configured: endpoint.paused) {
                // Paused holds events back, but `drophook ping` still gets an answer (its
                // payload says the endpoint is paused), so an operator can test a paused receiver.
                return endpoint.ordered && busy > 0 ? .nothing : .pingsOnly(limit: 1)
            }
            if endpoint.ordered {
                // One at a time, strictly by event seq: the head of the queue blocks the rest,
                // even while it waits for a retry. With nothing in flight, a head left
                // `delivering` is a claim whose attempt could not be recorded: take it again.
                return busy == 0 ? .head(reclaimOrphan: true) : .nothing
            }
            // Full: a finishing attempt pokes the signal.
            return room > 0 ? .anyDue(limit: room) : .nothing
        }
        state.withLock { state in
            state.orphans.subtract(orphans)
            state.lastState = claimed.endpoint
        }
        let paused = claimed.endpoint.disabled || claimed.endpoint.isPaused(configured: endpoint.paused)
        guard !paused, let next = claimed.nextDueMillis else {
            return (claimed.jobs, idle)
        }
        if !endpoint.ordered, claimed.jobs.count == room {
            return (claimed.jobs, idle)
        }
        return (claimed.jobs, min(idle, .milliseconds(max(next - clock.scheduleMillis(), 1))))
    }

    private func start(_ job: DeliveryJob, _ settings: Settings, group: inout DiscardingTaskGroup) {
        state.withLock { _ = $0.inFlight.insert(job.deliveryID) }
        group.addTask {
            await self.attempt(job, settings)
            self.state.withLock { _ = $0.inFlight.remove(job.deliveryID) }
            self.signal.signal()
        }
    }

    /// Hands claimed deliveries back unsent; what cannot be handed back now is kept and
    /// handed back before the next claim.
    func release(_ ids: [String]) async {
        guard !ids.isEmpty else { return }
        do {
            try await outbox.release(deliveryIDs: ids)
        } catch {
            state.withLock { $0.orphans.formUnion(ids) }
            logger.error("cannot hand back \(ids.count) claimed deliveries; trying again before the next claim: \(error)")
        }
    }

    func updateGauges() async {
        let name = self.name
        do {
            let (depth, state) = try await outbox.gauges(endpoint: name)
            metrics.queueDepth.record(depth)
            metrics.disabled.record(state.disabled ? 1 : 0)
        } catch {
            // The gauges keep their last values; the outbox's own failure is reported where it
            // stops deliveries, so this says only what the gauges lack (at debug: it repeats).
            logger.debug("cannot read the queue depth of \(name) for its gauges: \(error)")
        }
    }
}
