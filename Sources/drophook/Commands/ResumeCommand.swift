import ArgumentParser
import DrophookAgent
import DrophookEvents
import DrophookOutbox

/// `drophook resume`: undo a pause, or re-enable a webhook that was disabled.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a paused or disabled webhook; its backlog is delivered in order."
    )

    @OptionGroup var options: ConfigOptions
    @Argument(help: "The webhook's name.") var webhook: String
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        let outbox = try EndpointControl.outbox(options, webhook: webhook)
        try outbox.setPaused(webhook, false)
        let requeued = try outbox.enable(webhook)
        if json {
            printLine(
                JSONValue.object([("webhook", .string(webhook)), ("paused", .bool(false)), ("requeued", .int(Int64(requeued)))])
                    .serializedString)
            return
        }
        print("\(webhook): resumed\(requeued > 0 ? "; \(requeued) deliveries queued again" : "")")
    }
}
