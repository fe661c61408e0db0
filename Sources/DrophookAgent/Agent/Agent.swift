import DrophookDelivery
import DrophookOutbox
import DrophookSessions
import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import UnixSignals

/// The running agent: watcher → outbox → delivery engine, with status, metrics and reload.
///
/// SIGTERM/SIGINT stop it gracefully: the watcher stops first, in-flight requests finish
/// (bounded by their timeouts), and everything still owed stays in the outbox for the next start.
/// SIGHUP re-reads the config file; a config with mistakes is logged and ignored.
public struct Agent: Sendable {
    public var configuration: AgentConfiguration
    public var logger: Logger
    /// Where `/metrics` reads from; nil serves no metrics even if the config asks for them.
    public var registry: PrometheusCollectorRegistry?

    public init(configuration: AgentConfiguration, logger: Logger, registry: PrometheusCollectorRegistry? = nil) {
        self.configuration = configuration
        self.logger = logger
        self.registry = registry
    }

    /// Runs until a termination signal.
    public func run() async throws {
        // A damaged file is said now, with the command that rebuilds it, not found half-way
        // through a burst.
        try Outbox.requireSound(stateDirectory: configuration.stateDirectory, configFile: configuration.file)
        let outbox = try Outbox(stateDirectory: configuration.stateDirectory)
        // Before anything writes a due time: owed retries move onto this run's schedule clock.
        let step = try await outbox.rebaseSchedule()
        if step != 0 {
            logger.notice("the wall clock was stepped by \(-step) ms while drophook last ran; owed retries keep their spacing")
        }
        let transport = CurlTransport(configuration: .init(userAgent: "drophook/\(AgentVersion.description)"), logger: logger)
        if let problem = transport.initializationError {
            throw problem
        }
        let engine = DeliveryEngine(
            outbox: outbox,
            transport: transport,
            endpoints: configuration.endpointConfigurations,
            configuration: configuration.deliveryEngineConfiguration,
            logger: logger
        )
        let sessionLog = configuration.sessionLog.map { SessionLog(configuration: $0, logger: logger) }
        // Before the watcher's first scan: the sockets (and the chroots' `dev`) are in place,
        // and a source that cannot open stops the agent now, with its one-line reason.
        try sessionLog?.start()
        let pipeline = WatchPipeline(configuration: configuration, outbox: outbox, engine: engine, sessionLog: sessionLog, logger: logger)
        let notifier = SystemdNotifier()
        let status = StatusReporter(
            stateDirectory: configuration.stateDirectory, pipeline: pipeline, outbox: outbox, logger: logger,
            engine: engine, notifier: notifier
        )
        let reload = ReloadOnHangup(
            file: configuration.file, pipeline: pipeline, engine: engine, sessionLog: configuration.sessionLog,
            logLevelFixed: configuration.logLevelFixed, notifier: notifier, logger: logger)

        // Shut down in reverse order: stop reloading and reporting, stop watching, then let
        // the engine finish what is in flight.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(
                service: DeliveryService(engine: engine, transport: transport), successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup)
        ]
        if let sessionLog {
            // Started before the watcher and stopped after it, so no batch waits on a log that is gone.
            services.append(.init(service: SessionLogService(sessionLog: sessionLog), failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        services += [
            .init(
                service: pipeline, successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: status),
            .init(service: reload),
        ]
        if let listen = configuration.metricsListen, let registry {
            let endpoint = MetricsEndpoint(address: listen, registry: registry, health: { await status.current() }, logger: logger)
            services.append(.init(service: endpoint, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
            logger.info("metrics on http://\(listen)/metrics")
        }
        var groupConfiguration = ServiceGroupConfiguration(services: services, logger: logger)
        groupConfiguration.gracefulShutdownSignals = [.sigterm, .sigint]
        groupConfiguration.maximumGracefulShutdownDuration = AgentConfiguration.gracefulShutdown
        try await ServiceGroup(configuration: groupConfiguration).run()
    }
}

/// Runs the delivery engine as a service: cancelled on graceful shutdown so it stops taking
/// new work and lets in-flight requests finish.
struct DeliveryService: Service {
    let engine: DeliveryEngine
    let transport: CurlTransport

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await engine.run()
        }
        await transport.shutdown()
        JetStreamConnections.shared.close()
    }
}

/// Listens to the SFTP server's session log until graceful shutdown; a source that cannot
/// start (a journal it may not read) stops the agent with that one-line error.
struct SessionLogService: Service {
    let sessionLog: SessionLog

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await sessionLog.run()
        }
    }
}

/// Re-reads the config on SIGHUP and hands the new settings to the running stages.
struct ReloadOnHangup: Service {
    let file: String
    let pipeline: WatchPipeline
    let engine: DeliveryEngine
    /// The session log in force: its sockets stay bound until a restart.
    let sessionLog: SessionLog.Configuration?
    /// `--log-level` was given: the file's `log_level` does not override it.
    let logLevelFixed: Bool
    /// Told `RELOADING=1` before and `READY=1` after each reload, under `Type=notify`.
    let notifier: SystemdNotifier?
    let logger: Logger

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() {
            notifier?.reloading()
            defer { notifier?.send("READY=1") }
            do {
                let configuration = try AgentConfiguration.load(file: file)
                engine.reload(
                    endpoints: configuration.endpointConfigurations,
                    watches: configuration.watchOrigins,
                    organizationID: .some(configuration.organizationID)
                )
                pipeline.reload(configuration)
                JetStreamConnections.shared.close(keeping: Set(configuration.endpoints.compactMap { $0.stream?.settings }))
                if !self.logLevelFixed, let level = configuration.logLevel, level != AgentProcess.logLevel.value {
                    AgentProcess.logLevel.value = level
                    logger.notice("log level is now \(level)")
                }
                if configuration.sessionLog != sessionLog {
                    logger.warning("session_log changed in \(file): it takes effect when drophook restarts (systemctl restart drophook)")
                }
                logger.notice("reloaded \(file): \(configuration.watches.count) watches, \(configuration.endpoints.count) webhooks")
            } catch {
                logger.error("not reloading \(file), keeping the running config: \(error)")
            }
        }
    }
}
