import ArgumentParser
import DrophookAgent
import DrophookEvents
import DrophookOutbox

/// `drophook redeliver`: puts failed deliveries back in the queue, with their original ids.
struct RedeliverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redeliver",
        abstract: "Queue failed deliveries again (same event id and delivery id, so receivers can deduplicate).",
        discussion: """
            One delivery or event by id, every failed delivery of a webhook (--failed WEBHOOK), or every \
            failed delivery created since a time (--since 24h, optionally --endpoint WEBHOOK).
            """
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "An event id, file_id or delivery id.")
    var id: String?

    @Option(help: "Every failed delivery of this webhook.")
    var failed: String?

    @Option(help: "Every failed delivery created since then: a duration ago (24h) or a time (2026-12-01T00:00:00Z).")
    var since: String?

    @Option(help: "With --since: only this webhook.")
    var endpoint: String?

    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        guard [id != nil, failed != nil, since != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give one of: an id, --failed WEBHOOK, or --since TIME")
        }
        if endpoint != nil, since == nil {
            throw ValidationError("--endpoint goes with --since; for one webhook's failures alone use --failed WEBHOOK")
        }
    }

    func run() async throws {
        let outbox = try OutboxAccess.open(options)
        var count = 0
        if let endpoint = failed {
            count = try outbox.requeue(.allFailed(endpoint: endpoint))
        } else if let since {
            count = try outbox.requeue(.failedSince(millis: try TimeArgument.millis(since, option: "--since"), endpoint: endpoint))
        } else if let id {
            let eventID = EventID.fromRilavekFileID(id) ?? id
            count = try outbox.requeue(.event(id: eventID))
            if count == 0 { count = try outbox.requeue(.delivery(id: id)) }
        }
        guard count > 0 else {
            printError("nothing to redeliver: no failed delivery matches; see `drophook deliveries --state failed`")
            throw ExitCode(1)
        }
        if json {
            printLine(JSONValue.object([("queued", .int(Int64(count)))]).serializedString)
            return
        }
        print("queued \(count) deliver\(count == 1 ? "y" : "ies") again; a running agent sends them within a second")
    }
}
