import DrophookEvents

/// One endpoint from the config (a webhook or a stream): where events go, in which payload
/// shape, and how hard to try.
public struct EndpointConfiguration: Sendable {
    /// Config name; deliveries are filed under it, so renaming an endpoint orphans its queue.
    public var name: String
    /// Stable UUID of the endpoint, sent as SFTP To Go's `Metadata.Webhook.Id`.
    public var webhookID: String
    public var format: any WebhookFormat
    public var topics: Set<Topic>
    /// Watches whose events this endpoint gets; nil means every watch.
    public var watches: Set<String>?
    /// Paths, sizes and actors this endpoint wants.
    public var filter: EventFilter
    /// Signs each attempt under the webhook's scheme with its live secrets.
    public var signer: RequestSigner
    /// Sent verbatim as the `Authorization` header.
    public var authorization: String?
    /// Further headers, sent after the format's own headers and `Authorization`.
    public var extraHeaders: [HTTPHeader]
    public var retrySchedule: RetrySchedule
    public var transport: TransportOptions
    /// Deliveries in flight at once (ignored when ``ordered``).
    public var concurrency: Int
    /// Deliver strictly in event order, one at a time: a later event waits while an earlier one
    /// is being retried, so a receiver never sees a file's delete before its create. Once an
    /// earlier delivery is `failed` (retries exhausted or refused), the queue moves on past it;
    /// redelivering it later sends it out of order.
    public var ordered: Bool
    /// Start paused (events queue, nothing is sent); `drophook resume` overrides at run time.
    public var paused: Bool
    /// Disable the endpoint after it has failed without a single success for this long; nil never.
    public var disableAfter: Duration?
    /// Retry 4xx answers that are otherwise final (a webhook's; a stream answers no HTTP).
    public var retryOn4xx: Bool
    /// Ask the receiver first, with the CloudEvents abuse-protection handshake
    /// (``WebhookHandshake``); a webhook's only.
    public var handshake: Bool
    /// Put the session log's client address and bytes written in the vendors' shapes too.
    public var sessionDetails: Bool
    /// Where the rendered events go: POSTed to a webhook's URL, or published into a stream.
    public var destination: Destination

    /// Where an endpoint's rendered events go, chosen once when the config is loaded. Either
    /// way they share the outbox, retry schedule, pause/resume, delivery log and metrics; each
    /// kind answers in its own terms (an HTTP status, or a stream's acknowledgement).
    public enum Destination: Sendable {
        /// POSTed to `url` through the engine's HTTP transport.
        case webhook(url: String)
        /// Published into a stream (NATS JetStream).
        case stream(StreamDestination)
    }

    /// A stream an endpoint publishes into: its transport, and the subject of each event.
    public struct StreamDestination: Sendable {
        public var transport: any StreamTransport
        /// The subject an event of `watch` with `topic` is published on.
        public var subject: @Sendable (_ watch: String, _ topic: String) -> String
        /// The servers, as a `webhook.ping` and the logs name the destination.
        public var servers: [String]

        public init(
            transport: any StreamTransport, servers: [String], subject: @escaping @Sendable (_ watch: String, _ topic: String) -> String
        ) {
            self.transport = transport
            self.servers = servers
            self.subject = subject
        }
    }

    /// How logs and a `webhook.ping` name the destination: the URL without its password, or
    /// the stream's servers.
    public var address: String {
        switch destination {
        case .webhook(let url): HeaderRedaction.redact(url: url)
        case .stream(let stream): stream.servers.map { HeaderRedaction.redact(url: $0) }.joined(separator: ",")
        }
    }

    public init(
        name: String,
        webhookID: String,
        destination: Destination,
        format: any WebhookFormat,
        topics: Set<Topic> = [.fileCreated, .fileDeleted],
        watches: Set<String>? = nil,
        filter: EventFilter = EventFilter(),
        secret: [UInt8]? = nil,
        signature: SignatureScheme? = nil,
        signer: RequestSigner? = nil,
        authorization: String? = nil,
        extraHeaders: [HTTPHeader] = [],
        retrySchedule: RetrySchedule = .standard,
        transport: TransportOptions = .init(),
        concurrency: Int = 8,
        ordered: Bool = false,
        paused: Bool = false,
        disableAfter: Duration? = .seconds(5 * 86_400),
        retryOn4xx: Bool = false,
        handshake: Bool = false,
        sessionDetails: Bool = false
    ) {
        self.name = name
        self.webhookID = webhookID
        self.format = format
        self.topics = topics
        self.watches = watches
        self.filter = filter
        if let signer {
            self.signer = signer
        } else {
            // Configuration loading builds the signer itself and reports an unusable secret
            // with its file and key; a caller that passes one here must pass a usable one.
            let scheme = signature ?? format.defaultSignature
            do {
                self.signer = try RequestSigner(scheme: scheme, secrets: secret.map { [$0] } ?? [])
            } catch {
                preconditionFailure("endpoint \(name): the secret cannot sign with \(scheme.rawValue): \(error)")
            }
        }
        self.authorization = authorization
        self.extraHeaders = extraHeaders
        self.retrySchedule = retrySchedule
        self.transport = transport
        self.concurrency = max(1, concurrency)
        self.ordered = ordered
        self.paused = paused
        self.disableAfter = disableAfter
        self.retryOn4xx = retryOn4xx
        self.handshake = handshake
        self.sessionDetails = sessionDetails
        self.destination = destination
    }

    /// Whether an event is queued for this endpoint: its topic is subscribed, its watch is
    /// allowed, its filter admits it, and the format has a payload for it.
    public func accepts(_ event: FileEvent) -> Bool {
        // A rename goes out once: as `file.renamed` where the endpoint takes it, else as its pair.
        if event.partOfRename, topics.contains(.fileRenamed), format.carries(Self.renamedProbe) { return false }
        return topics.contains(event.topic)
            && (watches?.contains(event.watch) ?? true)
            && filter.admits(event)
            && format.carries(event)
    }

    private static let renamedProbe = FileEvent(id: "", kind: .renamed, watch: "", path: "", actor: "", occurredAtMillis: 0)

    /// The routing function for ``Outbox/append(_:nowMillis:route:)``: the names of every
    /// endpoint that accepts the event.
    public static func route(_ endpoints: [EndpointConfiguration]) -> @Sendable (FileEvent) -> [String] {
        { event in endpoints.filter { $0.accepts(event) }.map(\.name) }
    }

    /// How this endpoint describes itself in a `webhook.ping`.
    func description(paused: Bool, nowMillis: Int64, eventID: String) -> EndpointDescription {
        EndpointDescription(
            // The payload is stored and shown: never with the URL's password.
            name: name, url: address, topics: topics.sorted { $0.rawValue < $1.rawValue },
            paused: paused, nowMillis: nowMillis, eventID: eventID
        )
    }
}
