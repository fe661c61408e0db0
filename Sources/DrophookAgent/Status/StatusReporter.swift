import DrophookOutbox
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Keeps `<state_dir>/status.json` current and answers `/health`.
final class StatusReporter: Service, Sendable {
    private let stateDirectory: String
    private let pipeline: WatchPipeline
    private let outbox: Outbox
    private let logger: Logger
    private let startedAt = Outbox.nowMillis()
    private let last: Mutex<AgentStatus?> = Mutex(nil)
    private let interval: Duration

    init(
        stateDirectory: String, pipeline: WatchPipeline, outbox: Outbox, logger: Logger,
        interval: Duration = .milliseconds(250)
    ) {
        self.stateDirectory = stateDirectory
        self.pipeline = pipeline
        self.outbox = outbox
        self.logger = logger
        self.interval = interval
    }

    func run() async throws {
        var wroteFailure = false
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let status = await current()
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
        var final = await current()
        final.ready = false
        try? final.write(stateDirectory: stateDirectory)
    }

    /// The agent's status now. The counts come from the outbox's per-state tally, read off the
    /// cooperative threads.
    func current() async -> AgentStatus {
        let health = pipeline.health
        let (counts, states) = (try? await outbox.status()) ?? ([], [])
        let endpoints = pipeline.configuration.webhooks.map { webhook in
            let name = webhook.name
            let pausedByConfig = webhook.paused
            let count = counts.first { $0.endpoint == name }
            let state = states.first { $0.name == name }
            return AgentStatus.Endpoint(
                name: name,
                pending: count?.queued ?? 0,
                failed: count?.failed ?? 0,
                paused: state?.isPaused(configured: pausedByConfig) ?? pausedByConfig,
                disabled: state?.disabled ?? false
            )
        }
        return AgentStatus(
            pid: getpid(),
            version: AgentVersion.description,
            startedAt: startedAt,
            updatedAt: Outbox.nowMillis(),
            ready: health?.isWatching ?? false,
            watchedDirectories: health?.watchedDirectories ?? 0,
            inotifyOverflows: health?.overflows ?? 0,
            watchLimitNeeded: health.flatMap { $0.watchLimitReached ? $0.watchesNeeded : nil },
            endpoints: endpoints.sorted { $0.name < $1.name },
            completion: health.map { $0.completionModes.mapValues(\.rawValue) }
        )
    }
}

extension AgentStatus {
    /// The status with its clock fields zeroed, to tell whether anything else changed.
    fileprivate var withoutTimestamp: AgentStatus {
        var copy = self
        copy.updatedAt = 0
        return copy
    }
}
