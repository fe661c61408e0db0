import DrophookEvents
import DrophookReceiver
import DrophookTestSupport
import Foundation
import Testing

/// What survives crashes, restarts, stops and reloads: nothing an agent accepted is lost.
@Suite("Durability", .serialized)
struct DurabilityTests {
    static func sftptogo(_ receiver: RunningReceiver, name: String = "ops", path: String = "/hook", extra: String = "") -> String {
        """
          - name: \(name)
            url: \(receiver.baseURL)\(path)
            format: sftptogo
            secret: durable
            retry: [200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms]
        \(extra)
        """
    }

    /// Event ids per created file path, from everything the receiver got.
    static func createdIDs(_ webhooks: [ReceivedWebhook]) -> [String: Set<String>] {
        var ids: [String: Set<String>] = [:]
        for webhook in webhooks where webhook.topic == "file.created" {
            guard let json = webhook.json, let path = json["Data"]?["Path"]?.stringValue, !path.hasSuffix("/"),
                let id = json["Id"]?.stringValue
            else { continue }
            ids[path, default: []].insert(id)
        }
        return ids
    }

    @Test func killNineMidBurstLosesNoEvent() async throws {
        let receiver = try await WebhookReceiver.start(.init(historyLimit: 100_000))
        let agent = try AgentUnderTest(webhooks: Self.sftptogo(receiver, extra: "    concurrency: 16"))
        defer { agent.cleanUp() }
        try await agent.start()

        let total = 5000
        var expected: Set<String> = []
        for folder in 0..<10 {
            try FileManager.default.createDirectory(
                at: agent.dropDirectory.appendingPathComponent("d\(folder)"), withIntermediateDirectories: true)
        }
        var killed = false
        for index in 0..<total {
            let path = "d\(index % 10)/file-\(index).csv"
            try Data("row \(index)\n".utf8).write(to: agent.dropDirectory.appendingPathComponent(path))
            expected.insert(path)
            // Kill the agent mid-burst, once it has started delivering (or two thirds in, on a
            // machine too busy to have delivered yet); the rest of the burst lands while it is down.
            if !killed, index >= total / 3, receiver.receivedCount > 0 || index >= 2 * total / 3 {
                agent.kill9()
                killed = true
            }
        }
        #expect(killed)
        try await agent.start(timeout: .seconds(60))

        _ = await pollUntil(within: .seconds(120)) { Set(Self.createdIDs(receiver.received).keys) == expected }
        let ids = Self.createdIDs(receiver.received)
        let missing = expected.subtracting(ids.keys)
        #expect(missing.isEmpty, "\(missing.count) files never arrived, e.g. \(missing.sorted().prefix(5))")
        #expect(Set(ids.keys).subtracting(expected).isEmpty, "no invented files")
        let withTwoIDs = ids.filter { $0.value.count > 1 }
        #expect(withTwoIDs.isEmpty, "a redelivered file must carry the same event id: \(withTwoIDs.prefix(3))")
        #expect(agent.terminate() == 0)
        await receiver.stop()
    }

    @Test func gracefulStopKeepsOwedEventsForTheNextStart() async throws {
        let receiver = try await WebhookReceiver.start(.init(script: .always(.status(503))))
        let agent = try AgentUnderTest(webhooks: Self.sftptogo(receiver))
        defer { agent.cleanUp() }
        try await agent.start()
        for name in ["a.txt", "b.txt", "c.txt"] {
            try Data(name.utf8).write(to: agent.dropDirectory.appendingPathComponent(name))
        }
        let refused = try await receiver.waitForWebhooks(count: 3, timeout: .seconds(20))
        let firstIDs = Self.createdIDs(refused)
        #expect(agent.terminate() == 0, "SIGTERM exits cleanly: \(agent.log.suffix(2000))")

        receiver.setScript(.always(.noContent))
        // Only what the restarted agent sends counts: the first run's refused attempts are
        // before this mark. Awaited; a restart that delivers nothing fails here.
        let mark = receiver.received.count
        try await agent.start()
        let all = try await receiver.waitForWebhooks(count: mark + 3, timeout: .seconds(30))
        let after = Self.createdIDs(Array(all[mark...]))
        #expect(Set(after.keys) == ["a.txt", "b.txt", "c.txt"], "the restarted agent delivered \(after.keys.sorted())")
        for (path, ids) in after {
            #expect(ids == firstIDs[path], "\(path) is delivered with the id of its first attempt")
        }
        _ = agent.terminate()
        await receiver.stop()
    }

