import DrophookAgent
import DrophookEvents
import DrophookOutbox
import DrophookReceiver
import DrophookTestSupport
import Foundation
import Glibc
import Testing

/// An outbox damaged on disk (a page overwritten, the file cut short): the agent refuses to
/// start with the command that fixes it, and `recover-outbox` keeps what can be read.
@Suite("Damaged outbox", .serialized)
struct DamagedOutboxTests {
    enum Damage: String, CaseIterable, Sendable {
        case overwrittenPage, truncated
    }

    @Test(.timeLimit(.minutes(2)), arguments: Damage.allCases)
    func aDamagedOutboxIsNamedAtStartAndRecovered(damage: Damage) async throws {
        let receiver = try await WebhookReceiver.start(.init(script: .always(.status(503))))
        let agent = try AgentUnderTest(webhooks: """
              - name: ops
                url: \(receiver.baseURL)/hook
                format: sftptogo
                retry: [1h]
            """)
        defer { agent.cleanUp() }
        try await agent.start()
        let names = (0..<300).map { "owed-\($0).csv" }
        for name in names { try Data(name.utf8).write(to: agent.dropDirectory.appendingPathComponent(name)) }
        _ = try await receiver.waitForWebhooks(count: 300, timeout: .seconds(30))
        #expect(agent.terminate() == 0)

        let file = agent.stateDirectory.appendingPathComponent(Outbox.fileName).path
        let size = try #require(try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
        #expect(size > 16 * 4096, "a file of many pages: \(size) bytes")
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: file))
        switch damage {
        case .overwrittenPage:
            try handle.seek(toOffset: UInt64(size / 2 / 4096 * 4096))
            try handle.write(contentsOf: Data(repeating: 0xA5, count: 4096))
        case .truncated:
            try handle.truncate(atOffset: UInt64(size / 2))
        }
        try handle.close()

        let refused = try AgentUnderTest.command(["run", "--config", agent.configFile.path])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("the outbox \(file) is damaged"), "\(refused.stderr)")
        #expect(refused.stderr.contains("stop the agent and run `drophook recover-outbox --config \(agent.configFile.path)`"), "\(refused.stderr)")

        let recovered = try AgentUnderTest.command(["recover-outbox", "--config", agent.configFile.path])
        #expect(recovered.status == 0, "\(recovered)")
        let eventLine = try #require(recovered.stdout.split(separator: "\n").first { $0.hasPrefix("event: ") })
        let kept = Int(eventLine.dropFirst("event: ".count).prefix { $0.isNumber }) ?? 0
        #expect(kept > 0 && kept <= 300, "\(recovered.stdout)")
        let aside = try FileManager.default.contentsOfDirectory(atPath: agent.stateDirectory.path).filter { $0.hasPrefix("outbox.sqlite.damaged-") }
        #expect(!aside.isEmpty)

        // The rebuilt outbox is sound and the agent runs on it: the owed deliveries it kept go out.
        receiver.setScript(.always(.noContent))
        try await agent.start()
        // Their retries were an hour away; the operator sends them now.
        let resumed = try AgentUnderTest.command(["resume", "ops", "--config", agent.configFile.path])
        #expect(resumed.status == 0, "\(resumed)")
        let counts = try AgentUnderTest.command(["status", "--config", agent.configFile.path])
        #expect(!counts.stdout.contains("UNHEALTHY"), "\(counts.stdout)")
        let delivered = await pollUntil(within: .seconds(30)) {
            Set(receiver.received.dropFirst(300).compactMap { $0.json?["Data"]?["Path"]?.stringValue }).count >= min(kept, 300) / 2
        }
        #expect(delivered, "kept \(kept), then received \(receiver.receivedCount - 300)")
        #expect(agent.terminate() == 0)
        await receiver.stop()
    }
}
