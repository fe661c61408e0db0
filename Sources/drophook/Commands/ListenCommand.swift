import ArgumentParser
import DrophookEvents
import DrophookReceiver
import Foundation
import UnixSignals

/// `drophook listen`: a local receiver that prints each webhook and whether its signature verifies.
struct ListenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Receive webhooks locally and print each one with its signature check.",
        discussion: """
            For trying drophook out and for checking an endpoint's config: point a webhook's url at \
            http://127.0.0.1:PORT/ and give the same secret here. Answers 204 No Content.
            """
    )

    @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port: Int = 8787
    @OptionGroup var secret: SecretOptions
    @Flag(help: "Also print each body.") var body = false
    @Flag(help: "Print one JSON object per webhook (method, path, headers, exact body, signature check).") var json = false

    func run() async throws {
        // Every scheme is checked: whichever signature headers a request carries decide.
        let key = try secret.load()
        let receiver = try await WebhookReceiver.start(ReceiverConfiguration(host: host, port: port, secret: key))
        let showBody = body
        let asJSON = json
        if !asJSON { printLine("listening on \(receiver.baseURL)/ (signatures \(key == nil ? "not checked: no --secret" : "checked"))") }
        let printer = Task {
            for await webhook in receiver.webhooks {
                if asJSON {
                    printLine(Self.json(webhook))
                    continue
                }
                // Names come from partners: control characters are shown escaped, never sent raw.
                printLine(TerminalText.escaped(webhook.summary))
                if showBody { printLine("  " + TerminalText.escaped(String(decoding: webhook.body, as: UTF8.self), backslashes: false)) }
            }
        }
        for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { break }
        printer.cancel()
        await receiver.stop()
    }

    /// One received webhook as a JSON line, exact (nothing escaped for a terminal).
    static func json(_ webhook: ReceivedWebhook) -> String {
        JSONValue.object([
            (
                "received_at",
                .string(ISO8601Timestamp.string(fromMillis: Int64((webhook.receivedAt.timeIntervalSince1970 * 1000).rounded(.down))))
            ),
            ("method", .string(webhook.method)),
            ("path", .string(webhook.path)),
            ("headers", DeliveryLogJSON.headers(webhook.headers)),
            DeliveryLogJSON.body(webhook.body),
            ("signature", webhook.signature.map { .string("\($0)") } ?? .null),
            ("verified", webhook.signatureVerified.map(JSONValue.bool) ?? .null),
        ]).serializedString
    }
}
