import ArgumentParser
import DrophookAgent

/// The `drophook` command line: the agent itself and the tools to check and steer it.
@main
struct Drophook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drophook",
        abstract: "Watches SFTP drop directories and sends signed webhooks when files arrive.",
        version: AgentVersion.description,
        subcommands: [
            RunCommand.self, CheckCommand.self, ListenCommand.self, DeliveriesCommand.self,
            RedeliverCommand.self, PauseCommand.self, ResumeCommand.self, PingCommand.self, StatusCommand.self,
            VerifyCommand.self, KeygenCommand.self, RotateSecretCommand.self, RecoverOutboxCommand.self, PrepareCommand.self,
        ]
    )
}

/// `--config`, shared by every command that reads the agent's config.
struct ConfigOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The agent's YAML config.",
            discussion: "Defaults to $DROPHOOK_CONFIG, then \(AgentConfiguration.defaultPath).",
            valueName: "path"
        )
    )
    var config: String?

    /// The path in force: the flag, then the environment, then the default.
    var path: String {
        config ?? ProcessEnvironment.value("DROPHOOK_CONFIG") ?? AgentConfiguration.defaultPath
    }

    /// Loads the config or exits with every problem on its own line.
    func load() throws -> AgentConfiguration {
        do {
            return try AgentConfiguration.load(file: path)
        } catch let errors as ConfigurationErrors {
            printError(errors.description)
            throw ExitCode(2)
        }
    }
}
