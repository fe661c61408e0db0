import DrophookDelivery
import DrophookOutbox
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Keeps `<state_dir>/status.json` current and answers `/health`; under systemd
/// (`Type=notify`) it also says `READY=1` once watching, each new `STATUS=` line, and feeds the
/// watchdog while the watcher and the delivery engine make progress.
final class StatusReporter: Service, Sendable {
    private let stateDirectory: String
    private let pipeline: WatchPipeline
    private let engine: DeliveryEngine?
    private let notifier: SystemdNotifier?
    private let outbox: Outbox
    private let logger: Logger
    private let startedAt = Outbox.nowMillis()
    private let last: Mutex<AgentStatus?> = Mutex(nil)
    private let interval: Duration

    init(
        stateDirectory: String, pipeline: WatchPipeline, outbox: Outbox, logger: Logger,
        engine: DeliveryEngine? = nil, notifier: SystemdNotifier? = nil,
        interval: Duration = .milliseconds(250)
    ) {
        self.stateDirectory = stateDirectory
        self.pipeline = pipeline
        self.engine = engine
        self.notifier = notifier
        self.outbox = outbox
        self.logger = logger
        self.interval = interval
    }

    func run() async throws {
        var wroteFailure = false
        var systemd = notifier.map { SystemdState(notifier: $0) }
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let status = await current()
            systemd?.report(status, watcher: pipeline.watcherProgress, engine: engine?.progress)
            let previous = last.withLock { $0 }
            // Rewrite only on change (and at least every minute), so a quiet agent does not churn the disk.
            if previous?.withoutTimestamp != status.withoutTimestamp || status.updatedAt - (previous?.updatedAt ?? 0) > 60_000 {
                do {
                    try status.write(stateDirectory: stateDirectory)
                    last.withLock { $0 = status }
                    wroteFailure = false
                } catch {
                    if !wroteFailure { logger.warning("cannot write \(AgentStatus.path(stateDirectory: stateDirectory)): \(error)") }
                    wroteFailure = true
                }
            }
            try? await Task.sleep(for: interval)
        }
        notifier?.send("STOPPING=1\nSTATUS=stopping: letting requests in flight finish")
        var final = await current()
        final.ready = false
        do {
            try final.write(stateDirectory: stateDirectory)
        } catch {
            // `status` would go on showing the agent as ready until its pid is found gone.
            logger.warning("cannot write the final status to \(AgentStatus.path(stateDirectory: stateDirectory)): \(error)")
        }
    }

    /// The agent's status now. The counts come from the outbox's per-state tally, read off the
    /// cooperative threads.
    func current() async -> AgentStatus {
        let health = pipeline.health
        // An outbox that cannot be read is said, not shown as an empty queue.
        var outboxError: String?
        var (counts, states): ([EndpointCounts], [EndpointState]) = ([], [])
        do {
            (counts, states) = try await outbox.status()
        } catch {
            outboxError = "cannot read the outbox \(outbox.path): \(error)"
        }
        // A full disk reads fine and refuses writes: said just the same.
        outboxError = outboxError ?? pipeline.outboxWriteFailure
        let endpoints = pipeline.configuration.endpoints.map { webhook in
            let name = webhook.name
            let pausedByConfig = webhook.paused
            let count = counts.first { $0.endpoint == name }
            let state = states.first { $0.name == name }
            return AgentStatus.Endpoint(
                name: name,
                pending: count?.queued ?? 0,
                failed: count?.failed ?? 0,
                paused: state?.isPaused(configured: pausedByConfig) ?? pausedByConfig,
                disabled: state?.disabled ?? false,
                kind: webhook.stream == nil ? nil : "nats"
            )
        }
        var status = AgentStatus(
            pid: getpid(),
            version: AgentVersion.description,
            startedAt: startedAt,
            updatedAt: Outbox.nowMillis(),
            ready: health?.isWatching ?? false,
            watchedDirectories: health?.watchedDirectories ?? 0,
            inotifyOverflows: health?.overflows ?? 0,
            watchLimitNeeded: health.flatMap { $0.watchLimitReached ? $0.watchesNeeded : nil },
            endpoints: endpoints.sorted { $0.name < $1.name },
            completion: health.map { $0.completionModes.mapValues(\.rawValue) },
            unavailableRoots: health.map(\.unavailableRoots).flatMap { $0.isEmpty ? nil : $0 },
            outboxError: outboxError
        )
        status.unreadableDirectories = health.flatMap { $0.unreadableDirectories > 0 ? $0.unreadableDirectories : nil }
        return status
    }
}

/// What has been told to systemd: readiness once, each new status line, watchdog pings.
private struct SystemdState {
    let notifier: SystemdNotifier
    var ready = false
    var statusLine = ""
    var watchdog: Watchdog<ContinuousClock.Instant>?

    init(notifier: SystemdNotifier) {
        self.notifier = notifier
        watchdog = notifier.watchdogInterval.map { Watchdog(interval: $0) }
    }

    mutating func report(_ status: AgentStatus, watcher: Int?, engine: Int?) {
        let line = status.notifyLine
        if status.ready, !ready {
            ready = true
            statusLine = line
            notifier.send("READY=1\nSTATUS=\(line)")
        } else if line != statusLine {
            statusLine = line
            notifier.send("STATUS=\(line)")
        }
        if ready, watchdog?.ping(watcher: watcher, engine: engine, at: .now) == true {
            notifier.send("WATCHDOG=1")
        }
    }
}

extension AgentStatus {
    /// The `STATUS=` line: "watching 1,204 directories; 3 deliveries owed".
    var notifyLine: String {
        guard ready else { return "starting: scanning the drop trees" }
        if let outboxError { return "UNHEALTHY: \(outboxError)" }
        if let missing = unavailableRoots, !missing.isEmpty { return "UNHEALTHY: not watching \(missing.joined(separator: ", "))" }
        let owed = endpoints.reduce(0) { $0 + $1.pending }
        let failed = endpoints.reduce(0) { $0 + $1.failed }
        var line =
            "watching \(watchedDirectories.formatted()) director\(watchedDirectories == 1 ? "y" : "ies"); \(owed.formatted()) deliver\(owed == 1 ? "y" : "ies") owed"
        if failed > 0 { line += "; \(failed.formatted()) failed" }
        let disabled = endpoints.filter(\.disabled).map(\.name)
        if !disabled.isEmpty { line += "; disabled: \(disabled.joined(separator: ", "))" }
        return line
    }

    /// The status with its clock fields zeroed, to tell whether anything else changed.
    fileprivate var withoutTimestamp: AgentStatus {
        var copy = self
        copy.updatedAt = 0
        return copy
    }
}
