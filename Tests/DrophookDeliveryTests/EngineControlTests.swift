import DrophookDelivery
import DrophookEvents
import DrophookOutbox
import DrophookReceiver
import Foundation
import Testing

@Suite("Delivery engine: outages, order, pause and disable")
struct EngineControlTests {
    /// A loopback port with nothing listening: a receiver is started on an ephemeral port and
    /// stopped, so connecting is refused until a receiver binds it again.
    func closedPort() async throws -> Int {
        let probe = try await WebhookReceiver.start()
        let port = probe.port
        await probe.stop()
        return port
    }

    @Test("receiver down, then up: the backlog of an ordered endpoint arrives complete and in order")
    func backlogDeliveredInOrderAfterOutage() async throws {
        let port = try await closedPort()
        let transport = CurlTransport()
        let endpoint = testEndpoint(
            "ordered", url: "http://127.0.0.1:\(port)/hook",
            schedule: Array(repeating: .milliseconds(100), count: 50), ordered: true)
        let harness = try EngineHarness(endpoints: [endpoint], transport: transport)
        let events = (0..<6).map { testEvent($0 == 3 ? .deleted : .created, path: "f\($0 % 3).csv") }
        try harness.append(Array(events.prefix(3)), endpoints: [endpoint])
        try await eventually("first attempt refused") {
            try harness.outbox.recentDeliveries(endpoint: "ordered").contains { $0.attemptCount > 0 }
        }
        try harness.append(Array(events.suffix(3)), endpoints: [endpoint])
        // While the head is retrying, nothing behind it may have been tried.
        let tried = try harness.outbox.recentDeliveries(endpoint: "ordered").filter { $0.attemptCount > 0 }
        #expect(tried.map(\.eventID) == [events[0].id])

        let receiver = try await WebhookReceiver.start(ReceiverConfiguration(port: port))
        let webhooks = try await receiver.waitForWebhooks(count: 6)
        try await eventually("all delivered") { try harness.outbox.queueDepth(endpoint: "ordered") == 0 }
        try await harness.finish()
        await transport.shutdown()
        await receiver.stop()

        #expect(try webhooks.map { try CarriedIDs(body: $0.body).event } == events.map(\.id))
        #expect(receiver.receivedCount == 6)
    }

    @Test("an unordered endpoint delivers the whole backlog once the receiver is back")
    func backlogDeliveredAfterOutage() async throws {
        let port = try await closedPort()
        let transport = CurlTransport()
        let endpoint = testEndpoint(
            "hook", url: "http://127.0.0.1:\(port)/hook",
            schedule: Array(repeating: .milliseconds(100), count: 50), concurrency: 4)
        let harness = try EngineHarness(endpoints: [endpoint], transport: transport)
        let events = (0..<20).map { testEvent(path: "batch/\($0).csv") }
        try harness.append(events, endpoints: [endpoint])
        try await eventually("attempts refused") {
            try harness.outbox.recentDeliveries(endpoint: "hook", limit: 100).allSatisfy { $0.attemptCount > 0 }
        }
        let receiver = try await WebhookReceiver.start(ReceiverConfiguration(port: port))
        _ = try await receiver.waitForWebhooks(count: 20)
        try await eventually("all delivered") { try harness.outbox.queueDepth(endpoint: "hook") == 0 }
        try await harness.finish()
        await transport.shutdown()
        await receiver.stop()

        let carried = try receiver.received.map { try CarriedIDs(body: $0.body) }
        #expect(Set(carried.map(\.event)) == Set(events.map(\.id)))
        #expect(carried.count == 20)
    }

    @Test("a paused endpoint queues durably and delivers in order on resume")
    func pauseAndResume() async throws {
        let receiver = try await WebhookReceiver.start()
        let transport = CurlTransport()
        let endpoint = testEndpoint("hook", url: receiver.baseURL + "/hook", ordered: true, paused: true)
        let harness = try EngineHarness(endpoints: [endpoint], transport: transport)
        let events = (0..<5).map { testEvent(path: "p\($0).csv") }
        try harness.append(events, endpoints: [endpoint])
        try await harness.workerHasLooked("hook")
        #expect(receiver.receivedCount == 0)
        #expect(try harness.outbox.queueDepth(endpoint: "hook") == 5)

        // `drophook resume` from the CLI: a second outbox on the same file.
        let cli = try Outbox(stateDirectory: harness.directory)
        try cli.setPaused("hook", false)
        let webhooks = try await receiver.waitForWebhooks(count: 5)
        #expect(try webhooks.map { try CarriedIDs(body: $0.body).event } == events.map(\.id))

        // Pausing again at run time holds new events back.
        try cli.setPaused("hook", true)
        try await harness.workerHasLooked("hook")
        try harness.append([testEvent(path: "late.csv")], endpoints: [endpoint])
        try await harness.workerHasLooked("hook")
        #expect(receiver.receivedCount == 5)
        try cli.setPaused("hook", nil)
        try await harness.workerHasLooked("hook")
        #expect(receiver.receivedCount == 5) // the config still says paused
        try cli.setPaused("hook", false)
        _ = try await receiver.waitForWebhooks(count: 6)

        try await harness.finish()
        await transport.shutdown()
        await receiver.stop()
    }

