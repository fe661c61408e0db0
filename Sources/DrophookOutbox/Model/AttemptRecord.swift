import DrophookEvents

/// One HTTP attempt as the delivery log keeps it. Secret-bearing request headers are
/// already redacted by the time a record is made.
public struct AttemptRecord: Sendable, Hashable {
    /// New on every attempt (`Metadata.Attempt.Id`).
    public var id: String
    public var deliveryID: String
    /// 1 for the first attempt of the delivery.
    public var number: Int
    public var startedAtMillis: Int64
    public var durationMillis: Int64
    /// Where the attempt went: a webhook's URL (its password redacted) or a stream's subject.
    public var target: Target
    public var requestHeaders: [HTTPHeader]
    public var requestBody: [UInt8]
    /// A webhook's HTTP status; nil when no HTTP response came back (see ``error``), and for
    /// every attempt into a stream, which answers with an ``acknowledgement`` instead.
    public var responseStatus: Int?
    public var responseHeaders: [HTTPHeader]
    /// At most 16 KiB of the response body.
    public var responseBody: [UInt8]
    public var responseTruncated: Bool
    /// What the stream answered when it stored the message; nil for a webhook, and for an
    /// attempt into a stream that was not acknowledged.
    public var acknowledgement: StreamAcknowledgement?
    /// Transport failure or refusal reason; nil on success.
    public var error: String?
    public var result: AttemptResult

    public init(
        id: String,
        deliveryID: String,
        number: Int,
        startedAtMillis: Int64,
        durationMillis: Int64,
        target: Target,
        requestHeaders: [HTTPHeader],
        requestBody: [UInt8],
        responseStatus: Int? = nil,
        responseHeaders: [HTTPHeader] = [],
        responseBody: [UInt8] = [],
        responseTruncated: Bool = false,
        acknowledgement: StreamAcknowledgement? = nil,
        error: String? = nil,
        result: AttemptResult
    ) {
        self.id = id
        self.deliveryID = deliveryID
        self.number = number
        self.startedAtMillis = startedAtMillis
        self.durationMillis = durationMillis
        self.target = target
        self.requestHeaders = requestHeaders
        self.requestBody = requestBody
        self.responseStatus = responseStatus
        self.responseHeaders = responseHeaders
        self.responseBody = responseBody
        self.responseTruncated = responseTruncated
        self.acknowledgement = acknowledgement
        self.error = error
        self.result = result
    }

    /// Where an attempt went, in its destination's terms.
    public enum Target: Sendable, Hashable {
        /// A webhook: POSTed to this URL.
        case url(String)
        /// A stream: published on this subject.
        case subject(String)
    }

    /// Largest response body prefix the log keeps.
    public static let maxResponseBodyBytes = 16 * 1024
}

/// The delivery's state after an attempt, written in the same transaction as the attempt row.
public enum DeliveryTransition: Sendable, Hashable {
    case delivered
    /// Try again at the given time.
    case retry(atMillis: Int64)
    case failed
}
