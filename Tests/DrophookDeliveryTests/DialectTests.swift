import DrophookDelivery
import DrophookEvents
import DrophookReceiver
import Testing

/// Every signature scheme, sent by the real engine over HTTP and checked by the receivers' own
/// code: the reference `standardwebhooks` library unchanged, and Python's `hmac`/`json` for the
/// others.
@Suite("Receivers' own verification code")
struct DialectTests {
    static let standardSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let plainSecret = "It's a Secret to Everybody"

    @Test("each scheme's requests verify with the receiver's own code, odd names included")
    func receiversAcceptEveryScheme() async throws {
        let receiver = try await WebhookReceiver.start()
        let plain = Array(Self.plainSecret.utf8)
        func endpoint(_ name: String, _ format: any WebhookFormat, _ signature: SignatureScheme?, secret: [UInt8]) -> EndpointConfiguration
        {
            var endpoint = testEndpoint(name, url: receiver.baseURL + "/" + name)
            endpoint.format = format
            endpoint.topics = [.fileCreated, .fileDeleted, .fileFailed]
            endpoint.signer = try! RequestSigner(scheme: signature ?? format.defaultSignature, secrets: [secret])
            return endpoint
        }
        let endpoints = [
            endpoint("standard", StandardWebhooksFormat(), nil, secret: Array(Self.standardSecret.utf8)),
            endpoint("cloudevents", CloudEventsFormat(), nil, secret: Array(Self.standardSecret.utf8)),
            endpoint("cloudevents-binary", CloudEventsFormat(mode: .binary), nil, secret: Array(Self.standardSecret.utf8)),
            endpoint("github", SFTPToGoFormat(), .github, secret: plain),
            endpoint("timestamped", StandardWebhooksFormat(), .timestamped, secret: plain),
            // SFTP To Go's keys are not sorted: the receiver sorts them before it signs.
            endpoint("timestamped-sftptogo", SFTPToGoFormat(), .timestamped, secret: plain),
            endpoint("hub", SFTPToGoFormat(), nil, secret: plain),
            endpoint("rilavek", RilavekFormat(), nil, secret: plain),
        ]
        let harness = try EngineHarness(endpoints: endpoints, transport: CurlTransport())
        let events = [
            testEvent(.created, path: "in/Überweisung €\t\"q\"\\ \u{1F600} \u{2028}.csv"),
            testEvent(.created, path: PathBytes.string(from: Array("in/report".utf8) + [0xFF] + Array(".csv".utf8))),
            testEvent(.deleted, path: "in/old.csv"),
        ]
        try harness.append(events, endpoints: endpoints)
        // Rilavek carries the two created files only: 7 × 3 + 2.
        let received = try await receiver.waitForWebhooks(count: 23, timeout: .seconds(20))
        try await harness.finish()
        await receiver.stop()

        let output = try ReferenceVerifier.verify(received, standardSecret: Self.standardSecret, plainSecret: Self.plainSecret)
        #expect(
            output.split(separator: "\n").sorted() == [
                "/cloudevents 3", "/cloudevents-binary 3", "/github 3", "/hub 3", "/rilavek 2", "/standard 3", "/timestamped 3",
                "/timestamped-sftptogo 3",
                "node timestamped 6",
            ])
        // The event travels in headers too: its type everywhere, its id where the scheme has no id header of its own.
        for request in received {
            let binary = request.path == "/cloudevents-binary"
            // ce-type and ce-id carry them in binary CloudEvents, webhook-id under Standard Webhooks.
            let typeHeader = binary ? "ce-type" : "X-Drophook-Event"
            #expect(request.headers.value(named: typeHeader)?.contains("file.") == true, "\(request.path)")
            let idHeader =
                binary
                ? "ce-id"
                : request.path.hasPrefix("/standard") || request.path.hasPrefix("/cloudevents") ? "webhook-id" : "X-Drophook-Event-Id"
            #expect(request.headers.value(named: idHeader).map { id in events.contains { $0.id == id } } == true, "\(request.path)")
        }
        // drophook's own verifier agrees with the receivers' code.
        for request in received {
            let secret =
                request.path.hasPrefix("/standard") || request.path.hasPrefix("/cloudevents") ? Array(Self.standardSecret.utf8) : plain
            let result = SignatureVerifier(secret: secret).verify(
                body: request.body, headers: request.headers, nowSeconds: WallClock.nanoseconds() / 1_000_000_000)
            #expect(result.isVerified, "\(request.path): \(result)")
        }
    }

    @Test("during a rotation, Standard Webhooks carries one signature per live secret; a receiver with either accepts")
    func rotationSignsWithBothSecrets() throws {
        let old = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let new = "whsec_" + Base64.encode(Array(repeating: UInt8(7), count: 32))
        let signer = try RequestSigner(scheme: .standard, secrets: [Array(new.utf8), Array(old.utf8)])
        let body = Array(#"{"type":"file.created"}"#.utf8)
        let headers = signer.headers(body: body, messageID: "msg_1", timestampSeconds: 1_614_265_330)
        #expect(headers.value(named: "webhook-signature")?.split(separator: " ").count == 2)
        for secret in [old, new] {
            #expect(SignatureVerifier(secret: Array(secret.utf8)).verify(body: body, headers: headers).isVerified)
        }
        // A scheme with room for one signature signs with the newest secret only.
        let hub = try RequestSigner(scheme: .hub, secrets: [Array("new".utf8), Array("old".utf8)])
        let hubHeaders = hub.headers(body: body, messageID: "m", timestampSeconds: 0)
        #expect(SignatureVerifier(secret: Array("new".utf8)).verify(body: body, headers: hubHeaders) == .verified(.hub))
        #expect(SignatureVerifier(secret: Array("old".utf8)).verify(body: body, headers: hubHeaders) == .mismatch(.hub))
    }
}

