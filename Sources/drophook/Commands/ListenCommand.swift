import ArgumentParser

struct ListenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "listen")
    func run() async throws {}
}
