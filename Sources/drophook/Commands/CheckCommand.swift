import ArgumentParser
import DrophookAgent

/// `drophook check`: validates the config and the watched paths without starting anything.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the config file and the watched paths; lists every problem, one per line."
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try options.load()
        let findings = AgentPreflight.check(configuration)
        for finding in findings {
            printError(finding.description)
        }
        if findings.contains(where: { $0.severity == .error }) {
            throw ExitCode(1)
        }
        print("\(options.path): OK (\(configuration.watches.count) watches, \(configuration.webhooks.count) webhooks)")
        for line in AgentPreflight.completionLines(configuration) { print(line) }
        for line in AgentPreflight.sessionLogLines(configuration) { print(line) }
    }
}