    @Test("a hanging endpoint and a refusing one don't delay a healthy one")
    func deadEndpointsDontDelayOthers() async throws {
        let port = try await closedPort()
        let hanging = try await WebhookReceiver.start(ReceiverConfiguration(script: .always(.hang(for: .seconds(30)))))
        let healthy = try await WebhookReceiver.start()
        let transport = CurlTransport()
        let endpoints = [
            testEndpoint("refused", url: "http://127.0.0.1:\(port)/hook", schedule: [.seconds(60)], concurrency: 2),
            testEndpoint("hanging", url: hanging.baseURL + "/hook", concurrency: 2, totalTimeout: .seconds(20)),
            testEndpoint("healthy", url: healthy.baseURL + "/hook", concurrency: 2),
        ]
        let harness = try EngineHarness(endpoints: endpoints, transport: transport)
        let events = (0..<10).map { testEvent(path: "x\($0).csv") }
        try harness.append(events, endpoints: endpoints)
        // The bound comes from the hanging endpoint, not from a guess at the machine's speed: a
        // healthy endpoint that waited on it could not finish before its held requests time out
        // (totalTimeout 20 s), so all ten arriving within 15 s shows it did not wait.
        _ = try await healthy.waitForWebhooks(count: 10, timeout: .seconds(15))
        // Its two slots are held by hanging requests: two arrive, and no third while they hang.
        _ = try await hanging.waitForWebhooks(count: 2, timeout: .seconds(15))
        #expect(hanging.receivedCount == 2)
        try await eventually("healthy queue empty") { try harness.outbox.queueDepth(endpoint: "healthy") == 0 }
        #expect(try harness.outbox.queueDepth(endpoint: "refused") == 10)

        await hanging.stop()
        try await harness.finish()
        await transport.shutdown()
        await healthy.stop()
    }

    @Test("a receiver answering garbage or a broken status line is retried, with the reason in the delivery log")
    func malformedRepliesAreRetried() async throws {
        let server = try CurlTestServer()
        defer { server.stop() }
        let transport = CurlTransport()
        let endpoints = [
            testEndpoint("garbage", url: server.url("/garbage"), schedule: [.milliseconds(10), .milliseconds(10)]),
            testEndpoint("badstatus", url: server.url("/badstatus"), schedule: [.milliseconds(10), .milliseconds(10)]),
        ]
        let harness = try EngineHarness(endpoints: endpoints, transport: transport)
        let event = testEvent(path: "m.csv")
        try harness.append([event], endpoints: endpoints)
        try await eventually("every attempt made") { try harness.outbox.attempts(eventID: event.id).count == 6 }
        try await harness.finish()
        await transport.shutdown()
        let attempts = try harness.outbox.attempts(eventID: event.id)
        // Two retries each: the first answer was not taken for our invalid request.
        #expect(attempts.map(\.number).sorted() == [1, 1, 2, 2, 3, 3])
        #expect(attempts.allSatisfy { $0.error?.hasPrefix("invalidResponse: ") == true }, "\(attempts.map(\.error))")
        #expect(attempts.contains { $0.error?.contains("HTTP/0.9") == true })
        #expect(attempts.contains { $0.error?.contains("Unsupported HTTP version in response") == true })
    }

