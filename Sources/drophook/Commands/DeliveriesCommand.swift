import ArgumentParser
import DrophookAgent
import DrophookEvents
import DrophookOutbox
import Foundation

/// `drophook deliveries`: the delivery log — what happened to each event at each endpoint.
struct DeliveriesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliveries",
        abstract: "List recent deliveries, or show every attempt of one event or delivery.",
        discussion: """
            Without an id: one line per delivery, newest first. With an event id or a delivery id: \
            each attempt with its request headers (secrets redacted), body, response status and body.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "An event id (Id / file_id) or a delivery id (Metadata.Delivery.Id) to show in full.")
    var id: String?

    @Option(help: "Only this webhook.") var endpoint: String?
    @Option(help: "Only this state: pending, delivering, delivered or failed.") var state: String?
    @Option(help: "At most this many lines.") var limit: Int = 50

    func run() async throws {
        let outbox = try OutboxAccess.open(options)
        if let id {
            try showAttempts(outbox, id: id)
            return
        }
        var stateFilter: DeliveryState?
        if let state {
            guard let parsed = DeliveryState(rawValue: state) else {
                printError("--state: '\(state)' is not a delivery state; use pending, delivering, delivered or failed")
                throw ExitCode(2)
            }
            stateFilter = parsed
        }
        let rows = try outbox.recentDeliveries(endpoint: endpoint, state: stateFilter, limit: limit)
        print(DeliveryLogFormat.header)
        for row in rows { print(DeliveryLogFormat.line(row)) }
    }

    private func showAttempts(_ outbox: Outbox, id: String) throws {
        // Rilavek receivers know an event by its file_id: accept that form too.
        let eventID = EventID.fromRilavekFileID(id) ?? id
        var attempts = try outbox.attempts(eventID: eventID)
        if attempts.isEmpty { attempts = try outbox.attempts(deliveryID: id) }
        guard !attempts.isEmpty else {
            if let delivery = try outbox.delivery(id: id) {
                print(DeliveryLogFormat.header)
                print(DeliveryLogFormat.line(delivery))
                print("no attempts yet")
                return
            }
            printError("\(id): no event or delivery with this id in \(outbox.path); list them with `drophook deliveries`")
            throw ExitCode(1)
        }
        for attempt in attempts { print(DeliveryLogFormat.detail(attempt)) }
    }
}

/// Opens the outbox named by a config, for the commands that read or steer it while the agent runs.
enum OutboxAccess {
    static func open(_ options: ConfigOptions) throws -> Outbox {
        try open(options.load())
    }

    /// The outbox of an already loaded config.
    static func open(_ configuration: AgentConfiguration) throws -> Outbox {
        let path = "\(configuration.stateDirectory)/\(Outbox.fileName)"
        guard FileManager.default.fileExists(atPath: path) else {
            printError("\(path): no outbox yet; the agent creates it on its first run (`drophook run`)")
            throw ExitCode(1)
        }
        return try Outbox(path: path)
    }
}
