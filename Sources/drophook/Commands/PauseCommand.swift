import ArgumentParser
import DrophookAgent
import DrophookEvents
import DrophookOutbox

/// `drophook pause`: hold deliveries to a webhook; events keep queueing durably.
struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Pause a webhook: events queue durably and go out in order on resume."
    )

    @OptionGroup var options: ConfigOptions
    @Argument(help: "The webhook's name.") var webhook: String
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        let outbox = try EndpointControl.outbox(options, webhook: webhook)
        try outbox.setPaused(webhook, true)
        if json {
            printLine(JSONValue.object([("webhook", .string(webhook)), ("paused", .bool(true))]).serializedString)
            return
        }
        print("\(webhook): paused; `drophook resume \(webhook)` sends what queued meanwhile")
    }
}

/// Shared checks of the endpoint-steering commands.
enum EndpointControl {
    static func outbox(_ options: ConfigOptions, webhook: String) throws -> Outbox {
        let configuration = try options.load()
        guard configuration.endpoints.contains(where: { $0.name == webhook }) else {
            let known = configuration.endpoints.map(\.name).joined(separator: ", ")
            printError("\(options.path): no webhook is named '\(webhook)'; known webhooks: \(known)")
            throw ExitCode(2)
        }
        return try OutboxAccess.open(configuration)
    }
}
