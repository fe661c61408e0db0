/// A payload shape that receivers already know (SFTP To Go, Rilavek, …): turns an event
/// into the exact body bytes and content headers of one delivery attempt. Signing is not the
/// format's business: a ``RequestSigner`` signs the body under the webhook's ``SignatureScheme``.
///
/// Formats are pure: no I/O, no clock, no randomness; everything that varies per attempt
/// comes in through ``DeliveryContext``.
public protocol WebhookFormat: Sendable {
    /// The config name of the format (`format:` of a webhook).
    var name: String { get }
    /// The signature scheme a webhook of this format uses unless its `signature:` says otherwise.
    var defaultSignature: SignatureScheme { get }
    /// Whether this format has a payload for the event at all (Rilavek reports finished and
    /// failed transfers of files only, for example). Events it does not carry are never queued.
    func carries(_ event: FileEvent) -> Bool
    /// The body and format-specific headers (`Content-Type`, …) for one attempt.
    func message(for event: FileEvent, context: DeliveryContext) -> WebhookMessage
    /// A test message for `drophook ping` (SFTP To Go's `webhook.ping`).
    func ping(context: DeliveryContext, endpoint: EndpointDescription) -> WebhookMessage
}

/// The bytes and headers a format produced. The body is signed as is: it must be sent byte for byte.
public struct WebhookMessage: Sendable, Hashable {
    public var headers: [HTTPHeader]
    public var body: [UInt8]
    public init(headers: [HTTPHeader], body: [UInt8]) {
        self.headers = headers
        self.body = body
    }

    /// A JSON body with its `Content-Type`.
    public static func json(_ body: [UInt8], contentType: String = "application/json") -> WebhookMessage {
        WebhookMessage(headers: [HTTPHeader("Content-Type", contentType)], body: body)
    }
}

/// Per-attempt facts a payload carries besides the event itself.
public struct DeliveryContext: Sendable, Hashable {
    /// Stable id of the endpoint (SFTP To Go `Metadata.Webhook.Id`).
    public var webhookID: String
    /// Id of this (event, endpoint) delivery, the same on every retry.
    public var deliveryID: String
    /// Id of this attempt, new on every try.
    public var attemptID: String
    /// SFTP To Go `Metadata.Organization.Id`; omitted from payloads when nil.
    public var organizationID: String?
    /// Rilavek `data.pipe_id` of the event's watch.
    public var pipeID: String
    /// Rilavek `data.protocol` of the event's watch.
    public var transferProtocol: String
    /// The sending host's name (CloudEvents `source`).
    public var host: String
    /// Whether the vendors' shapes (`sftptogo`, `rilavek`) carry the session log's client
    /// address and bytes written (`session_details: true`); drophook's own shapes always do.
    public var sessionDetails: Bool

    public init(
        webhookID: String,
        deliveryID: String,
        attemptID: String,
        organizationID: String? = nil,
        pipeID: String,
        transferProtocol: String = "sftp",
        host: String = "localhost",
        sessionDetails: Bool = false
    ) {
        self.webhookID = webhookID
        self.deliveryID = deliveryID
        self.attemptID = attemptID
        self.organizationID = organizationID
        self.pipeID = pipeID
        self.transferProtocol = transferProtocol
        self.host = host
        self.sessionDetails = sessionDetails
    }
}

/// What a ping payload says about the endpoint it tests (SFTP To Go `webhook.ping` `Data`).
public struct EndpointDescription: Sendable, Hashable {
    public var name: String
    public var url: String
    public var topics: [Topic]
    public var paused: Bool
    /// When the ping was made, milliseconds since the epoch (the ping's CreatedAt/UpdatedAt).
    public var nowMillis: Int64
    /// The ping's event id.
    public var eventID: String

    public init(name: String, url: String, topics: [Topic], paused: Bool, nowMillis: Int64, eventID: String) {
        self.name = name
        self.url = url
        self.topics = topics
        self.paused = paused
        self.nowMillis = nowMillis
        self.eventID = eventID
    }
}
