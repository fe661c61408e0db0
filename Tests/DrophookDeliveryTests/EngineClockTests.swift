import DrophookDelivery
import DrophookEvents
import DrophookOutbox
import DrophookReceiver
import Foundation
import Synchronization
import Testing

/// A delivery clock a test sets by hand: the wall and schedule clocks stand still until moved.
final class SetDeliveryClock: Sendable {
    private let times: Mutex<(wall: Int64, schedule: Int64)>

    init(wallMillis: Int64, scheduleMillis: Int64) {
        times = Mutex((wallMillis, scheduleMillis))
    }

    var clock: DeliveryClock {
        DeliveryClock(
            wallMillis: { self.times.withLock { $0.wall } },
            scheduleMillis: { self.times.withLock { $0.schedule } },
            instant: { .now })
    }

    func advanceSchedule(by duration: Duration) {
        times.withLock { $0.schedule += duration.milliseconds }
    }
}

/// Delivery reads every time from the clock it is given: what it records and signs from the
/// wall clock, when a retry falls due from the schedule clock.
@Suite("Delivery engine: the injected clock")
struct EngineClockTests {
    @Test("attempts are stamped and signed by the given wall clock; a retry falls due when the given schedule clock says")
    func timesComeFromTheInjectedClock() async throws {
        let receiver = try await WebhookReceiver.start(ReceiverConfiguration(script: .sequence([.status(503)], then: .status(200))))
        let transport = CurlTransport()
        // The wall clock far from the machine's, so a time taken from the machine shows; the
        // schedule clock an hour ahead of the machine's, so the event appended now is due.
        let wall: Int64 = 1_900_000_000_123
        let schedule = Outbox.scheduleMillis() + 3_600_000
        let set = SetDeliveryClock(wallMillis: wall, scheduleMillis: schedule)
        let endpoint = EndpointConfiguration(
            name: "hook", webhookID: Outbox.newID(), destination: .webhook(url: receiver.baseURL + "/hook"),
            format: StandardWebhooksFormat(), secret: Array("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".utf8),
            retrySchedule: RetrySchedule(delays: [.seconds(600)], jitter: 0), disableAfter: nil)
        let harness = try EngineHarness(endpoints: [endpoint], transport: transport, clock: set.clock)
        try harness.append([testEvent(path: "in/a.csv")], endpoints: [endpoint])

        let first = try await receiver.waitForWebhooks(count: 1)
        #expect(first.first?.header("webhook-timestamp") == "\(wall / 1000)")
        let delivery = try #require(try harness.outbox.recentDeliveries(endpoint: "hook").first)
        try await eventually("the 503 recorded") { try harness.outbox.attempts(deliveryID: delivery.deliveryID).count == 1 }
        let attempt = try #require(try harness.outbox.attempts(deliveryID: delivery.deliveryID).first)
        #expect(attempt.startedAtMillis == wall && attempt.responseStatus == 503)
        #expect(try harness.outbox.delivery(id: delivery.deliveryID)?.nextAttemptAtMillis == schedule + 600_000)

        // The machine's clock moves on; the given schedule clock does not: nothing is due yet.
        try await harness.workerHasLooked("hook")
        #expect(receiver.receivedCount == 1)
        set.advanceSchedule(by: .seconds(600))
        harness.engine.wake(endpoints: ["hook"])
        _ = try await receiver.waitForWebhooks(count: 2)
        try await eventually("delivered") { try harness.outbox.delivery(id: delivery.deliveryID)?.state == .delivered }
        try await harness.finish()
        await transport.shutdown()
        await receiver.stop()
    }
}
