import ArgumentParser
import DrophookAgent
import Glibc
import Logging

/// `drophook run`: the agent, in the foreground, logging to standard error.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent in the foreground (SIGTERM stops it gracefully, SIGHUP reloads the config)."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical (default: the config's log_level, else info).")
    var logLevel: String?

    func run() async throws {
        let fixedLevel = try logLevel.map { text in
            guard let level = Logger.Level(rawValue: text) else {
                throw ValidationError("--log-level: '\(text)' is not a level; use trace, debug, info, notice, warning, error or critical")
            }
            return level
        }
        var configuration = try options.load()
        // What check would call an error stops run too, in the same words, before anything starts.
        let blocking = AgentPreflight.startupErrors(configuration)
        if !blocking.isEmpty {
            for finding in blocking { printError(finding.description) }
            throw ExitCode(1)
        }
        // The command line wins over the config, also across reloads.
        configuration.logLevelFixed = fixedLevel != nil
        let registry = AgentProcess.bootstrap(logLevel: fixedLevel ?? configuration.logLevel ?? .info)
        let logger = Logger(label: "drophook")
        logger.info("drophook \(AgentVersion.description) starting with \(options.path)")
        for finding in AgentPreflight.startupWarnings(configuration) { logger.warning("\(finding.subject): \(finding.message)") }
        if geteuid() == 0 {
            logger.warning(
                "running as root: the packaged unit runs drophook as the drophook user with only CAP_DAC_READ_SEARCH and CAP_LEASE (see docs/operations.md)"
            )
        }
        do {
            try await Agent(configuration: configuration, logger: logger, registry: registry).run()
        } catch {
            logger.critical("drophook stopped: \(error)")
            throw ExitCode(1)
        }
        logger.info("drophook stopped; undelivered events stay queued for the next start")
    }
}