extension DialectTests {
    /// A queued event says what its watch was called when it was stored: a reload that changes or
    /// removes the watch's pipe id does not change (or empty) the payload.
    @Test("a Rilavek payload keeps the pipe id stamped when the event was stored, whatever a reload changed")
    func pipeIDIsFixedWhenStored() async throws {
        let receiver = try await WebhookReceiver.start()
        var endpoint = testEndpoint("pipes", url: receiver.baseURL + "/pipes", paused: true)
        endpoint.format = RilavekFormat()
        endpoint.topics = [.fileCreated]
        let harness = try EngineHarness(endpoints: [endpoint], transport: CurlTransport())
        var stored = testEvent(.created, path: "in/a.csv")
        stored.origin = WatchOrigin(pipeID: "pip_at_store", transferProtocol: "ftps")
        try harness.append([stored, testEvent(.created, path: "in/old-row.csv")], endpoints: [endpoint])
        #expect(try harness.outbox.event(id: stored.id)?.origin == stored.origin)
        // The watch is renamed away by a reload, then the endpoint resumes.
        endpoint.paused = false
        harness.engine.reload(endpoints: [endpoint], watches: ["renamed": WatchOrigin(pipeID: "pip_new")])
        let received = try await receiver.waitForWebhooks(count: 2, timeout: .seconds(10))
        try await harness.finish()
        await receiver.stop()
        let pipes = try received.map { try JSONValue(parsing: $0.body)["data"]?["pipe_id"]?.stringValue ?? "?" }
        let protocols = try received.map { try JSONValue(parsing: $0.body)["data"]?["protocol"]?.stringValue ?? "?" }
        // The event stored without an origin (as before this column existed) falls back to the current config.
        #expect(Set(zip(pipes, protocols).map { "\($0) \($1)" }) == ["pip_at_store ftps", " sftp"])
    }
}

