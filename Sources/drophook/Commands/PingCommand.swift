import ArgumentParser

struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ping")
    func run() async throws {}
}
