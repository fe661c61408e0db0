/// One owed delivery handed to a delivery worker: the event and where its retries stand.
public struct DeliveryJob: Sendable, Hashable {
    /// Fixed per (event, endpoint): the same on every attempt and on manual redelivery.
    public var deliveryID: String
    /// Global order of the event (outbox sequence number).
    public var eventSeq: Int64
    public var endpoint: String
    public var event: QueuedEvent
    /// Attempts already made (0 before the first).
    public var attemptCount: Int
    /// `attemptCount` when the current retry round began (0, or when it was last redelivered by hand).
    public var roundStart: Int
    public var nextAttemptAtMillis: Int64
    public var state: DeliveryState

    public init(
        deliveryID: String,
        eventSeq: Int64,
        endpoint: String,
        event: QueuedEvent,
        attemptCount: Int,
        roundStart: Int = 0,
        nextAttemptAtMillis: Int64,
        state: DeliveryState
    ) {
        self.deliveryID = deliveryID
        self.eventSeq = eventSeq
        self.endpoint = endpoint
        self.event = event
        self.attemptCount = attemptCount
        self.roundStart = roundStart
        self.nextAttemptAtMillis = nextAttemptAtMillis
        self.state = state
    }

    /// Attempts made in the current retry round: what the retry schedule counts.
    public var attemptsThisRound: Int { attemptCount - roundStart }
}
