import DrophookDelivery
import DrophookEvents
import DrophookOutbox
import DrophookReceiver
import Foundation
import GRDB
import Testing

@Suite("Delivery engine under database faults", .serialized)
struct EngineDatabaseFaultTests {
    @Test("an attempt that cannot be recorded hands its claim back: an ordered endpoint sends it again, then goes on")
    func unrecordedAttemptDoesNotStallAnOrderedEndpoint() async throws {
        // The first answer is held back long enough for the test to take the database's write
        // lock before the worker records it.
        let receiver = try await WebhookReceiver.start(ReceiverConfiguration(
            script: ResponseScript { _, index in index == 0 ? ReceiverReply(status: 204, delay: .milliseconds(300)) : .noContent }
        ))
        let transport = CurlTransport()
        let endpoint = testEndpoint("ordered", url: receiver.baseURL + "/hook", ordered: true)
        let harness = try EngineHarness(
            endpoints: [endpoint], transport: transport, pollInterval: .milliseconds(50),
            outboxConfiguration: .init(busyTimeout: 0.02), recordRetryDelays: [.milliseconds(10)]
        )
        let first = testEvent(path: "first.csv")
        let second = testEvent(path: "second.csv")
        try harness.append([first, second], endpoints: [endpoint])
        _ = try await receiver.waitForWebhooks(count: 1)

        // Another connection holds the write lock: recording the attempt, then handing the
        // claim back, both fail (busy), as they would on a locked or failing disk.
        var lockConfiguration = Configuration()
        lockConfiguration.allowsUnsafeTransactions = true  // the transaction spans two accesses on purpose
        lockConfiguration.busyMode = .timeout(5)  // the engine may be mid-commit when the test takes the lock
        let lock = try DatabaseQueue(path: harness.directory + "/" + Outbox.fileName, configuration: lockConfiguration)
        try await lock.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
        // The fault lasts a fixed while: the 300 ms answer, two record tries of 20 ms and the
        // release all fall inside it, with a wide margin. Nothing observable marks the end of
        // the worker's tries (its log is off in tests), so the fault's length is the bound.
        try await Task.sleep(for: .milliseconds(1_500))
        try await lock.writeWithoutTransaction { db in try db.execute(sql: "COMMIT") }

        // Without the hand-back the head would stay `delivering` and `second` would never go.
        let webhooks = try await receiver.waitForWebhooks(count: 3, timeout: .seconds(10))
        let ids = webhooks.compactMap { $0.json?["Id"]?.stringValue }
        #expect(ids == [first.id, first.id, second.id])
        try await eventually("both delivered") { try harness.outbox.queueDepth(endpoint: "ordered") == 0 }
        try await harness.finish()
        await transport.shutdown()
        await receiver.stop()
    }
}
