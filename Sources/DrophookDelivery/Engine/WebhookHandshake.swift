import DrophookEvents
import Synchronization

/// The CloudEvents Web Hook abuse-protection handshake (CloudEvents "HTTP 1.1 Web Hooks"
/// §4), for an endpoint that opts in with `handshake: true`.
///
/// Before its first delivery (and again after ``revalidateAfter``, or when the URL changes) the
/// worker sends `OPTIONS` with `WebHook-Request-Origin: <this host>`. Only a 2xx answer whose
/// `WebHook-Allowed-Origin` is that origin or `*` allows deliveries; anything else fails the
/// attempt (retried on the endpoint's schedule) without sending the event. A
/// `WebHook-Allowed-Rate: N` answer spaces requests to at most N per minute.
final class WebhookHandshake: Sendable {
    /// How long an allowed handshake stands before it is asked again.
    static let revalidateAfter: Duration = .seconds(24 * 3600)

    private struct State {
        var allowedURL: String?
        var allowedAt: ContinuousClock.Instant?
        /// Time between two request starts; nil when the rate is unlimited.
        var spacing: Duration?
        var nextSlot: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    /// The monotonic clock: when an answer was given, when the next request may go.
    private let now: @Sendable () -> ContinuousClock.Instant

    init(now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.now = now
    }
    /// One handshake at a time: concurrent attempts wait for its answer.
    private let running = Mutex<Task<TransportFailure?, Never>?>(nil)

    /// Nil when deliveries to `url` are allowed (asking the receiver if need be); otherwise why not.
    func admit(url: String, origin: String, options: TransportOptions, transport: any WebhookTransport) async -> TransportFailure? {
        let now = self.now()
        let valid = state.withLock { state in
            state.allowedURL == url && state.allowedAt.map { now - $0 < Self.revalidateAfter } == true
        }
        if valid { return nil }
        let task = running.withLock { running in
            if let task = running { return task }
            let task = Task { await self.ask(url: url, origin: origin, options: options, transport: transport) }
            running = task
            return task
        }
        let result = await task.value
        running.withLock { if $0 == task { $0 = nil } }
        return result
    }

    /// Waits for this request's turn under the allowed rate.
    func pace() async {
        let now = self.now()
        let slot: ContinuousClock.Instant? = state.withLock { state in
            guard let spacing = state.spacing else { return nil }
            let slot = max(now, state.nextSlot ?? now)
            state.nextSlot = slot + spacing
            return slot
        }
        if let slot, slot > now { try? await Task.sleep(until: slot, clock: .continuous) }
    }

    private func ask(url: String, origin: String, options: TransportOptions, transport: any WebhookTransport) async -> TransportFailure? {
        var request = WebhookRequest(url: url, headers: [HTTPHeader("WebHook-Request-Origin", origin)], body: [], options: options)
        request.method = .options
        let began = now()
        let refused = { (why: String) in
            TransportFailure(kind: .notAllowed, message: "abuse-protection handshake: \(why)", duration: self.now() - began)
        }
        switch await transport.send(request) {
        case .failure(let failure):
            return refused("OPTIONS \(url) got no answer (\(failure))")
        case .response(let response):
            guard (200..<300).contains(response.status) else {
                return refused("OPTIONS answered \(response.status); the receiver must answer 200 with WebHook-Allowed-Origin")
            }
            guard let allowed = response.header("WebHook-Allowed-Origin")?.trimmingCharacters(in: .whitespaces),
                allowed == "*" || allowed.caseInsensitiveCompare(origin) == .orderedSame
            else {
                return refused(
                    "the receiver did not allow origin \(origin) (WebHook-Allowed-Origin: \(response.header("WebHook-Allowed-Origin") ?? "missing"))"
                )
            }
            let rate = response.header("WebHook-Allowed-Rate").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            state.withLock { state in
                state.allowedURL = url
                state.allowedAt = self.now()
                state.spacing = rate.flatMap { $0 > 0 ? Duration.seconds(60) / $0 : nil }
            }
            return nil
        }
    }
}
