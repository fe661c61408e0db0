import ArgumentParser
import DrophookAgent
import DrophookDelivery
import Foundation

/// `drophook status`: what the running agent last said about itself.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show whether the agent is running and watching, and each webhook's queue."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "Wait up to this long (e.g. 30s) for the agent to be watching; exit 1 if it is not by then.")
    var wait: String?

    @Flag(help: "Print the status as JSON.") var json = false

    func run() async throws {
        let configuration = try options.load()
        let deadline: ContinuousClock.Instant
        do {
            deadline = ContinuousClock.now + (try wait.map { try DurationParser.parse($0, key: "--wait") } ?? .zero)
        } catch {
            throw ValidationError("\(error)")
        }
        var status = AgentStatus.read(stateDirectory: configuration.stateDirectory)
        while !(status.map { $0.ready && $0.processIsAlive } ?? false), ContinuousClock.now < deadline {
            // The agent rewrites its status file within a quarter second of a change.
            try await Task.sleep(for: .milliseconds(100))
            status = AgentStatus.read(stateDirectory: configuration.stateDirectory)
        }
        // The last look says why a status file that is there cannot be read.
        if status == nil {
            do {
                status = try AgentStatus.load(stateDirectory: configuration.stateDirectory)
            } catch {
                printError("\(error)")
                throw ExitCode(1)
            }
        }
        guard let status, status.processIsAlive else {
            printError("drophook is not running (no live agent wrote \(AgentStatus.path(stateDirectory: configuration.stateDirectory)))")
            throw ExitCode(1)
        }
        if json {
            print(String(decoding: status.jsonBytes(), as: UTF8.self))
        } else {
            print(StatusFormat.text(status))
        }
        if wait != nil, !status.ready { throw ExitCode(1) }
    }
}
