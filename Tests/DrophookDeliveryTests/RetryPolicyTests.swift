import DrophookDelivery
import DrophookEvents
import Foundation
import Testing

@Suite("Retry classification and Retry-After")
struct RetryPolicyTests {
    let policy = RetryPolicy()

    func response(_ status: Int, _ headers: [HTTPHeader] = []) -> DeliveryOutcome {
        .answered(WebhookResponse(status: status, headers: headers, body: [], duration: .milliseconds(3)))
    }

    func isRetry(_ verdict: DeliveryVerdict) -> Bool {
        if case .retry = verdict { return true }
        return false
    }

    func isPermanent(_ verdict: DeliveryVerdict) -> Bool {
        if case .permanentFailure = verdict { return true }
        return false
    }

    @Test("2xx is delivered", arguments: [200, 201, 202, 204, 299])
    func success(status: Int) {
        #expect(policy.classify(response(status)) == .delivered)
    }

    @Test("5xx and 408, 409, 425, 429 are retried", arguments: [500, 502, 503, 504, 599, 408, 409, 425, 429])
    func retried(status: Int) {
        #expect(isRetry(policy.classify(response(status))))
    }

    @Test("other 4xx fail at once unless retry_on_4xx", arguments: [400, 401, 403, 404, 405, 413, 422, 451])
    func clientErrors(status: Int) {
        #expect(isPermanent(policy.classify(response(status))))
        #expect(isRetry(RetryPolicy(retryOn4xx: true).classify(response(status))))
    }

    @Test("3xx is a permanent failure and never followed", arguments: [301, 302, 303, 307, 308])
    func redirects(status: Int) {
        #expect(isPermanent(policy.classify(response(status, [HTTPHeader("Location", "http://127.0.0.1/x")]))))
    }

    @Test("410 Gone means the endpoint is gone, even with retry_on_4xx")
    func gone() {
        #expect(policy.classify(response(410)) == .endpointGone)
        #expect(RetryPolicy(retryOn4xx: true).classify(response(410)) == .endpointGone)
    }

    @Test(
        "connection errors, DNS, timeouts, resets and TLS failures are retried",
        arguments: [TransportFailure.Kind.dnsFailure, .connectFailure, .timeout, .tlsFailure, .connectionReset, .other])
    func transportFailures(kind: TransportFailure.Kind) {
        let verdict = policy.classify(TransportFailure(kind: kind, message: "x", duration: .zero))
        #expect(verdict == .retry(reason: "\(kind.rawValue): x", after: nil))
    }

    @Test("a request that cannot be made fails at once")
    func invalidRequest() {
        #expect(isPermanent(policy.classify(TransportFailure(kind: .invalidRequest, message: "bad URL", duration: .zero))))
    }

    @Test("Retry-After on 429 and 503 replaces the schedule; elsewhere it is ignored")
    func retryAfterHonoured() {
        #expect(policy.classify(response(429, [HTTPHeader("retry-after", "7")])) == .retry(reason: "HTTP 429", after: .seconds(7)))
        #expect(policy.classify(response(503, [HTTPHeader("Retry-After", "120")])) == .retry(reason: "HTTP 503", after: .seconds(120)))
        #expect(policy.classify(response(500, [HTTPHeader("Retry-After", "7")])) == .retry(reason: "HTTP 500", after: nil))
        #expect(policy.classify(response(429, [HTTPHeader("Retry-After", "soon")])) == .retry(reason: "HTTP 429", after: nil))
    }

    @Test("Retry-After seconds and HTTP-dates, clamped to one second .. one day")
    func retryAfterParsing() {
        let now = Date(timeIntervalSince1970: 1_445_412_480) // Wed, 21 Oct 2015 07:28:00 GMT
        #expect(RetryAfter.parse("30", now: now) == .seconds(30))
        #expect(RetryAfter.parse("0", now: now) == .seconds(1))
        #expect(RetryAfter.parse("999999999999999999999", now: now) == .seconds(86_400))
        #expect(RetryAfter.parse("172800", now: now) == .seconds(86_400))
        #expect(RetryAfter.parse("Wed, 21 Oct 2015 07:30:00 GMT", now: now) == .seconds(120))
        #expect(RetryAfter.parse("Wednesday, 21-Oct-15 07:29:00 GMT", now: now) == .seconds(60))
        #expect(RetryAfter.parse("Wed Oct 21 07:28:45 2015", now: now) == .seconds(45))
        #expect(RetryAfter.parse("Tue, 20 Oct 2015 07:28:00 GMT", now: now) == .seconds(1))
        #expect(RetryAfter.parse("Fri, 30 Oct 2015 07:28:00 GMT", now: now) == .seconds(86_400))
        #expect(RetryAfter.parse("-5", now: now) == nil)
        #expect(RetryAfter.parse("", now: now) == nil)
        #expect(RetryAfter.parse("tomorrow", now: now) == nil)
    }
}
