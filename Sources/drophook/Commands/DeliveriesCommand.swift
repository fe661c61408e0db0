import ArgumentParser

struct DeliveriesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deliveries")
    func run() async throws {}
}
