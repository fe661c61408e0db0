import ArgumentParser
import DrophookAgent
import DrophookEvents
import DrophookOutbox
import Foundation

/// `drophook ping`: sends a test event (`webhook.ping`) through the running agent.
struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Queue a webhook.ping for a webhook and show how its delivery went.",
        discussion: "The ping is signed, retried and logged like any event; the agent must be running to send it."
    )

    @OptionGroup var options: ConfigOptions
    @Argument(help: "The webhook's name.") var webhook: String
    @Option(help: "Seconds to wait for the first attempt.") var timeout: Int = 15
    @Flag(help: "Print the ping's ids and its first attempt as JSON.") var json = false

    func run() async throws {
        let outbox = try EndpointControl.outbox(options, webhook: webhook)
        let (eventID, deliveryID) = try outbox.appendPing(endpoint: webhook)
        if !json { print("queued webhook.ping \(eventID) for \(webhook) (delivery \(deliveryID))") }
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline {
            if let attempt = try outbox.attempts(deliveryID: deliveryID).first {
                if json {
                    printLine(
                        JSONValue.object([
                            ("event_id", .string(eventID)), ("delivery_id", .string(deliveryID)),
                            ("attempt", DeliveryLogJSON.attempt(attempt)),
                        ]).serializedString)
                } else {
                    print(DeliveryLogFormat.detail(attempt))
                }
                if attempt.result != .delivered { throw ExitCode(1) }
                return
            }
            // The agent notices new work within its poll interval (a second); checking
            // ten times a second keeps the answer prompt without loading the database.
            try await Task.sleep(for: .milliseconds(100))
        }
        printError("no attempt within \(timeout)s: is the agent running (`drophook status`)? The ping stays queued.")
        throw ExitCode(1)
    }
}
