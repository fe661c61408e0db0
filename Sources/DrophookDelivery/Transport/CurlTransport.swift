import DrophookEvents
import Logging

/// The production `WebhookTransport`: libcurl's multi interface on one dedicated thread,
/// sharing a per-host connection cache across every endpoint that uses this transport.
///
/// Create one per process and keep it for the agent's lifetime; call `shutdown()` on the way
/// out (dropping the last reference also stops the thread, without waiting for it).
public final class CurlTransport: WebhookTransport {
    /// Process-wide transport settings; per-endpoint ones travel in each request's `TransportOptions`.
    public struct Configuration: Sendable, Hashable {
        /// Sent as `User-Agent` unless a request carries its own, e.g. `drophook/1.2.0`.
        public var userAgent: String
        /// Open connections per host (`CURLMOPT_MAX_HOST_CONNECTIONS`); 0 means unlimited.
        /// Requests beyond the cap queue inside curl, and that wait counts against their total
        /// timeout, so by default there is no cap: each endpoint's delivery concurrency is the bound.
        public var maxConnectionsPerHost: Int
        /// Open connections in total (`CURLMOPT_MAX_TOTAL_CONNECTIONS`); 0 means unlimited. Same caveat.
        public var maxConnections: Int
        /// Hashed CA directory trusted alongside an endpoint's `caFile`, so it adds to the system store.
        public var systemCADirectory: String?
        /// Idle time before TCP keepalive probes, which keep reused connections from going stale silently.
        public var tcpKeepAliveIdle: Duration
        /// Oldest a connection may be and still be reused (`CURLOPT_MAXLIFETIME_CONN`), so a busy
        /// endpoint follows a receiver's DNS change instead of keeping one connection for months.
        public var maxConnectionLifetime: Duration

        public init(
            userAgent: String = "drophook",
            maxConnectionsPerHost: Int = 0,
            maxConnections: Int = 0,
            systemCADirectory: String? = "/etc/ssl/certs",
            tcpKeepAliveIdle: Duration = .seconds(60),
            maxConnectionLifetime: Duration = .seconds(300)
        ) {
            self.userAgent = userAgent
            self.maxConnectionsPerHost = maxConnectionsPerHost
            self.maxConnections = maxConnections
            self.systemCADirectory = systemCADirectory
            self.tcpKeepAliveIdle = tcpKeepAliveIdle
            self.maxConnectionLifetime = maxConnectionLifetime
        }
    }

    /// The libcurl version line, for `drophook --version` and logs.
    public static var curlVersion: String { DrophookDelivery.curlVersion }

    public let configuration: Configuration
    /// Why libcurl could not be set up, if it could not; every `send` then fails with this text.
    /// The agent checks it at startup to refuse to run rather than fail each delivery.
    public let initializationError: CurlTransportError?
    private let loop: CurlMultiLoop?

    /// Initializes libcurl (once per process) and starts the transport's thread.
    public init(configuration: Configuration = .init(), logger: Logger = Logger(label: "drophook.curl")) {
        self.configuration = configuration
        do {
            let loop = try CurlMultiLoop(configuration: configuration, logger: logger)
            loop.start()
            self.loop = loop
            self.initializationError = nil
        } catch {
            logger.critical("HTTP transport unavailable", metadata: ["error": "\(error)"])
            self.loop = nil
            self.initializationError = error
        }
    }

    deinit {
        loop?.requestStop()
    }

    /// Sends one POST. Never throws: failures, cancellation and shutdown come back as `.failure`.
    public func send(_ request: WebhookRequest) async -> WebhookOutcome {
        guard let loop else {
            return .failure(
                TransportFailure(
                    kind: .other, message: initializationError?.description ?? "the HTTP transport is unavailable",
                    duration: .zero
                ))
        }
        let id = loop.makeID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                loop.submit(id: id, request, continuation: continuation)
            }
        } onCancel: {
            loop.cancel(id: id)
        }
    }

    /// Stops the thread and waits for it; requests still pending or in flight fail, later ones fail at once.
    public func shutdown() async {
        guard let loop else { return }
        loop.requestStop()
        await loop.waitUntilFinished()
    }
}