    @Test func restartReportsWhatChangedWhileDown() async throws {
        let receiver = try await WebhookReceiver.start()
        let agent = try AgentUnderTest(webhooks: Self.sftptogo(receiver))
        defer { agent.cleanUp() }
        try Data("old".utf8).write(to: agent.dropDirectory.appendingPathComponent("before-first-start.txt"))
        try await agent.start()
        try Data("a".utf8).write(to: agent.dropDirectory.appendingPathComponent("a.txt"))
        _ = try await receiver.waitForWebhooks(count: 1, timeout: .seconds(20))
        #expect(agent.terminate() == 0)

        try Data("bb".utf8).write(to: agent.dropDirectory.appendingPathComponent("b.txt"))
        try FileManager.default.removeItem(at: agent.dropDirectory.appendingPathComponent("a.txt"))
        try await agent.start()
        let all = try await receiver.waitForWebhooks(count: 3, timeout: .seconds(20))
        let caughtUp = Array(all.dropFirst())
        let created = try #require(caughtUp.first { $0.topic == "file.created" })
        #expect(created.json?["Data"]?["Path"]?.stringValue == "b.txt")
        #expect(created.json?["Data"]?["Size"]?.intValue == 2)
        #expect(created.json?["Data"]?["FoundByScan"]?.boolValue == true)
        let deleted = try #require(caughtUp.first { $0.topic == "file.deleted" })
        #expect(deleted.json?["Data"]?["Path"]?.stringValue == "a.txt")

        // Exactly those: the outbox holds the three events and nothing about the file that
        // was there before the very first start.
        let (_, listing, _) = try AgentUnderTest.command(["deliveries", "--config", agent.configFile.path])
        #expect(listing.split(separator: "\n").count == 1 + 3, "\(listing)")
        #expect(!listing.contains("before-first-start"))
        _ = agent.terminate()
        await receiver.stop()
    }

    @Test func hangupReloadsWebhooksWithoutLosingTheQueue() async throws {
        let receiver = try await WebhookReceiver.start()
        let agent = try AgentUnderTest(webhooks: Self.sftptogo(receiver, extra: "    paused: true"))
        defer { agent.cleanUp() }
        try await agent.start()
        try Data("queued".utf8).write(to: agent.dropDirectory.appendingPathComponent("queued.txt"))
        // Paused: wait until the event is in the outbox, then reload with the pause lifted
        // and a second webhook added.
        let queued = try await pollUntil(within: .seconds(20)) {
            try AgentUnderTest.command(["deliveries", "--config", agent.configFile.path]).stdout.contains("queued.txt")
        }
        #expect(queued, "the paused delivery is in the outbox")
        #expect(receiver.receivedCount == 0)
        let config = try String(contentsOf: agent.configFile, encoding: .utf8)
            .replacingOccurrences(of: "    paused: true", with: Self.sftptogo(receiver, name: "second", path: "/second"))
        try config.write(to: agent.configFile, atomically: true, encoding: .utf8)
        agent.signal(SIGHUP)

        _ = try await receiver.waitForWebhooks(count: 1, timeout: .seconds(20))
        try Data("after".utf8).write(to: agent.dropDirectory.appendingPathComponent("after.txt"))
        let all = try await receiver.waitForWebhooks(count: 3, timeout: .seconds(20))
        #expect(all.contains { $0.path == "/hook" && $0.json?["Data"]?["Path"]?.stringValue == "queued.txt" })
        #expect(all.contains { $0.path == "/hook" && $0.json?["Data"]?["Path"]?.stringValue == "after.txt" })
        #expect(all.contains { $0.path == "/second" && $0.json?["Data"]?["Path"]?.stringValue == "after.txt" })

        // A broken config on reload is refused; the agent keeps running on the old one.
        try "watches: [oops".write(to: agent.configFile, atomically: true, encoding: .utf8)
        agent.signal(SIGHUP)
        try Data("still".utf8).write(to: agent.dropDirectory.appendingPathComponent("still.txt"))
        let later = try await receiver.waitForWebhooks(count: 5, timeout: .seconds(20))
        #expect(later.filter { $0.json?["Data"]?["Path"]?.stringValue == "still.txt" }.count == 2)
        #expect(agent.log.contains("not reloading"))
        _ = agent.terminate()
        await receiver.stop()
    }
}
