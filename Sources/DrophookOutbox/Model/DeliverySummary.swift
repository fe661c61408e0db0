import DrophookEvents

/// One line of the delivery log for `drophook deliveries`.
public struct DeliverySummary: Sendable, Hashable {
    public var deliveryID: String
    public var eventID: String
    public var eventSeq: Int64
    public var endpoint: String
    public var topic: Topic
    public var watch: String
    public var path: String
    public var state: DeliveryState
    public var attemptCount: Int
    public var nextAttemptAtMillis: Int64
    /// The last HTTP status a webhook answered; nil for a stream, which answers none.
    public var lastStatus: Int?
    /// The sequence the stream stored the event at, when its last attempt was acknowledged.
    public var lastSequence: UInt64?
    public var lastError: String?
    public var createdAtMillis: Int64
    public var updatedAtMillis: Int64
}

/// How much work one endpoint has in each state (metrics, `drophook status`).
public struct EndpointCounts: Sendable, Hashable {
    public var endpoint: String
    public var pending: Int = 0
    public var delivering: Int = 0
    public var delivered: Int = 0
    public var failed: Int = 0

    public init(endpoint: String) { self.endpoint = endpoint }

    /// Deliveries still owed (pending or in flight).
    public var queued: Int { pending + delivering }
}

/// Run-time state of an endpoint, shared by the agent and the CLI through the database.
public struct EndpointState: Sendable, Hashable {
    public var name: String
    /// Pause set at run time (`drophook pause` / `resume`); nil means follow the config's `paused`.
    public var pausedOverride: Bool?
    public var disabled: Bool
    public var disabledReason: String?
    public var disabledAtMillis: Int64?
    /// Start of the current run of failed attempts; nil after a success.
    public var failingSinceMillis: Int64?

    public init(
        name: String,
        pausedOverride: Bool? = nil,
        disabled: Bool = false,
        disabledReason: String? = nil,
        disabledAtMillis: Int64? = nil,
        failingSinceMillis: Int64? = nil
    ) {
        self.name = name
        self.pausedOverride = pausedOverride
        self.disabled = disabled
        self.disabledReason = disabledReason
        self.disabledAtMillis = disabledAtMillis
        self.failingSinceMillis = failingSinceMillis
    }

    /// Whether workers hold back, given the config's `paused`.
    public func isPaused(configured: Bool) -> Bool { pausedOverride ?? configured }
}
