import ArgumentParser
import DrophookAgent
import DrophookEvents
import DrophookOutbox

/// `drophook redeliver`: puts failed deliveries back in the queue, with their original ids.
struct RedeliverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redeliver",
        abstract: "Queue failed deliveries again (same event id and delivery id, so receivers can deduplicate)."
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "An event id, file_id or delivery id.")
    var id: String?

    @Option(help: "Every failed delivery of this webhook.")
    var failed: String?

    func validate() throws {
        guard (id == nil) != (failed == nil) else {
            throw ValidationError("give either an id or --failed WEBHOOK")
        }
    }

    func run() async throws {
        let outbox = try OutboxAccess.open(options)
        var count = 0
        if let endpoint = failed {
            count = try outbox.requeue(.allFailed(endpoint: endpoint))
        } else if let id {
            let eventID = EventID.fromRilavekFileID(id) ?? id
            count = try outbox.requeue(.event(id: eventID))
            if count == 0 { count = try outbox.requeue(.delivery(id: id)) }
        }
        guard count > 0 else {
            printError("nothing to redeliver: no failed delivery matches; see `drophook deliveries --state failed`")
            throw ExitCode(1)
        }
        print("queued \(count) deliver\(count == 1 ? "y" : "ies") again; a running agent sends them within a second")
    }
}
