import DrophookEvents
import Foundation

/// What an attempt's outcome means for its delivery.
public enum DeliveryVerdict: Sendable, Hashable {
    /// 2xx.
    case delivered
    /// Transient: try again. `after` is the receiver's `Retry-After`, which replaces the scheduled delay.
    case retry(reason: String, after: Duration?)
    /// It will not go better by retrying: the delivery fails at once (kept for manual redelivery).
    case permanentFailure(reason: String)
    /// 410 Gone: the receiver says the endpoint no longer exists; the endpoint is disabled.
    case endpointGone
}

/// What one attempt came to, in its destination's own terms: a webhook's HTTP answer, a
/// stream's acknowledgement, or no answer at all.
public enum DeliveryOutcome: Sendable {
    case answered(WebhookResponse)
    case acknowledged(StreamAcknowledgement)
    case failure(TransportFailure)

    public init(_ outcome: WebhookOutcome) {
        switch outcome {
        case .response(let response): self = .answered(response)
        case .failure(let failure): self = .failure(failure)
        }
    }

    public init(_ outcome: StreamOutcome) {
        switch outcome {
        case .acknowledged(let acknowledgement): self = .acknowledged(acknowledgement)
        case .failure(let failure): self = .failure(failure)
        }
    }
}

/// Sorts attempt outcomes into delivered, retry, permanent failure and endpoint gone.
public struct RetryPolicy: Sendable, Hashable {
    /// Retry 4xx answers that are otherwise final (config `retry_on_4xx`).
    public var retryOn4xx: Bool

    public init(retryOn4xx: Bool = false) {
        self.retryOn4xx = retryOn4xx
    }

    /// 4xx answers that mean "not now" rather than "never": timeout, conflict, too early, too many requests.
    public static let retryable4xx: Set<Int> = [408, 409, 425, 429]

    public func classify(_ outcome: DeliveryOutcome, now: Date = Date()) -> DeliveryVerdict {
        switch outcome {
        case .failure(let failure): classify(failure)
        case .answered(let response): classify(status: response.status, retryAfter: response.header("Retry-After"), now: now)
        // Stored, or already stored within the duplicate window: either way the stream has it.
        case .acknowledged: .delivered
        }
    }

    /// No answer, from either kind of destination.
    public func classify(_ failure: TransportFailure) -> DeliveryVerdict {
        switch failure.kind {
        case .dnsFailure, .connectFailure, .timeout, .tlsFailure, .connectionReset, .invalidResponse, .other, .notAllowed:
            .retry(reason: failure.description, after: nil)
        case .invalidRequest:
            // The request could not even be made (bad URL, unusable certificate file):
            // the same request would fail the same way.
            .permanentFailure(reason: failure.description)
        }
    }

    public func classify(status: Int, retryAfter: String? = nil, now: Date = Date()) -> DeliveryVerdict {
        switch status {
        case 200..<300:
            return .delivered
        case 300..<400:
            // Redirects are never followed (a signed POST must not be replayed to wherever a
            // receiver points), and a redirect doesn't go away by itself: the URL in the config
            // needs fixing, after which the delivery can be redelivered.
            return .permanentFailure(reason: "HTTP \(status): redirects are not followed — set the endpoint URL to the final address")
        case 410:
            return .endpointGone
        case 429, 503:
            return .retry(reason: "HTTP \(status)", after: retryAfter.flatMap { RetryAfter.parse($0, now: now) })
        case 500..<600:
            return .retry(reason: "HTTP \(status)", after: nil)
        case 400..<500 where Self.retryable4xx.contains(status) || retryOn4xx:
            return .retry(reason: "HTTP \(status)", after: nil)
        default:
            return .permanentFailure(reason: "HTTP \(status)")
        }
    }
}
