import DrophookEvents
import DrophookSessions
import DrophookWatch
import Logging

/// The agent's settings, as read and checked from the YAML config file.
///
/// Values here are already validated (URLs parse, formats exist, durations are durations);
/// the wiring turns them into each stage's own configuration.
public struct AgentConfiguration: Sendable {
    /// The file it was read from, for messages.
    public var file: String
    /// Where the outbox database lives.
    public var stateDirectory: String
    /// SFTP To Go `Metadata.Organization.Id`; left out of payloads when nil.
    public var organizationID: String?
    /// Report what changed while the agent was down, found by comparing the tree with the stored snapshot.
    public var catchUp: Bool
    /// How long delivered events and their attempts are kept in the delivery log.
    public var deliveryLogRetention: Duration
    /// `host:port` for the Prometheus `/metrics` endpoint; nil turns it off.
    public var metricsListen: ListenAddress?
    public var watches: [Watch]
    /// The `webhooks:` entries, then the `nats:` entries: one list of endpoints with one set of names.
    public var endpoints: [Endpoint]
    /// `session_log:`: OpenSSH's SFTP session log, for the SFTP user, the client address and
    /// interrupted uploads; nil when not configured.
    public var sessionLog: SessionLog.Configuration?
    /// Where each secret is kept (secret and authorization files, client keys, values written in
    /// the config itself): `run` refuses to start while one is readable by every user.
    public var secretLocations: [SecretLocation] = []

    /// A file that holds a secret, and the key that put it there.
    public struct SecretLocation: Sendable, Hashable {
        /// The key, e.g. `webhooks[0].secret_file`.
        public var key: String
        public var path: String
        /// The value is written in the config file (`path`) itself.
        public var inConfig: Bool
    }

    /// `log_level:`; nil means info (or `--log-level`).
    public var logLevel: Logger.Level?
    /// `--log-level` was given: a reload keeps it instead of the file's `log_level`.
    public var logLevelFixed = false

    public init(
        file: String,
        stateDirectory: String = "/var/lib/drophook",
        organizationID: String? = nil,
        catchUp: Bool = true,
        deliveryLogRetention: Duration = .seconds(30 * 86_400),
        metricsListen: ListenAddress? = nil,
        watches: [Watch] = [],
        endpoints: [Endpoint] = []
    ) {
        self.file = file
        self.stateDirectory = stateDirectory
        self.organizationID = organizationID
        self.catchUp = catchUp
        self.deliveryLogRetention = deliveryLogRetention
        self.metricsListen = metricsListen
        self.watches = watches
        self.endpoints = endpoints
    }

    /// One drop tree (`watches:` entry).
    public struct Watch: Sendable, Hashable {
        public var name: String
        /// Root of the tree, watched recursively.
        public var path: String
        /// Rilavek `data.protocol`.
        public var transferProtocol: String = "sftp"
        /// Rilavek `data.pipe_id`; defaults to `pip_<name>`.
        public var pipeID: String
        public var actor: ActorRule = .owner
        /// Base-name globs never reported as finished files.
        public var ignore: [String] = []
        /// Wait until size and mtime are stable this long before reporting a file.
        public var settle: Duration?
        /// Symlinks are never followed either way.
        public var symlinks: SymlinkPolicy = .ignore
        /// `sha256:` / `sha256_max_size:`: the largest file whose checksum is sent; nil sends none.
        public var checksumLimit: Int64?

        public init(name: String, path: String, pipeID: String? = nil) {
            self.name = name
            self.path = path
            self.pipeID = pipeID ?? "pip_\(name)"
        }
    }

