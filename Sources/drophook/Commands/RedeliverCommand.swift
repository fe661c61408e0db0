import ArgumentParser

struct RedeliverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "redeliver")
    func run() async throws {}
}
