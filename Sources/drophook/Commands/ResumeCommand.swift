import ArgumentParser
import DrophookAgent
import DrophookOutbox

/// `drophook resume`: undo a pause, or re-enable a webhook that was disabled.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a paused or disabled webhook; its backlog is delivered in order."
    )

    @OptionGroup var options: ConfigOptions
    @Argument(help: "The webhook's name.") var webhook: String

    func run() async throws {
        let outbox = try EndpointControl.outbox(options, webhook: webhook)
        try outbox.setPaused(webhook, false)
        let requeued = try outbox.enable(webhook)
        print("\(webhook): resumed\(requeued > 0 ? "; \(requeued) deliveries queued again" : "")")
    }
}
