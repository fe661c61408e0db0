/// Where one (event, endpoint) delivery stands.
public enum DeliveryState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Owed: waiting for its first attempt or for its next retry (`nextAttemptAtMillis`).
    case pending
    /// An attempt is in flight. A crash leaves it here; opening the outbox puts it back to pending.
    case delivering
    /// The receiver answered 2xx.
    case delivered
    /// Retries exhausted or a permanent refusal: kept until redelivered by hand.
    case failed
}

/// What one attempt came to, as the delivery log records it.
public enum AttemptResult: String, Sendable, Hashable, Codable {
    /// 2xx: the delivery is done.
    case delivered
    /// A transient failure: the delivery is rescheduled.
    case retry
    /// A permanent failure, or the last retry failed: the delivery is `failed`.
    case failed
    /// The receiver said the endpoint is gone (410): the endpoint is disabled, the delivery stays owed.
    case endpointGone
}
