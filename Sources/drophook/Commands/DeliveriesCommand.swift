import ArgumentParser
import DrophookAgent
import DrophookEvents
import DrophookOutbox
import Foundation

/// `drophook deliveries`: the delivery log — what happened to each event at each endpoint.
struct DeliveriesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliveries",
        abstract: "List deliveries, or show every attempt of one event or delivery.",
        discussion: """
            Without an id: one line per delivery, newest first; the filters combine, e.g. \
            `drophook deliveries --since 24h --path 'alice/invoices/*' --state failed`. With an event id \
            or a delivery id: each attempt with its request headers (secrets redacted), body, response \
            status and body. Names are shown with control characters escaped; --json keeps them exact.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "An event id (Id / file_id) or a delivery id (Metadata.Delivery.Id) to show in full.")
    var id: String?

    @Option(help: "Only this webhook.") var endpoint: String?
    @Option(help: "Only this state: pending, delivering, delivered or failed.") var state: String?
    @Option(help: "Only deliveries created since then: a duration ago (24h, 30m, 7d) or a time (2026-12-01T00:00:00Z).")
    var since: String?
    @Option(help: "Only deliveries created before then (same forms as --since).") var until: String?
    @Option(help: "Only paths matching this glob, relative to the watch root (* and ? within a segment, ** across).")
    var path: String?
    @Option(help: "Only this watch.") var watch: String?
    @Option(help: "At most this many lines.") var limit: Int = 50
    @Flag(help: "Print JSON (exact names, full attempts) instead of a table.") var json = false

    func run() async throws {
        let outbox = try OutboxAccess.open(options)
        if let id {
            try showAttempts(outbox, id: id)
            return
        }
        var search = DeliverySearch(endpoint: endpoint, watch: watch, limit: limit)
        if let state {
            guard let parsed = DeliveryState(rawValue: state) else {
                printError("--state: '\(state)' is not a delivery state; use pending, delivering, delivered or failed")
                throw ExitCode(2)
            }
            search.state = parsed
        }
        search.sinceMillis = try since.map { try TimeArgument.millis($0, option: "--since") }
        search.untilMillis = try until.map { try TimeArgument.millis($0, option: "--until") }
        if let path {
            do {
                search.path = try PathGlob(path)
            } catch {
                printError("--path: \(error)")
                throw ExitCode(2)
            }
        }
        let rows = try outbox.searchDeliveries(search)
        if json {
            printLine(DeliveryLogJSON.summaries(rows))
            return
        }
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
                if json {
                    printLine(DeliveryLogJSON.summaries([delivery]))
                    return
                }
                print(DeliveryLogFormat.header)
                print(DeliveryLogFormat.line(delivery))
                print("no attempts yet")
                return
            }
            printError("\(id): no event or delivery with this id in \(outbox.path); list them with `drophook deliveries`")
            throw ExitCode(1)
        }
        if json {
            printLine(DeliveryLogJSON.attempts(attempts))
            return
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
        try becomeOwner(of: path)
        return try Outbox(path: path)
    }

    /// Root running a command on the agent's outbox becomes the outbox's owner (the `drophook`
    /// user of the packaged unit) first: SQLite's `-wal` and `-shm` files it may create must
    /// stay the agent's, or the agent could no longer open its own database.
    static func becomeOwner(of path: String) throws {
        var status = stat()
        guard geteuid() == 0, stat(path, &status) == 0, status.st_uid != 0 else { return }
        guard setgroups(0, nil) == 0, setgid(status.st_gid) == 0, setuid(status.st_uid) == 0 else {
            printError(
                "\(path) belongs to uid \(status.st_uid); cannot switch to it (\(String(cString: strerror(errno)))): run the command as that user"
            )
            throw ExitCode(1)
        }
    }
}
