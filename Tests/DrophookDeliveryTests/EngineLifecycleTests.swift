import DrophookDelivery
import DrophookEvents
import DrophookOutbox
import DrophookReceiver
import Foundation
import Testing

@Suite("Delivery engine: ping, reload and restart")
struct EngineLifecycleTests {
    @Test("a ping queued by the CLI goes out as webhook.ping, signed, within the poll interval")
    func pingFromTheCLI() async throws {
        let receiver = try await WebhookReceiver.start(ReceiverConfiguration(secret: Array("s3cret".utf8)))
        let transport = CurlTransport()
        let endpoint = testEndpoint("hook", url: receiver.baseURL + "/hook")
        let harness = try EngineHarness(endpoints: [endpoint], transport: transport)
        let ping = try Outbox(stateDirectory: harness.directory).appendPing(endpoint: "hook")
        let webhook = try #require(try await receiver.waitForWebhooks(count: 1).first)
        try await eventually("ping delivered") { try harness.outbox.delivery(id: ping.deliveryID)?.state == .delivered }
        try await harness.finish()
        await transport.shutdown()
        await receiver.stop()

        #expect(webhook.topic == "webhook.ping")
        #expect(webhook.signatureVerified == true)
        #expect(webhook.header("Authorization") == "Bearer token-hook")
        #expect(try harness.outbox.attempts(eventID: ping.eventID).map(\.responseStatus) == [204])
    }

    @Test("a paused endpoint still answers a ping, which says it is paused, while file events wait")
    func pingWhilePaused() async throws {
        let receiver = try await WebhookReceiver.start()
        let transport = CurlTransport()
        let endpoint = testEndpoint("hook", url: receiver.baseURL + "/hook", ordered: true, paused: true)
        let harness = try EngineHarness(endpoints: [endpoint], transport: transport)
        try harness.append([testEvent(path: "held.csv")], endpoints: [endpoint])
        let ping = try Outbox(stateDirectory: harness.directory).appendPing(endpoint: "hook")
        let webhook = try #require(try await receiver.waitForWebhooks(count: 1).first)
        try await eventually("ping delivered") { try harness.outbox.delivery(id: ping.deliveryID)?.state == .delivered }
        try await harness.workerHasLooked("hook")
        #expect(receiver.receivedCount == 1)
        #expect(try harness.outbox.queueDepth(endpoint: "hook") == 1)
        try await harness.finish()
        await transport.shutdown()
        await receiver.stop()

        #expect(webhook.topic == "webhook.ping")
        #expect(webhook.json?["Data"]?["State"] == .string("paused"))
    }

    @Test("reload points an endpoint at a new URL without losing its queue")
    func reloadKeepsTheQueue() async throws {
        let old = try await WebhookReceiver.start(ReceiverConfiguration(script: .always(.status(503))))
        let new = try await WebhookReceiver.start()
        let transport = CurlTransport()
        let before = testEndpoint("hook", url: old.baseURL + "/hook", schedule: Array(repeating: .milliseconds(100), count: 100))
        let harness = try EngineHarness(endpoints: [before], transport: transport)
        let events = (0..<3).map { testEvent(path: "r\($0).csv") }
        try harness.append(events, endpoints: [before])
        _ = try await old.waitForWebhooks(count: 3)

        var after = before
        after.destination = .webhook(url: new.baseURL + "/v2/hook")
        harness.engine.reload(endpoints: [after])
        let webhooks = try await new.waitForWebhooks(count: 3)
        try await eventually("queue drained") { try harness.outbox.queueDepth(endpoint: "hook") == 0 }

        // Removing the endpoint stops its worker; its later events stay queued. A marker endpoint
        // on the same receiver gets the same event from the same wake: once its copy has
        // arrived, the removed endpoint's would have too.
        let marker = testEndpoint("marker", url: new.baseURL + "/marker")
        harness.engine.reload(endpoints: [marker])
        #expect(harness.engine.endpointNames == ["marker"])
        try await harness.outbox.append(WatchBatch(events: [testEvent(path: "later.csv")])) { _ in ["hook", "marker"] }
        harness.engine.wake()
        let afterRemoval = try await new.waitForWebhooks(count: 4)
        #expect(afterRemoval.map(\.path).filter { $0 == "/v2/hook" }.count == 3)
        #expect(afterRemoval.last?.path == "/marker")
        #expect(try harness.outbox.queueDepth(endpoint: "hook") == 1)

        try await harness.finish()
        await transport.shutdown()
        await old.stop()
        await new.stop()
        #expect(Set(webhooks.map(\.path)) == ["/v2/hook"])
        #expect(try Set(webhooks.map { try CarriedIDs(body: $0.body).event }) == Set(events.map(\.id)))
    }

    @Test("deliveries left in flight by a crash are sent again on start with the same delivery id")
    func restartResendsInterruptedDeliveries() async throws {
        let receiver = try await WebhookReceiver.start()
        let transport = CurlTransport()
        let endpoint = testEndpoint("hook", url: receiver.baseURL + "/hook")
        let directory = NSTemporaryDirectory() + "drophook-engine-\(UUID().uuidString.lowercased())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let event = testEvent(path: "crash.csv")
        let claimed: DeliveryJob
        do {
            // A previous run claimed the delivery and died before recording the attempt.
            let outbox = try Outbox(stateDirectory: directory)
            try await outbox.append(WatchBatch(events: [event])) { _ in ["hook"] }
            claimed = try #require(try outbox.claimDueDeliveries(endpoint: "hook", limit: 1).first)
        }
        let outbox = try Outbox(stateDirectory: directory)
        let engine = DeliveryEngine(outbox: outbox, transport: transport, endpoints: [endpoint])
        let task = Task { try await engine.run() }
        let webhook = try #require(try await receiver.waitForWebhooks(count: 1).first)
        try await eventually("delivered") { try outbox.delivery(id: claimed.deliveryID)?.state == .delivered }
        task.cancel()
        try await task.value
        await transport.shutdown()
        await receiver.stop()

        let carried = try CarriedIDs(body: webhook.body)
        #expect(carried.event == event.id)
        #expect(carried.delivery == claimed.deliveryID)
    }
}
