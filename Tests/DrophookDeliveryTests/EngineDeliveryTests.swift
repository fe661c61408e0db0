import DrophookDelivery
import DrophookEvents
import DrophookOutbox
import DrophookReceiver
import Foundation
import Testing

@Suite("Delivery engine over real HTTP")
struct EngineDeliveryTests {
    @Test("500 three times then 200: delivered on the 4th attempt, every attempt logged with the same event and delivery id")
    func retriesUntilDelivered() async throws {
        let secret = Array("s3cret".utf8)
        let receiver = try await WebhookReceiver.start(
            ReceiverConfiguration(
                secret: secret, script: .sequence([.status(500), .status(500), .status(500)], then: .status(200))
            ))
        let transport = CurlTransport()
        let endpoint = testEndpoint("hook", url: receiver.baseURL + "/hook")
        let harness = try EngineHarness(endpoints: [endpoint], transport: transport)
        let event = testEvent(path: "in/report.csv")
        try harness.append([event], endpoints: [endpoint])

        let webhooks = try await receiver.waitForWebhooks(count: 4)
        let delivery = try #require(try harness.outbox.recentDeliveries(endpoint: "hook").first)
        try await eventually("delivery recorded as delivered") {
            try harness.outbox.delivery(id: delivery.deliveryID)?.state == .delivered
        }
        try await harness.finish()
        await transport.shutdown()
        await receiver.stop()

        let carried = try webhooks.map { try CarriedIDs(body: $0.body) }
        #expect(Set(carried.map(\.event)) == [event.id])
        #expect(Set(carried.map(\.delivery)) == [delivery.deliveryID])
        #expect(Set(carried.map(\.attempt)).count == 4)
        #expect(webhooks.allSatisfy { $0.signatureVerified == true })
        #expect(webhooks.allSatisfy { $0.header("Authorization") == "Bearer token-hook" && $0.header("X-Team") == "ops" })

        let attempts = try harness.outbox.attempts(deliveryID: delivery.deliveryID)
        #expect(attempts.map(\.responseStatus) == [500, 500, 500, 200])
        #expect(attempts.map(\.result) == [.retry, .retry, .retry, .delivered])
        #expect(attempts.map(\.number) == [1, 2, 3, 4])
        #expect(attempts.map(\.id) == carried.map(\.attempt))
        // The log keeps the body sent but not the secrets.
        for (attempt, webhook) in zip(attempts, webhooks) {
            #expect(attempt.requestBody == webhook.body)
        }
        for attempt in attempts {
            #expect(attempt.requestHeaders.first { $0.name == "Authorization" }?.value == HeaderRedaction.placeholder)
            #expect(attempt.requestHeaders.first { $0.name == "X-Hub-Signature" }?.value == HeaderRedaction.placeholder)
            #expect(attempt.requestHeaders.first { $0.name == "X-Team" }?.value == "ops")
        }
    }

    @Test("a failing endpoint's retries are spaced by its schedule and end in failed after the last attempt")
    func exhaustedRetriesFail() async throws {
        let receiver = try await WebhookReceiver.start(ReceiverConfiguration(script: .always(.status(502))))
        let transport = CurlTransport()
        let endpoint = testEndpoint("hook", url: receiver.baseURL + "/hook", schedule: [.milliseconds(300), .milliseconds(300)])
        let harness = try EngineHarness(endpoints: [endpoint], transport: transport)
        try harness.append([testEvent(path: "a.csv")], endpoints: [endpoint])

        try await eventually("delivery failed") {
            try harness.outbox.recentDeliveries(endpoint: "hook").first?.state == .failed
        }
        let webhooks = receiver.received
        try await harness.finish()
        await transport.shutdown()
        await receiver.stop()

        #expect(webhooks.count == 3)
        for (earlier, later) in zip(webhooks, webhooks.dropFirst()) {
            #expect(later.receivedAt.timeIntervalSince(earlier.receivedAt) >= 0.29)
        }
        let delivery = try #require(try harness.outbox.recentDeliveries(endpoint: "hook").first)
        #expect(try harness.outbox.attempts(deliveryID: delivery.deliveryID).map(\.result) == [.retry, .retry, .failed])
    }

    @Test("a 4xx fails at once; redelivery sends it again with the same ids")
    func permanentFailureAndRedelivery() async throws {
        let receiver = try await WebhookReceiver.start(ReceiverConfiguration(script: .sequence([.status(404)], then: .status(200))))
        let transport = CurlTransport()
        let endpoint = testEndpoint("hook", url: receiver.baseURL + "/hook")
        let harness = try EngineHarness(endpoints: [endpoint], transport: transport)
        try harness.append([testEvent(path: "a.csv")], endpoints: [endpoint])
        try await eventually("delivery failed") {
            try harness.outbox.recentDeliveries(endpoint: "hook").first?.state == .failed
        }
        #expect(receiver.receivedCount == 1)

        // The CLI writes to the database; the engine picks it up on its own (no wake).
        let cli = try Outbox(stateDirectory: harness.directory)
        #expect(try cli.requeue(.allFailed(endpoint: "hook")) == 1)
        let webhooks = try await receiver.waitForWebhooks(count: 2)
        try await eventually("redelivered") {
            try harness.outbox.recentDeliveries(endpoint: "hook").first?.state == .delivered
        }
        try await harness.finish()
        await transport.shutdown()
        await receiver.stop()

        let carried = try webhooks.map { try CarriedIDs(body: $0.body) }
        #expect(carried[0].event == carried[1].event)
        #expect(carried[0].delivery == carried[1].delivery)
        #expect(carried[0].attempt != carried[1].attempt)
    }
}