extension DialectTests {
    @Test("a rename's three events are stored and read back whole")
    func renameRoundTrip() throws {
        let harness = try EngineHarness(endpoints: [], transport: CurlTransport())
        var renamed = testEvent(.renamed, path: "in/new.csv")
        renamed.previousPath = "in/old.csv"
        var created = testEvent(.created, path: "in/new.csv")
        created.partOfRename = true
        created.sha256 = String(repeating: "0f", count: 32)
        try harness.append([created, renamed], endpoints: [])
        #expect(try harness.outbox.event(id: renamed.id) == renamed)
        #expect(try harness.outbox.event(id: created.id) == created)
    }
}

/// The CloudEvents abuse-protection handshake, against the real receiver over curl.
@Suite("Abuse-protection handshake")
struct HandshakeTests {
    static func endpoint(_ url: String) -> EndpointConfiguration {
        var endpoint = testEndpoint("guarded", url: url, schedule: [.milliseconds(50), .milliseconds(50), .milliseconds(50)])
        endpoint.format = CloudEventsFormat()
        endpoint.signer = try! RequestSigner(scheme: .none, secrets: [SigningSecret]())
        endpoint.handshake = true
        return endpoint
    }

    @Test("OPTIONS with this host's origin comes first; an allowed rate spaces the deliveries")
    func allowedAndPaced() async throws {
        let receiver = try await WebhookReceiver.start(
            .init(
                script: ResponseScript { request, _ in
                    request.method == "OPTIONS"
                        ? ReceiverReply(
                            status: 200, headers: [HTTPHeader("WebHook-Allowed-Origin", "*"), HTTPHeader("WebHook-Allowed-Rate", "600")])
                        : .noContent
                }))
        let endpoint = Self.endpoint(receiver.baseURL + "/guarded")
        let harness = try EngineHarness(endpoints: [endpoint], transport: CurlTransport())
        try harness.append((0..<4).map { testEvent(.created, path: "in/\($0).csv") }, endpoints: [endpoint])
        let received = try await receiver.waitForWebhooks(count: 5, timeout: .seconds(10))
        try await harness.finish()
        await receiver.stop()
        #expect(received.first?.method == "OPTIONS")
        #expect(received.first?.header("WebHook-Request-Origin") == "localhost")
        #expect(received.first?.body.isEmpty == true)
        #expect(received.dropFirst().allSatisfy { $0.method == "POST" })
        #expect(received.filter { $0.method == "OPTIONS" }.count == 1, "asked once, not per delivery")
        // 600 a minute: at least 100 ms between request starts (a lower bound only; a slow
        // machine can only make the gaps longer).
        let posts = received.dropFirst().map(\.receivedAt).sorted()
        for (earlier, later) in zip(posts, posts.dropFirst()) {
            #expect(later.timeIntervalSince(earlier) >= 0.09, "\(later.timeIntervalSince(earlier)) s apart")
        }
    }

    @Test("a receiver that does not allow the origin gets no event; the attempt fails and is retried")
    func refusedSendsNothing() async throws {
        let receiver = try await WebhookReceiver.start(
            .init(
                script: ResponseScript { request, _ in
                    request.method == "OPTIONS"
                        ? ReceiverReply(status: 200, headers: [HTTPHeader("WebHook-Allowed-Origin", "elsewhere.example")]) : .noContent
                }))
        let endpoint = Self.endpoint(receiver.baseURL + "/guarded")
        let harness = try EngineHarness(endpoints: [endpoint], transport: CurlTransport())
        let event = testEvent(.created, path: "in/a.csv")
        try harness.append([event], endpoints: [endpoint])
        try await eventually("the delivery failed after its retries") {
            try harness.outbox.recentDeliveries(endpoint: "guarded").first?.state == .failed
        }
        try await harness.finish()
        let received = receiver.received
        await receiver.stop()
        #expect(!received.isEmpty && received.allSatisfy { $0.method == "OPTIONS" }, "no POST without permission")
        let summary = try #require(try harness.outbox.recentDeliveries(endpoint: "guarded").first)
        #expect(summary.attemptCount == 4)
        #expect(summary.lastError?.contains("did not allow origin localhost") == true)
    }
}
