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
        var pollInterval: Duration
    }

    let name: String
    let outbox: Outbox
    let transport: any WebhookTransport
    let logger: Logger
    let metrics: DeliveryMetrics
    let signal = WakeSignal()
    private let settingsBox: Mutex<Settings>
    private let inFlight = Mutex<Set<String>>([])
    private let stopped = Mutex(false)

    init(settings: Settings, outbox: Outbox, transport: any WebhookTransport, logger: Logger) {
        name = settings.endpoint.name
        settingsBox = Mutex(settings)
        self.outbox = outbox
        self.transport = transport
        var logger = logger
        logger[metadataKey: "endpoint"] = "\(settings.endpoint.name)"
        self.logger = logger
        metrics = DeliveryMetrics(endpoint: settings.endpoint.name)
    }

    var settings: Settings {
        get { settingsBox.withLock { $0 } }
    }

    /// Swaps the configuration; queued deliveries are untouched and in-flight ones finish as they began.
    func update(_ settings: Settings) {
        settingsBox.withLock { $0 = settings }
        signal.signal()
    }

    /// Stops taking new deliveries; `run()` returns once the in-flight ones are recorded.
    func stop() {
        stopped.withLock { $0 = true }
        signal.signal()
    }

    var isStopped: Bool { stopped.withLock { $0 } }

    /// Runs until cancelled or stopped. In-flight attempts are allowed to finish (each is bounded
    /// by the endpoint's total timeout) and are recorded; everything else stays owed in the outbox.
    func run() async {
        await withDiscardingTaskGroup { group in
            var lastDepthUpdate = ContinuousClock.now - .seconds(3600)
            while !Task.isCancelled, !isStopped {
                let settings = self.settings
                var wait = settings.pollInterval
                do {
                    let plan = try await planNextStep(settings)
                    if Task.isCancelled || isStopped {
                        // Stopped while the queue was being read: what was claimed goes back unsent.
                        await release(plan.jobs)
                        break
                    }
                    for job in plan.jobs {
                        start(job, settings, group: &group)
                    }
                    wait = plan.wait
                } catch {
                    logger.error("cannot read the delivery queue: \(error)")
                }
                if ContinuousClock.now - lastDepthUpdate >= .seconds(1) {
                    lastDepthUpdate = .now
                    await updateGauges()
                }
                await signal.wait(for: wait)
            }
        }
        await updateGauges()
    }

    /// Claims what may go now; says how long to sleep before looking again.
    private func planNextStep(_ settings: Settings) async throws -> (jobs: [DeliveryJob], wait: Duration) {
        let endpoint = settings.endpoint
        let name = self.name
        let busy = inFlight.withLock { $0.count }
        let idle = settings.pollInterval
        return try await outbox.perform { outbox in
            let state = try outbox.endpointState(name)
            let now = Outbox.nowMillis()
            if state.disabled {
                return ([], idle)
            }
            if state.isPaused(configured: endpoint.paused) {
                // Paused holds events back, but `drophook ping` still gets an answer (its
                // payload says the endpoint is paused), so an operator can test a paused receiver.
                let pings = endpoint.ordered && busy > 0
                    ? [] : try outbox.claimDueDeliveries(endpoint: name, nowMillis: now, limit: 1, pingsOnly: true)
                return (pings, idle)
            }

            if endpoint.ordered {
                // One at a time, strictly by event seq: the head of the queue blocks the rest,
                // even while it waits for a retry.
                guard busy == 0, let head = try outbox.queueHead(endpoint: name), head.state == .pending else {
                    return ([], idle)
                }
                guard head.nextAttemptAtMillis <= now else {
                    return ([], min(idle, .milliseconds(head.nextAttemptAtMillis - now)))
                }
                let job = try outbox.claim(deliveryID: head.deliveryID, nowMillis: now)
                return (job.map { [$0] } ?? [], idle)
            }

            let free = endpoint.concurrency - busy
            guard free > 0 else {
                // Full: a finishing attempt pokes the signal.
                return ([], idle)
            }
            let jobs = try outbox.claimDueDeliveries(endpoint: name, nowMillis: now, limit: free)
            if jobs.count == free {
                return (jobs, idle)
            }
            guard let next = try outbox.nextDueMillis(endpoint: name) else {
                return (jobs, idle)
            }
            return (jobs, min(idle, .milliseconds(max(next - Outbox.nowMillis(), 1))))
        }
    }

    private func start(_ job: DeliveryJob, _ settings: Settings, group: inout DiscardingTaskGroup) {
        inFlight.withLock { _ = $0.insert(job.deliveryID) }
        group.addTask {
            await self.attempt(job, settings)
            self.inFlight.withLock { _ = $0.remove(job.deliveryID) }
            self.signal.signal()
        }
    }

    private func release(_ jobs: [DeliveryJob]) async {
        guard !jobs.isEmpty else { return }
        let ids = jobs.map(\.deliveryID)
        do {
            try await outbox.perform { outbox in
                for id in ids { try outbox.release(deliveryID: id) }
            }
        } catch {
            logger.error("cannot hand back \(ids.count) claimed deliveries; they are sent on the next start: \(error)")
        }
    }

    func updateGauges() async {
        let name = self.name
        guard let (depth, state) = try? await outbox.perform({ outbox in
            (try outbox.queueDepth(endpoint: name), try outbox.endpointState(name))
        }) else { return }
        metrics.queueDepth.record(depth)
        metrics.disabled.record(state.disabled ? 1 : 0)
    }
}
