import ArgumentParser
import DrophookAgent
import DrophookEvents

/// `drophook check`: validates the config and the watched paths without starting anything.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the config file and the watched paths; lists every problem, one per line."
    )

    @OptionGroup var options: ConfigOptions
    @Flag(help: "Print the findings as JSON.") var json = false

    func run() async throws {
        let configuration = try options.load()
        let findings = AgentPreflight.check(configuration)
        let streams = configuration.endpoints.filter { $0.stream != nil }.count
        let webhooks = configuration.endpoints.count - streams
        if json {
            let ok = !findings.contains { $0.severity == .error }
            printLine(
                JSONValue.object([
                    ("ok", .bool(ok)),
                    (
                        "findings",
                        .array(
                            findings.map { finding in
                                .object([
                                    ("severity", .string(finding.severity.rawValue)), ("subject", .string(finding.subject)),
                                    ("message", .string(finding.message)),
                                ])
                            })
                    ),
                    ("watches", .int(Int64(configuration.watches.count))),
                    ("webhooks", .int(Int64(webhooks))),
                    ("nats", .int(Int64(streams))),
                    (
                        "notes",
                        .array(
                            (AgentPreflight.completionLines(configuration) + AgentPreflight.sessionLogLines(configuration)).map(
                                JSONValue.string))
                    ),
                ]).serializedString)
            if !ok { throw ExitCode(1) }
            return
        }
        // Under systemd (ExecStartPre) the findings go to the journal: at their own priority
        // (`<4>` warning, `<3>` error), so `journalctl -p warning` shows them and nothing else.
        let journal = AgentLogHandler.style() == .journal
        for finding in findings {
            printError((journal ? "<\(finding.severity == .error ? 3 : 4)>" : "") + finding.description)
        }
        if findings.contains(where: { $0.severity == .error }) {
            throw ExitCode(1)
        }
        let destinations = streams > 0 ? ", \(streams) NATS destination\(streams == 1 ? "" : "s")" : ""
        print("\(options.path): OK (\(configuration.watches.count) watches, \(webhooks) webhooks\(destinations))")
        for line in AgentPreflight.completionLines(configuration) { print(line) }
        for line in AgentPreflight.sessionLogLines(configuration) { print(line) }
    }
}