    /// One receiving endpoint: a `webhooks:` entry or a `nats:` entry, which share every
    /// delivery key and differ in their ``destination``.
    public struct Endpoint: Sendable {
        public var name: String
        /// Where it sits in the config, e.g. `webhooks[0]` or `nats[1]`, for messages about it.
        public var key: String
        /// Stable id (SFTP To Go `Metadata.Webhook.Id`); derived from the name unless set.
        public var id: String
        /// A webhook's URL with its HTTP settings, or a stream's servers, subject and
        /// credentials: chosen once, when the entry is read.
        public var destination: Destination
        /// `sftptogo`, `rilavek`, `standard` or `cloudevents`.
        public var format: String
        /// The format with its options, made when the entry was read.
        public var payloadFormat: any WebhookFormat
        /// Signs with ``signature`` (or the format's own scheme) and the live secrets, made and
        /// checked when the entry was read.
        public var signer: RequestSigner
        /// `signature:`; nil means the format's own scheme.
        public var signature: SignatureScheme?
        /// `cloudevents_mode:` of a `cloudevents` webhook.
        public var cloudEventsMode: CloudEventsFormat.Mode = .structured
        public var topics: [Topic]
        /// Watch names this endpoint hears from; nil means all.
        public var watches: [String]?
        /// `paths`, `min_size`, `max_size`, `actors`.
        public var filter = EventFilter()
        /// The current signing secret (its text's bytes).
        public var secret: [UInt8]?
        /// Previous secrets still signing during a rotation's overlap (``SecretFile``).
        public var previousSecrets: [SigningSecret] = []
        /// The `secret_file` path, for `drophook rotate-secret`; nil for an inline secret.
        public var secretFile: String?
        public var headers: [HTTPHeader] = []
        /// Delays between attempts; attempts in all = delays + 1.
        public var retry: [Duration]
        public var connectTimeout: Duration = .seconds(5)
        public var timeout: Duration = .seconds(10)
        public var caFile: String?
        public var clientCertificate: String?
        public var clientKey: String?
        /// Deliveries in flight at once to this endpoint.
        public var concurrency: Int = 8
        /// Deliver strictly in event order, one at a time.
        public var ordered: Bool = false
        public var paused: Bool = false
        /// Disable the endpoint after it has failed continuously this long.
        public var disableAfter: Duration = .seconds(5 * 86_400)
        /// `session_details:` — the session log's client address and bytes written in the
        /// vendors' shapes too (drophook's own formats always carry them).
        public var sessionDetails: Bool = false

        public init(
            name: String, key: String, id: String, destination: Destination, format: any WebhookFormat, formatName: String,
            signer: RequestSigner, topics: [Topic], retry: [Duration]
        ) {
            self.name = name
            self.key = key
            self.id = id
            self.destination = destination
            self.payloadFormat = format
            self.format = formatName
            self.signer = signer
            self.topics = topics
            self.retry = retry
        }
    }

    /// Where an endpoint's events go.
    public enum Destination: Sendable {
        /// A `webhooks:` entry: POSTed over HTTP.
        case webhook(WebhookDestination)
        /// A `nats:` entry: published into NATS JetStream.
        case stream(NATSDestination)
    }

    /// A webhook's URL and the settings only HTTP has.
    public struct WebhookDestination: Sendable, Hashable {
        public var url: String
        /// Sent verbatim as the `Authorization` header.
        public var authorization: String?
        public var proxy: String?
        /// Retry 4xx answers (other than the always-retried 408, 409, 425, 429) instead of failing at once.
        public var retryOn4xx: Bool = false
        /// `handshake:` — the CloudEvents abuse-protection handshake before delivering.
        public var handshake: Bool = false

        public init(url: String) {
            self.url = url
        }
    }
}

extension AgentConfiguration.Endpoint {
    /// The webhook's URL and HTTP settings; nil for a stream.
    public var webhook: AgentConfiguration.WebhookDestination? {
        if case .webhook(let webhook) = destination { return webhook }
        return nil
    }

    /// The stream's settings; nil for a webhook.
    public var stream: AgentConfiguration.NATSDestination? {
        if case .stream(let stream) = destination { return stream }
        return nil
    }

    /// How messages name this kind of entry.
    public var noun: String { stream == nil ? "webhook" : "NATS destination" }
}

extension AgentConfiguration.Endpoint {
    /// Every secret that signs: the current one, then those inside their rotation overlap.
    public var signingSecrets: [SigningSecret] {
        (secret.map { [SigningSecret($0)] } ?? []) + previousSecrets
    }
}
