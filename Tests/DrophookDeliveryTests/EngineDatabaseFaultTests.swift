import DrophookDelivery
import DrophookEvents
import DrophookOutbox
import DrophookReceiver
import DrophookTestSupport
import Foundation
import GRDB
import Testing

@Suite("Delivery engine under database faults", .serialized)
struct EngineDatabaseFaultTests {
    @Test("an attempt that cannot be recorded hands its claim back: an ordered endpoint sends it again, then goes on")
    func unrecordedAttemptDoesNotStallAnOrderedEndpoint() async throws {
        // The first answer is held until the test has taken the database's write lock, so the
        // worker records it into a locked database however slow the machine is.
        let answer = ReplyGate()
        let receiver = try await WebhookReceiver.start(
            ReceiverConfiguration(
                script: ResponseScript { _, index in index == 0 ? ReceiverReply(status: 204, gate: answer) : .noContent }
            ))
        let log = LogRecorder(level: .error)
        let transport = CurlTransport()
        let endpoint = testEndpoint("ordered", url: receiver.baseURL + "/hook", ordered: true)
        let harness = try EngineHarness(
            endpoints: [endpoint], transport: transport, pollInterval: .milliseconds(50),
            outboxConfiguration: .init(busyTimeout: 0.02), recordRetryDelays: [.milliseconds(10)],
            logger: log.logger(label: "drophook.test.delivery")
        )
        let first = testEvent(path: "first.csv")
        let second = testEvent(path: "second.csv")
        try harness.append([first, second], endpoints: [endpoint])
        _ = try await receiver.waitForWebhooks(count: 1)

        // Another connection holds the write lock: recording the attempt, then handing the
        // claim back, both fail (busy), as they would on a locked or failing disk.
        var lockConfiguration = Configuration()
        lockConfiguration.allowsUnsafeTransactions = true // the transaction spans two accesses on purpose
        lockConfiguration.busyMode = .timeout(5) // the engine may be mid-commit when the test takes the lock
        let lock = try DatabaseQueue(path: harness.directory + "/" + Outbox.fileName, configuration: lockConfiguration)
        try await lock.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
        answer.open()
        // The fault lasts until the worker has said both failures: its last try to record the
        // attempt, and the hand-back of the claim. Awaiting the lines, not a fixed time, keeps
        // the database locked for exactly the steps under test.
        let unrecorded = await log.message(containing: "handing the delivery back to be sent again", within: .seconds(20))
        #expect(unrecorded != nil, "the attempt could not be recorded into a locked outbox")
        let notHandedBack = await log.message(containing: "cannot hand back 1 claimed deliveries", within: .seconds(20))
        #expect(notHandedBack != nil, "the hand-back failed too, so it must be kept for the next claim")
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
