import DrophookEvents

/// Sends one webhook POST and reports what came back; the delivery workers' only view of HTTP.
///
/// Implementations never throw for a failed request: every outcome, answered or not,
/// is a value the retry policy classifies.
public protocol WebhookTransport: Sendable {
    func send(_ request: WebhookRequest) async -> WebhookOutcome
}

/// A webhook POST, fully rendered and signed (or the `OPTIONS` of a handshake).
public struct WebhookRequest: Sendable {
    /// `POST` for every delivery; `OPTIONS` (no body) for the CloudEvents abuse-protection handshake.
    public enum Method: String, Sendable, Hashable {
        case post = "POST"
        case options = "OPTIONS"
    }

    public var method: Method = .post
    public var url: String
    public var headers: [HTTPHeader]
    public var body: [UInt8]
    public var options: TransportOptions

    public init(url: String, headers: [HTTPHeader], body: [UInt8], options: TransportOptions = .init()) {
        self.url = url
        self.headers = headers
        self.body = body
        self.options = options
    }
}

/// Per-endpoint transport settings.
public struct TransportOptions: Sendable, Hashable {
    /// Time allowed to establish the connection (TCP and TLS).
    public var connectTimeout: Duration
    /// Time allowed for the whole exchange; the seed products ask receivers to answer within 10 s.
    public var totalTimeout: Duration
    /// PEM file of CA certificates trusted in addition to the system store.
    public var caFile: String?
    /// PEM client certificate for mTLS.
    public var clientCertificateFile: String?
    /// PEM private key for the client certificate.
    public var clientKeyFile: String?
    /// Proxy URL; when nil the standard proxy environment applies (`https_proxy`/`HTTPS_PROXY`,
    /// `http_proxy` — libcurl ignores upper-case `HTTP_PROXY` —, `ALL_PROXY`, `NO_PROXY`);
    /// an empty string connects directly, ignoring the environment.
    public var proxy: String?
    /// How much of the response body is kept; the rest is read and dropped.
    public var maxResponseBodyBytes: Int

    public init(
        connectTimeout: Duration = .seconds(5),
        totalTimeout: Duration = .seconds(10),
        caFile: String? = nil,
        clientCertificateFile: String? = nil,
        clientKeyFile: String? = nil,
        proxy: String? = nil,
        maxResponseBodyBytes: Int = 16 * 1024
    ) {
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.caFile = caFile
        self.clientCertificateFile = clientCertificateFile
        self.clientKeyFile = clientKeyFile
        self.proxy = proxy
        self.maxResponseBodyBytes = maxResponseBodyBytes
    }
}

/// What one attempt came to.
public enum WebhookOutcome: Sendable {
    /// The receiver answered (any status, including 3xx, which is never followed).
    case response(WebhookResponse)
    /// No HTTP response: the reason, classified for the retry policy.
    case failure(TransportFailure)
}

/// An HTTP response as far as drophook keeps it.
public struct WebhookResponse: Sendable {
    public var status: Int
    public var headers: [HTTPHeader]
    /// At most `TransportOptions.maxResponseBodyBytes` of the body.
    public var body: [UInt8]
    /// True when the body was longer than what was kept.
    public var bodyTruncated: Bool
    public var duration: Duration
    /// The HTTP version the answer came over: "1.0", "1.1", "2" or "3"; empty if the transport could not tell.
    public var httpVersion: String

    public init(
        status: Int, headers: [HTTPHeader], body: [UInt8], bodyTruncated: Bool = false, duration: Duration,
        httpVersion: String = "1.1"
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.bodyTruncated = bodyTruncated
        self.duration = duration
        self.httpVersion = httpVersion
    }

    /// The first value of a header, case-insensitively.
    public func header(_ name: String) -> String? {
        headers.value(named: name)
    }
}

/// Why an attempt got no HTTP response.
public struct TransportFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// Coarse reason, what the retry policy looks at.
    public enum Kind: String, Sendable, Hashable, Codable {
        case dnsFailure, connectFailure, timeout, tlsFailure, connectionReset, invalidRequest, other
        /// The receiver answered with something that is not HTTP (garbage, a broken status line):
        /// its fault, retried like any transient failure.
        case invalidResponse
        /// The receiver did not allow deliveries in the abuse-protection handshake.
        case notAllowed
    }

    public var kind: Kind
    /// Human-readable reason (curl's error text), logged and kept in the delivery log.
    public var message: String
    public var duration: Duration

    public init(kind: Kind, message: String, duration: Duration) {
        self.kind = kind
        self.message = message
        self.duration = duration
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}
