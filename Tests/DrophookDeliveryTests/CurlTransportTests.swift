import DrophookDelivery
import DrophookEvents
import Foundation
import Testing

@Suite("Curl transport over plain HTTP")
struct CurlTransportTests {
    @Test func deliversExactBodyAndHeadersInOrderAndReturnsTheResponse() async throws {
        let server = try CurlTestServer()
        defer { server.stop() }
        let transport = CurlTransport(configuration: .init(userAgent: "drophook/9.9.9-test"))
        let body: [UInt8] = Array(#"{"topic":"file.created","name":"é.csv"}"#.utf8) + [0, 255, 13, 10]
        let headers = [
            HTTPHeader("Content-Type", "application/json"),
            HTTPHeader("X-Request-Id", "a1"),
            HTTPHeader("X-Hub-Signature", "sha1=0123456789abcdef"),
            HTTPHeader("Authorization", "Bearer secret-token"),
            HTTPHeader("X-Empty", ""),
        ]

        let outcome = await transport.send(WebhookRequest(url: server.url("/status/201"), headers: headers, body: body))
        await transport.shutdown()

        let response = try #require(outcome.curlResponse)
        #expect(response.status == 201)
        #expect(response.headers.filter { $0.name == "X-Reply" }.map(\.value) == ["first", "second"])
        #expect(response.header("x-echo-id") == "a1")
        #expect(response.body == Array("status 201 for a1".utf8))
        #expect(!response.bodyTruncated)
        #expect(response.duration > .zero)

        let request = try #require(try server.requests().curlOnly)
        #expect(request.method == "POST")
        #expect(request.target == "/status/201")
        #expect(request.bodyBytes == body)
        let sentNames = Set(headers.map { $0.name.lowercased() })
        let arrived = request.headerPairs.filter { sentNames.contains($0.name.lowercased()) }
        #expect(arrived.map(\.name) == headers.map(\.name))
        #expect(arrived.map(\.value) == headers.map(\.value))
        #expect(request.headerPairs.first { $0.name.lowercased() == "user-agent" }?.value == "drophook/9.9.9-test")
        #expect(!request.headerPairs.contains { $0.name.lowercased() == "expect" })
        #expect(request.headerPairs.filter { $0.name.lowercased() == "content-type" }.count == 1)
    }

    @Test func keepsTheRequestsOwnUserAgentAndSendsNoFormContentType() async throws {
        let server = try CurlTestServer()
        defer { server.stop() }
        let transport = CurlTransport()
        // Large enough that curl would otherwise ask for 100-continue (its threshold is 1 MiB).
        let body = [UInt8](repeating: UInt8(ascii: "a"), count: 2 * 1024 * 1024)
        let outcome = await transport.send(
            WebhookRequest(
                url: server.url("/plain"), headers: [HTTPHeader("User-Agent", "receiver-test/1")], body: body
            ))
        await transport.shutdown()

        #expect(outcome.curlResponse?.status == 200)
        let request = try #require(try server.requests().curlOnly)
        #expect(request.headerPairs.filter { $0.name.lowercased() == "user-agent" }.map(\.value) == ["receiver-test/1"])
        #expect(!request.headerPairs.contains { $0.name.lowercased() == "content-type" })
        #expect(!request.headerPairs.contains { $0.name.lowercased() == "expect" })
        #expect(request.bodyBytes.count == body.count)
    }

    @Test func keepsOnlyTheFinalResponsesHeadersAfterAnInterimOne() async throws {
        let server = try CurlTestServer()
        defer { server.stop() }
        let transport = CurlTransport()
        let outcome = await transport.send(WebhookRequest(url: server.url("/interim"), headers: [], body: [1]))
        await transport.shutdown()

        let response = try #require(outcome.curlResponse)
        #expect(response.status == 200)
        #expect(response.header("X-Final") == "yes")
        #expect(response.header("Link") == nil)
        #expect(response.body == Array("final".utf8))
    }

    @Test func returnsRedirectsWithoutFollowingThem() async throws {
        let server = try CurlTestServer()
        defer { server.stop() }
        let transport = CurlTransport()
        let outcome = await transport.send(WebhookRequest(url: server.url("/redirect"), headers: [], body: [1, 2, 3]))
        await transport.shutdown()

        let response = try #require(outcome.curlResponse)
        #expect(response.status == 301)
        #expect(response.header("Location") == "/status/200")
        #expect(try server.requests().map(\.target) == ["/redirect"])
    }

    @Test func reusesTheConnectionForSequentialRequestsToOneHost() async throws {
        let server = try CurlTestServer()
        defer { server.stop() }
        let transport = CurlTransport()
        let first = await transport.send(WebhookRequest(url: server.url("/status/200"), headers: [], body: [1]))
        let second = await transport.send(WebhookRequest(url: server.url("/status/204"), headers: [], body: [2]))
        await transport.shutdown()

        #expect(first.curlResponse?.status == 200)
        #expect(second.curlResponse?.status == 204)
        let requests = try server.requests()
        #expect(requests.count == 2)
        #expect(try server.acceptedConnections() == 1)
        #expect(Set(requests.map(\.connection)).count == 1)
    }

    @Test func opensAFreshConnectionOnceTheOldOneOutlivesItsLifetime() async throws {
        let server = try CurlTestServer()
        defer { server.stop() }
        let transport = CurlTransport(configuration: .init(maxConnectionLifetime: .seconds(1)))
        let first = await transport.send(WebhookRequest(url: server.url("/status/200"), headers: [], body: [1]))
        // Nothing to await here: the point is that wall-clock time passes beyond the lifetime.
        // curl compares whole seconds (age / 1000 > lifetime), so the age must reach 2 s.
        try await Task.sleep(for: .milliseconds(2100))
        let second = await transport.send(WebhookRequest(url: server.url("/status/200"), headers: [], body: [2]))
        await transport.shutdown()

        #expect(first.curlResponse?.status == 200)
        #expect(second.curlResponse?.status == 200)
        #expect(try server.acceptedConnections() == 2)
    }

    @Test func classifiesAReceiverThatNeverAnswersAsATimeoutWithinTheTotalTimeout() async throws {
        let server = try CurlTestServer()
        defer { server.stop() }
        let transport = CurlTransport()
        let options = TransportOptions(connectTimeout: .seconds(1), totalTimeout: .milliseconds(800))
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await transport.send(WebhookRequest(url: server.url("/hang"), headers: [], body: [], options: options))
        let elapsed = clock.now - started
        await transport.shutdown()

        let failure = try #require(outcome.curlFailure)
        #expect(failure.kind == .timeout)
        #expect(elapsed >= .milliseconds(700))
        #expect(elapsed < .milliseconds(800) + .seconds(3))
        #expect(failure.duration >= .milliseconds(700))
    }

    @Test func keepsOnlyTheCappedPrefixOfAHugeResponseBody() async throws {
        let server = try CurlTestServer()
        defer { server.stop() }
        let transport = CurlTransport()
        let outcome = await transport.send(WebhookRequest(url: server.url("/huge/\(50 * 1024 * 1024)"), headers: [], body: []))
        let capped = await transport.send(
            WebhookRequest(
                url: server.url("/huge/\(1024 * 1024)"), headers: [], body: [],
                options: TransportOptions(maxResponseBodyBytes: 100)
            ))
        await transport.shutdown()

        let response = try #require(outcome.curlResponse)
        #expect(response.status == 200)
        #expect(response.bodyTruncated)
        #expect(response.body.count == TransportOptions().maxResponseBodyBytes)
        #expect(response.body.allSatisfy { $0 == UInt8(ascii: "x") })
        #expect(capped.curlResponse?.body.count == 100)
        #expect(capped.curlResponse?.bodyTruncated == true)
    }

    @Test func keepsABodyExactlyAtTheCapUntruncated() async throws {
        let server = try CurlTestServer()
        defer { server.stop() }
        let transport = CurlTransport()
        let outcome = await transport.send(
            WebhookRequest(
                url: server.url("/huge/4096"), headers: [], body: [], options: TransportOptions(maxResponseBodyBytes: 4096)
            ))
        await transport.shutdown()

        #expect(outcome.curlResponse?.body.count == 4096)
        #expect(outcome.curlResponse?.bodyTruncated == false)
    }

    /// A reply that is not HTTP is the receiver's fault: retried, never our "invalid request".
    @Test(arguments: [("/garbage", "HTTP/0.9"), ("/badstatus", "Unsupported HTTP")])
    func classifiesAReplyThatIsNotHTTPAsAnInvalidResponse(path: String, text: String) async throws {
        let server = try CurlTestServer()
        defer { server.stop() }
        let transport = CurlTransport()
        let outcome = await transport.send(WebhookRequest(url: server.url(path), headers: [], body: [1]))
        await transport.shutdown()

        let failure = try #require(outcome.curlFailure)
        #expect(failure.kind == .invalidResponse, "\(failure)")
        #expect(failure.message.contains(text), "\(failure)")
        guard case .retry = RetryPolicy().classify(DeliveryOutcome(outcome)) else {
            Issue.record("a malformed reply must be retried: \(failure)")
            return
        }
    }

    /// A receiver answering one byte at a time is cut off at the total timeout, not when it stops.
    @Test func cutsOffAReceiverThatAnswersOneByteAtATimeAtTheTotalTimeout() async throws {
        let server = try CurlTestServer()
        defer { server.stop() }
        let transport = CurlTransport()
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await transport.send(
            WebhookRequest(
                url: server.url("/drip"), headers: [], body: [],
                options: TransportOptions(connectTimeout: .seconds(1), totalTimeout: .milliseconds(900))))
        let elapsed = clock.now - started
        await transport.shutdown()

        #expect(outcome.curlFailure?.kind == .timeout, "\(outcome)")
        #expect(elapsed < .milliseconds(900) + .seconds(3))
    }

    @Test func classifiesAResetConnectionAsConnectionReset() async throws {
        let server = try CurlTestServer()
        defer { server.stop() }
        let transport = CurlTransport()
        let outcome = await transport.send(WebhookRequest(url: server.url("/reset"), headers: [], body: [1]))
        await transport.shutdown()

        let failure = try #require(outcome.curlFailure)
        #expect(failure.kind == .connectionReset, "\(failure)")
        #expect(failure.message.contains("curl"))
    }

    @Test func classifiesARefusedConnectionAsConnectFailure() async throws {
        let closed = try CurlClosedPort()
        defer { closed.release() }
        let transport = CurlTransport()
        let outcome = await transport.send(WebhookRequest(url: "http://127.0.0.1:\(closed.port)/hook", headers: [], body: []))
        await transport.shutdown()

        let failure = try #require(outcome.curlFailure)
        #expect(failure.kind == .connectFailure, "\(failure)")
        #expect(failure.message.contains("\(closed.port)"))
    }

    @Test func refusesRequestsThatCannotBeSentAsInvalid() async throws {
        let server = try CurlTestServer()
        defer { server.stop() }
        let transport = CurlTransport()
        let ftp = await transport.send(WebhookRequest(url: "ftp://127.0.0.1:\(server.port)/x", headers: [], body: []))
        let malformed = await transport.send(WebhookRequest(url: "http://[::1/x", headers: [], body: []))
        let injected = await transport.send(
            WebhookRequest(
                url: server.url("/status/200"), headers: [HTTPHeader("X-Bad", "a\r\nX-Injected: 1")], body: []
            ))
        await transport.shutdown()

        #expect(ftp.curlFailure?.kind == .invalidRequest)
        #expect(malformed.curlFailure?.kind == .invalidRequest)
        #expect(injected.curlFailure?.kind == .invalidRequest)
        #expect(injected.curlFailure?.message.contains("X-Bad") == true)
        #expect(try server.requests().isEmpty)
    }

    @Test func completesManyConcurrentRequestsWithTheirOwnResponses() async throws {
        let server = try CurlTestServer()
        defer { server.stop() }
        let transport = CurlTransport(configuration: .init(maxConnectionsPerHost: 8))
        let url = server.url("/status/202")
        let count = 200
        let mismatches = await withTaskGroup(of: String?.self) { group in
            for index in 0..<count {
                group.addTask {
                    let id = "req-\(index)"
                    let outcome = await transport.send(
                        WebhookRequest(
                            url: url, headers: [HTTPHeader("X-Request-Id", id)], body: Array(id.utf8)
                        ))
                    guard let response = outcome.curlResponse, response.status == 202,
                        response.header("X-Echo-Id") == id,
                        response.body == Array("status 202 for \(id)".utf8)
                    else {
                        let echoed = outcome.curlResponse?.header("X-Echo-Id") ?? "-"
                        return
                            "\(id): status \(outcome.curlResponse?.status ?? 0), echo \(echoed), \(outcome.curlFailure?.description ?? "")"
                    }
                    return nil
                }
            }
            var mismatches: [String] = []
            for await mismatch in group { if let mismatch { mismatches.append(mismatch) } }
            return mismatches
        }
        await transport.shutdown()

        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        let requests = try server.requests()
        #expect(requests.count == count)
        #expect(try server.acceptedConnections() <= 8)
    }

    @Test func sendsThroughAConfiguredForwardProxy() async throws {
        let proxy = try CurlTestServer()
        defer { proxy.stop() }
        let transport = CurlTransport()
        let options = TransportOptions(proxy: "http://127.0.0.1:\(proxy.port)")
        let outcome = await transport.send(
            WebhookRequest(
                url: "http://receiver.drophook.invalid/hooks/in", headers: [], body: Array("x".utf8), options: options
            ))
        await transport.shutdown()

        #expect(outcome.curlResponse?.status == 200)
        let request = try #require(try proxy.requests().curlOnly)
        #expect(request.target == "http://receiver.drophook.invalid/hooks/in")
        #expect(request.headerPairs.first { $0.name.lowercased() == "host" }?.value == "receiver.drophook.invalid")
    }

    @Test func exposesTheLibcurlVersionAndInitializes() {
        #expect(curlVersion.hasPrefix("libcurl/"))
        #expect(CurlTransport.curlVersion == curlVersion)
        #expect(CurlTransport().initializationError == nil)
    }
}
