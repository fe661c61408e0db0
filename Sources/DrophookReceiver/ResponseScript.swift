import DrophookEvents
import Synchronization

/// One scripted answer of the receiver.
public struct ReceiverReply: Sendable, Hashable {
    public var status: Int
    public var headers: [HTTPHeader]
    public var body: [UInt8]
    /// How long to wait before answering. A delay longer than the sender's timeout makes the
    /// receiver "hang"; the wait ends early when the receiver stops.
    public var delay: Duration
    /// When set, the answer also waits until this gate is opened (or the receiver stops).
    public var gate: ReplyGate?

    public init(status: Int, headers: [HTTPHeader] = [], body: [UInt8] = [], delay: Duration = .zero, gate: ReplyGate? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.delay = delay
        self.gate = gate
    }

    /// `204 No Content`, the answer SFTP To Go recommends.
    public static let noContent = ReceiverReply(status: 204)

    /// A bare status code, with a short text body for statuses that carry one.
    public static func status(_ code: Int, body: String = "") -> ReceiverReply {
        ReceiverReply(status: code, body: Array(body.utf8))
    }

    /// `status` with a `Retry-After` header (seconds), e.g. 429 or 503.
    public static func retryAfter(seconds: Int, status: Int = 503) -> ReceiverReply {
        ReceiverReply(status: status, headers: [HTTPHeader("Retry-After", String(seconds))])
    }

    /// Holds the request open for `duration` before answering 204, to exercise sender timeouts.
    public static func hang(for duration: Duration) -> ReceiverReply {
        ReceiverReply(status: 204, delay: duration)
    }
}

/// Holds the replies that name it until ``open()``: a test can act between "the request
/// arrived" and "the sender has its answer" (take a lock, kill a process) without guessing how
/// long that takes on a loaded machine.
public final class ReplyGate: Sendable, Hashable {
    private let isOpenCell = Mutex(false)

    public init() {}

    /// Lets every held reply, and every later one, go.
    public func open() { isOpenCell.withLock { $0 = true } }

    public var isOpen: Bool { isOpenCell.withLock { $0 } }

    // A gate is one thing the test holds: equal only to itself.
    public static func == (lhs: ReplyGate, rhs: ReplyGate) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

/// Chooses the reply to each request from the request and its 0-based arrival index.
public struct ResponseScript: Sendable {
    public let reply: @Sendable (_ webhook: ReceivedWebhook, _ index: Int) -> ReceiverReply

    public init(_ reply: @escaping @Sendable (_ webhook: ReceivedWebhook, _ index: Int) -> ReceiverReply) {
        self.reply = reply
    }

    /// The same reply every time.
    public static func always(_ reply: ReceiverReply) -> ResponseScript {
        ResponseScript { _, _ in reply }
    }

    /// `replies` in order for the first requests, then `then` forever
    /// (e.g. `.sequence([.status(500), .status(500), .status(500)], then: .status(200))`).
    public static func sequence(_ replies: [ReceiverReply], then: ReceiverReply = .noContent) -> ResponseScript {
        ResponseScript { _, index in index < replies.count ? replies[index] : then }
    }
}