    @Test("410 Gone disables the endpoint, keeps its queue, and enabling delivers the backlog")
    func goneDisables() async throws {
        let receiver = try await WebhookReceiver.start(ReceiverConfiguration(script: .sequence([.status(410)], then: .noContent)))
        let transport = CurlTransport()
        let endpoint = testEndpoint("hook", url: receiver.baseURL + "/hook", concurrency: 1)
        let harness = try EngineHarness(endpoints: [endpoint], transport: transport)
        let events = (0..<3).map { testEvent(path: "g\($0).csv") }
        try harness.append(events, endpoints: [endpoint])
        try await eventually("endpoint disabled") { try harness.outbox.endpointState("hook").disabled }
        try await harness.workerHasLooked("hook")
        #expect(receiver.receivedCount == 1)
        #expect(try harness.outbox.queueDepth(endpoint: "hook") == 3)

        try Outbox(stateDirectory: harness.directory).enable("hook")
        _ = try await receiver.waitForWebhooks(count: 4)
        try await eventually("backlog delivered") { try harness.outbox.queueDepth(endpoint: "hook") == 0 }
        try await harness.finish()
        await transport.shutdown()
        await receiver.stop()
    }

    @Test("429 with Retry-After: the retry waits as long as the receiver asked, not the schedule")
    func retryAfterHonoured() async throws {
        let receiver = try await WebhookReceiver.start(
            ReceiverConfiguration(
                script: .sequence([.retryAfter(seconds: 2, status: 429)], then: .noContent)
            ))
        let transport = CurlTransport()
        let endpoint = testEndpoint("hook", url: receiver.baseURL + "/hook", schedule: [.milliseconds(10)])
        let harness = try EngineHarness(endpoints: [endpoint], transport: transport)
        let event = testEvent(path: "r.csv")
        try harness.append([event], endpoints: [endpoint])
        let webhooks = try await receiver.waitForWebhooks(count: 2, timeout: .seconds(30))
        try await eventually("both attempts recorded") { try harness.outbox.attempts(eventID: event.id).count == 2 }
        try await harness.finish()
        await transport.shutdown()
        await receiver.stop()

        // It waited at least as long as asked (the schedule alone would have sent it in 10 ms)...
        let gap = webhooks[1].receivedAt.timeIntervalSince(webhooks[0].receivedAt)
        #expect(gap >= 1.9)
        // ...and planned no longer: the retry was set for 2 s after the 429's answer. Read from
        // the outbox, where the plan is kept, so a loaded machine's late wake-up is not
        // mistaken for a longer wait (the plan's clock readings are microseconds apart).
        let first = try #require(try harness.outbox.attempts(eventID: event.id).min { $0.number < $1.number })
        #expect(first.responseStatus == 429)
        let delivery = try #require(try harness.outbox.delivery(id: first.deliveryID))
        let planned = delivery.nextAttemptAtMillis - (first.startedAtMillis + first.durationMillis)
        #expect(planned >= 1_990 && planned <= 2_050, "retry planned \(planned) ms after the 429")
    }

    @Test("an endpoint failing for longer than disable_after is disabled")
    func autoDisable() async throws {
        let receiver = try await WebhookReceiver.start(ReceiverConfiguration(script: .always(.status(503))))
        let transport = CurlTransport()
        let endpoint = testEndpoint(
            "hook", url: receiver.baseURL + "/hook",
            schedule: Array(repeating: .milliseconds(100), count: 50), disableAfter: .milliseconds(500))
        let harness = try EngineHarness(endpoints: [endpoint], transport: transport)
        try harness.append([testEvent(path: "a.csv")], endpoints: [endpoint])
        try await eventually("auto-disabled") { try harness.outbox.endpointState("hook").disabled }
        let state = try harness.outbox.endpointState("hook")
        #expect(state.disabledReason?.contains("no successful delivery") == true)
        #expect(try harness.outbox.queueDepth(endpoint: "hook") == 1)
        try await harness.finish()
        await transport.shutdown()
        await receiver.stop()
    }

    @Test("on shutdown an in-flight request finishes and is recorded; the rest stays owed")
    func gracefulShutdown() async throws {
        let receiver = try await WebhookReceiver.start(ReceiverConfiguration(script: .always(.hang(for: .milliseconds(800)))))
        let transport = CurlTransport()
        let endpoint = testEndpoint("hook", url: receiver.baseURL + "/hook", ordered: true)
        let harness = try EngineHarness(endpoints: [endpoint], transport: transport)
        try harness.append([testEvent(path: "a.csv"), testEvent(path: "b.csv")], endpoints: [endpoint])
        _ = try await receiver.waitForWebhooks(count: 1)
        try await harness.finish()
        await transport.shutdown()
        await receiver.stop()

        let outbox = try Outbox(stateDirectory: harness.directory)
        let states = try outbox.recentDeliveries(endpoint: "hook").sorted { $0.eventSeq < $1.eventSeq }.map(\.state)
        #expect(states == [.delivered, .pending])
        #expect(receiver.receivedCount == 1)
    }
}
