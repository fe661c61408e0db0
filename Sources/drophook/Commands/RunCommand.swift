import ArgumentParser
import DrophookAgent
import Logging

/// `drophook run`: the agent, in the foreground, logging to standard error.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent in the foreground (SIGTERM stops it gracefully, SIGHUP reloads the config)."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level: '\(logLevel)' is not a level; use trace, debug, info, notice, warning, error or critical")
        }
        let configuration = try options.load()
        let registry = AgentProcess.bootstrap(logLevel: level)
        let logger = Logger(label: "drophook")
        logger.info("drophook \(AgentVersion.description) starting with \(options.path)")
        do {
            try await Agent(configuration: configuration, logger: logger, registry: registry).run()
        } catch {
            logger.critical("drophook stopped: \(error)")
            throw ExitCode(1)
        }
        logger.info("drophook stopped; undelivered events stay queued for the next start")
    }
}
