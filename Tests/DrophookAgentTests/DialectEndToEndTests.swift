import DrophookEvents
import DrophookReceiver
import Foundation
import Glibc
import Testing

/// The dialects through the real binary: config → watcher → outbox → signed POSTs.
@Suite("End to end: dialects and filters", .serialized)
struct DialectEndToEndTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    @Test("Standard Webhooks from a secret file, binary CloudEvents signed GitHub-style with a path filter")
    func standardAndCloudEventsWithAFilter() async throws {
        // One secret text serves both: a whsec_ secret for `standard`, any text for `github`.
        let receiver = try await WebhookReceiver.start(.init(secret: Array(Self.secret.utf8)))
        let secretFile = FileManager.default.temporaryDirectory.appendingPathComponent("drophook-e2e-\(UUID().uuidString.prefix(8)).secret")
        try (Self.secret + "\n").write(to: secretFile, atomically: true, encoding: .utf8)
        chmod(secretFile.path, 0o600)
        defer { try? FileManager.default.removeItem(at: secretFile) }
        let agent = try AgentUnderTest(
            webhooks: """
                  - name: std
                    url: \(receiver.baseURL)/standard
                    format: standard
                    secret_file: \(secretFile.path)
                    retry: [100ms]
                  - name: ce
                    url: \(receiver.baseURL)/ce
                    format: cloudevents
                    cloudevents_mode: binary
                    signature: github
                    secret: "\(Self.secret)"
                    paths: ["in/**", "!**/*.tmp"]
                    retry: [100ms]
                """)
        defer { agent.cleanUp() }
        try await agent.start()
        let drop = agent.dropDirectory
        try FileManager.default.createDirectory(at: drop.appendingPathComponent("in"), withIntermediateDirectories: false)
        try Data("a".utf8).write(to: drop.appendingPathComponent("in/a.csv"))
        try FileManager.default.createDirectory(at: drop.appendingPathComponent("other"), withIntermediateDirectories: false)
        try Data("b".utf8).write(to: drop.appendingPathComponent("other/b.csv"))
        try Data("t".utf8).write(to: drop.appendingPathComponent("in/x.tmp"))
        // std: in/, in/a.csv, other/, other/b.csv, in/x.tmp; ce: in, in/a.csv.
        _ = try await receiver.waitForWebhooks(count: 7, timeout: .seconds(20))
        // The marker reaches both; by then anything else would have arrived too.
        try Data("z".utf8).write(to: drop.appendingPathComponent("in/zz.csv"))
        let received = try await receiver.waitForWebhooks(count: 9, timeout: .seconds(20))
        #expect(agent.terminate() == 0)
        await receiver.stop()

        for webhook in received { #expect(webhook.signatureVerified == true, "\(webhook.path): \(webhook.summary)") }
        let standard = received.filter { $0.path == "/standard" }
        let cloudEvents = received.filter { $0.path == "/ce" }
        #expect(
            Set(standard.compactMap { $0.json?["data"]?["path"]?.stringValue })
                == ["in", "in/a.csv", "other", "other/b.csv", "in/x.tmp", "in/zz.csv"])
        for webhook in standard {
            #expect(webhook.header("webhook-id") == webhook.json?["data"]?["id"]?.stringValue)
            #expect(webhook.header("X-Drophook-Event") == webhook.json?["type"]?.stringValue)
        }
        #expect(Set(cloudEvents.compactMap { $0.header("ce-subject") }) == ["in", "in/a.csv", "in/zz.csv"])
        for webhook in cloudEvents {
            #expect(webhook.header("ce-type") == "io.drophook.file.created")
            #expect(webhook.header("ce-source")?.hasPrefix("drophook://") == true)
            #expect(webhook.header("X-Hub-Signature-256")?.hasPrefix("sha256=") == true)
            #expect(webhook.json?["path"]?.stringValue == webhook.header("ce-subject"))
        }
    }
}
