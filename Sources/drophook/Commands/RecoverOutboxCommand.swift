import ArgumentParser
import DrophookAgent
import DrophookEvents
import DrophookOutbox
import Foundation

/// `drophook recover-outbox`: rebuilds a damaged outbox from every row that can be read.
struct RecoverOutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover-outbox",
        abstract: "Rebuild a damaged outbox from every row that can still be read (the agent must be stopped).",
        discussion: """
            The damaged file is kept beside the new one as outbox.sqlite.damaged-<time>. Owed deliveries \
            that could be read are sent at the next start; snapshot rows that were lost make their files \
            reported again by the start-up scan (twice rather than never).
            """
    )

    @OptionGroup var options: ConfigOptions
    @Flag(help: "Print what was kept as JSON.") var json = false

    func run() async throws {
        let configuration = try options.load()
        let path = "\(configuration.stateDirectory)/\(Outbox.fileName)"
        guard FileManager.default.fileExists(atPath: path) else {
            printError("\(path): there is no outbox to recover")
            throw ExitCode(1)
        }
        let status: AgentStatus?
        do {
            status = try AgentStatus.load(stateDirectory: configuration.stateDirectory)
        } catch {
            printError("\(error); cannot tell whether the agent runs: stop it first (systemctl stop drophook) and remove the file")
            throw ExitCode(1)
        }
        if let status, status.processIsAlive {
            printError("\(path): the agent (pid \(status.pid)) is running; stop it first (systemctl stop drophook)")
            throw ExitCode(1)
        }
        try OutboxAccess.becomeOwner(of: path)
        let report = try Outbox.salvage(stateDirectory: configuration.stateDirectory, watches: configuration.watches.map(\.name))
        if json {
            printLine(
                JSONValue.object([
                    ("damaged_file", .string(report.damagedFile)),
                    (
                        "tables",
                        .array(
                            report.tables.map { table in
                                .object([
                                    ("name", .string(table.name)), ("kept", .int(Int64(table.kept))),
                                    ("damaged_stretches", .int(Int64(table.damagedStretches))), ("orphans", .int(Int64(table.orphans))),
                                ])
                            })
                    ),
                ]).serializedString)
            return
        }
        for table in report.tables {
            var line = "\(table.name): \(table.kept) rows kept"
            if table.damagedStretches > 0 { line += ", \(table.damagedStretches) unreadable stretches skipped" }
            if table.orphans > 0 { line += ", \(table.orphans) rows dropped whose parent was lost" }
            print(line)
        }
        print("the damaged file is kept at \(report.damagedFile); start the agent: its start-up scan reports what changed")
    }
}
