import DrophookEvents

/// Publishes one event into a stream and reports the stream's acknowledgement: the delivery
/// workers' only view of a stream, as ``WebhookTransport`` is their only view of HTTP.
///
/// Implementations never throw for a failed publish: every outcome is a value the retry
/// policy classifies, and a failure says what to fix in the stream's own terms.
public protocol StreamTransport: Sendable {
    func publish(_ message: StreamMessage) async -> StreamOutcome
}

/// One event as a stream message: rendered and signed like a webhook's body and headers, on
/// the subject the endpoint's template names for its watch and topic.
public struct StreamMessage: Sendable {
    public var subject: String
    public var headers: [HTTPHeader]
    public var body: [UInt8]
    /// The event's id, the same on every attempt: the stream drops a repeat within its
    /// duplicate window (JetStream's `Nats-Msg-Id`), so a retried event is stored once.
    public var messageID: String
    /// How long to wait for the stream's acknowledgement.
    public var timeout: Duration

    public init(subject: String, headers: [HTTPHeader], body: [UInt8], messageID: String, timeout: Duration = .seconds(10)) {
        self.subject = subject
        self.headers = headers
        self.body = body
        self.messageID = messageID
        self.timeout = timeout
    }
}

/// What one publish came to.
public enum StreamOutcome: Sendable {
    /// The stream stored the message (or already had it: ``StreamAcknowledgement/duplicate``).
    case acknowledged(StreamAcknowledgement)
    /// No acknowledgement: the reason, classified for the retry policy.
    case failure(TransportFailure)
}
