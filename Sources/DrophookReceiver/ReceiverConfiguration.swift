import DrophookEvents

/// How a loopback webhook receiver listens and answers.
public struct ReceiverConfiguration: Sendable {
    /// Address to bind; loopback by default so a test or `drophook listen` never exposes a port.
    public var host: String
    /// Port to bind; 0 lets the kernel pick a free one (read it back from ``RunningReceiver/port``).
    public var port: Int
    /// Shared secret for checking `X-Hub-Signature` / `X-Rilavek-Signature`; nil skips the check.
    public var secret: [UInt8]?
    /// What to answer to each request.
    public var script: ResponseScript
    /// Bodies above this size are refused with 413 and not recorded.
    public var maxBodyBytes: Int
    /// How many received webhooks are kept for inspection; older ones are dropped first, so a
    /// long-running `drophook listen` does not grow without bound.
    public var historyLimit: Int

    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        secret: [UInt8]? = nil,
        script: ResponseScript = .always(.noContent),
        maxBodyBytes: Int = 10 * 1024 * 1024,
        historyLimit: Int = 10_000
    ) {
        self.host = host
        self.port = port
        self.secret = secret
        self.script = script
        self.maxBodyBytes = maxBodyBytes
        self.historyLimit = historyLimit
    }
}

/// Why a receiver could not start or an expectation on it was not met.
public struct ReceiverError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is; compare with the static members.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case startFailed = "receiver_start_failed"
            case timedOut = "receiver_timed_out"
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The stable name, as logs show it.
        public var description: String { value.rawValue }

        /// The server could not bind or stopped before it was listening.
        public static let startFailed = Code(.startFailed)
        /// Fewer webhooks arrived than awaited before the deadline.
        public static let timedOut = Code(.timedOut)
    }

    public let code: Code
    public let description: String

    init(code: Code, description: String) {
        self.code = code
        self.description = description
    }
}
