import DrophookEvents
import DrophookReceiver
import DrophookTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("Loopback webhook receiver")
struct WebhookReceiverTests {
    static let secret = Array("receiver-secret".utf8)

    /// POSTs over real HTTP on 127.0.0.1 and returns the status, headers and body.
    static func post(
        _ receiver: RunningReceiver, path: String = "/hook", headers: [HTTPHeader], body: [UInt8],
        timeout: TimeInterval = 10
    ) async throws -> (status: Int, headers: [AnyHashable: Any], body: Data) {
        var request = URLRequest(url: URL(string: receiver.baseURL + path)!)
        request.httpMethod = "POST"
        request.timeoutInterval = timeout
        for header in headers { request.addValue(header.value, forHTTPHeaderField: header.name) }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let (data, response) = try await session.upload(for: request, from: Data(body))
        let http = try #require(response as? HTTPURLResponse)
        return (http.statusCode, http.allHeaderFields, data)
    }

    static func sampleMessage(secret: [UInt8]?) -> WebhookMessage {
        let event = FileEvent(
            id: EventID.timeOrdered(), kind: .created, watch: "w", path: "in/Überweisung €.csv",
            size: 42, actor: "alice", occurredAtMillis: 1_710_498_600_000
        )
        let context = DeliveryContext(webhookID: "wh", deliveryID: "d", attemptID: "a", pipeID: "p")
        let message = SFTPToGoFormat().message(for: event, context: context)
        return message.signed(
            with: try! RequestSigner(scheme: .hub, secrets: secret.map { [$0] } ?? []), messageID: event.id, timestampSeconds: 0)
    }

    @Test func recordsBodyHeadersAndVerifiedSignature() async throws {
        let receiver = try await WebhookReceiver.start(.init(secret: Self.secret))
        #expect(receiver.port > 0)
        let message = Self.sampleMessage(secret: Self.secret)
        let response = try await Self.post(
            receiver, headers: message.headers + [HTTPHeader("Authorization", "Bearer t0k")], body: message.body)
        #expect(response.status == 204)

        let received = try await receiver.waitForWebhooks(count: 1, timeout: .seconds(5))
        let webhook = try #require(received.first)
        #expect(webhook.method == "POST")
        #expect(webhook.path == "/hook")
        #expect(webhook.body == message.body)
        #expect(webhook.header("authorization") == "Bearer t0k")
        #expect(webhook.header("X-Hub-Signature") == message.headers.last?.value)
        #expect(webhook.signature == .verified(.hub))
        #expect(webhook.signatureVerified == true)
        #expect(webhook.topic == "file.created")
        #expect(webhook.summary.contains("file.created in/Überweisung €.csv 42 bytes signature ok"))
        await receiver.stop()
    }

    @Test func wrongOrMissingSignatureIsRecordedAsFailed() async throws {
        let receiver = try await WebhookReceiver.start(.init(secret: Self.secret))
        let forged = Self.sampleMessage(secret: Array("another-secret".utf8))
        let unsigned = Self.sampleMessage(secret: nil)
        _ = try await Self.post(receiver, headers: forged.headers, body: forged.body)
        _ = try await Self.post(receiver, headers: unsigned.headers, body: unsigned.body)
        let received = try await receiver.waitForWebhooks(count: 2, timeout: .seconds(5))
        #expect(received.map(\.signature) == [.mismatch(.hub), .unsigned])
        #expect(received.allSatisfy { $0.signatureVerified == false })
        #expect(received[0].summary.hasSuffix("signature FAILED (hub: no signature matches the secret)"))
        await receiver.stop()
    }

    @Test func withoutSecretSignatureIsNotChecked() async throws {
        let receiver = try await WebhookReceiver.start()
        let message = Self.sampleMessage(secret: Self.secret)
        _ = try await Self.post(receiver, headers: message.headers, body: message.body)
        let received = try await receiver.waitForWebhooks(count: 1, timeout: .seconds(5))
        #expect(received.first?.signatureVerified == nil)
        await receiver.stop()
    }

    @Test func summaryNamesRilavekTransfersAndPings() async throws {
        let receiver = try await WebhookReceiver.start(.init(secret: Self.secret))
        let event = FileEvent(
            id: EventID.timeOrdered(), kind: .failed, watch: "w", path: "in/invoice.pdf",
            size: 99, actor: "bob", occurredAtMillis: 0, foundByScan: true
        )
        let context = DeliveryContext(webhookID: "wh", deliveryID: "d", attemptID: "a", pipeID: "p")
        let transfer = RilavekFormat().message(for: event, context: context)
            .signed(with: try RequestSigner(scheme: .rilavek, secrets: [Self.secret]), messageID: event.id, timestampSeconds: 0)
        let endpoint = EndpointDescription(
            name: "n", url: receiver.baseURL, topics: [.fileCreated], paused: false, nowMillis: 0, eventID: "e")
        let ping = SFTPToGoFormat().ping(context: context, endpoint: endpoint)
            .signed(with: try RequestSigner(scheme: .hub, secrets: [Self.secret]), messageID: "e", timestampSeconds: 0)
        _ = try await Self.post(receiver, headers: transfer.headers, body: transfer.body)
        _ = try await Self.post(receiver, headers: ping.headers, body: ping.body)
        let received = try await receiver.waitForWebhooks(count: 2, timeout: .seconds(5))
        #expect(
            received[0].summary.hasSuffix(
                "file.status_changed failed invoice.pdf 99 bytes (found by scan) signature ok (rilavek: X-Rilavek-Signature)"))
        #expect(received[1].summary.hasSuffix("webhook.ping signature ok (hub: X-Hub-Signature)"))
        #expect(received[1].topic == "webhook.ping")
        await receiver.stop()
    }

    @Test func oversizedBodyIsRefusedAndNotRecorded() async throws {
        let receiver = try await WebhookReceiver.start(.init(maxBodyBytes: 1024))
        let response = try await Self.post(receiver, headers: [], body: [UInt8](repeating: 0x61, count: 4096))
        #expect(response.status == 413)
        #expect(receiver.receivedCount == 0)
        let small = try await Self.post(receiver, headers: [], body: Array("ok".utf8))
        #expect(small.status == 204)
        #expect(receiver.received.first?.summary.contains("POST /hook 2 bytes signature not checked") == true)
        await receiver.stop()
    }

    @Test func scriptedFailuresThenSuccess() async throws {
        let script = ResponseScript.sequence(
            [.status(500, body: "boom"), .retryAfter(seconds: 7, status: 429)],
            then: .status(200)
        )
        let receiver = try await WebhookReceiver.start(.init(script: script))
        let message = Self.sampleMessage(secret: nil)
        let first = try await Self.post(receiver, headers: message.headers, body: message.body)
        let second = try await Self.post(receiver, headers: message.headers, body: message.body)
        let third = try await Self.post(receiver, headers: message.headers, body: message.body)
        #expect(first.status == 500)
        #expect(String(decoding: first.body, as: UTF8.self) == "boom")
        #expect(second.status == 429)
        #expect(second.headers.first { ($0.key as? String)?.lowercased() == "retry-after" }?.value as? String == "7")
        #expect(third.status == 200)
        #expect(receiver.receivedCount == 3)

        receiver.setScript(.always(.status(410)))
        let fourth = try await Self.post(receiver, headers: message.headers, body: message.body)
        #expect(fourth.status == 410)

        // A script may consult the receiver itself.
        receiver.setScript(ResponseScript { _, _ in .status(receiver.receivedCount == 5 ? 202 : 500) })
        let fifth = try await Self.post(receiver, headers: message.headers, body: message.body)
        #expect(fifth.status == 202)
        await receiver.stop()
        await #expect(throws: ReceiverError.self) { _ = try await receiver.waitForWebhooks(count: 6, timeout: .seconds(60)) }
    }

    @Test func hangingReplyOutlastsClientTimeoutAndStopEndsIt() async throws {
        let receiver = try await WebhookReceiver.start(.init(script: .always(.hang(for: .seconds(60)))))
        let message = Self.sampleMessage(secret: nil)
        // A few seconds of client timeout: long enough for the request to leave even on a busy
        // machine, far shorter than the receiver's 60 s hang.
        await #expect(throws: (any Error).self) {
            _ = try await Self.post(receiver, headers: message.headers, body: message.body, timeout: 3)
        }
        // The request was recorded on arrival even though it was never answered.
        let recorded = try await receiver.waitForWebhooks(count: 1, timeout: .seconds(20))
        #expect(recorded.count == 1)
        let clock = ContinuousClock()
        let stopped = await clock.measure { await receiver.stop() }
        #expect(stopped < .seconds(10))
    }

    @Test func waitingTimesOutWithACount() async throws {
        let receiver = try await WebhookReceiver.start()
        do {
            _ = try await receiver.waitForWebhooks(count: 1, timeout: .milliseconds(100))
            Issue.record("wait returned without any webhook")
        } catch let error as ReceiverError {
            #expect(error.code == .timedOut)
            #expect(error.description.contains("received 0"))
        }
        await receiver.stop()
    }

    @Test func zeroTimeoutAndCancellationEndTheWait() async throws {
        let receiver = try await WebhookReceiver.start()
        await #expect(throws: ReceiverError.self) { _ = try await receiver.waitForWebhooks(count: 1, timeout: .zero) }
        let waiting = Task { try await receiver.waitForWebhooks(count: 1, timeout: .seconds(60)) }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { _ = try await waiting.value }
        await receiver.stop()
    }

    @Test func waiterRegisteredBeforeArrivalIsResumed() async throws {
        let receiver = try await WebhookReceiver.start()
        let waiting = Task { try await receiver.waitForWebhooks(count: 2, timeout: .seconds(10)) }
        let message = Self.sampleMessage(secret: nil)
        _ = try await Self.post(receiver, headers: message.headers, body: message.body)
        _ = try await Self.post(receiver, headers: message.headers, body: message.body)
        #expect(try await waiting.value.count == 2)
        await receiver.stop()
    }

    @Test func historyKeepsOnlyTheNewestButCountsAll() async throws {
        let receiver = try await WebhookReceiver.start(.init(historyLimit: 2))
        let message = Self.sampleMessage(secret: nil)
        for path in ["/1", "/2", "/3"] {
            _ = try await Self.post(receiver, path: path, headers: message.headers, body: message.body)
        }
        #expect(receiver.receivedCount == 3)
        #expect(receiver.received.map(\.path) == ["/2", "/3"])
        await receiver.stop()
    }

    @Test func streamDeliversEachWebhookAndFinishesOnStop() async throws {
        let receiver = try await WebhookReceiver.start()
        let message = Self.sampleMessage(secret: nil)
        _ = try await Self.post(receiver, path: "/a", headers: message.headers, body: message.body)
        _ = try await Self.post(receiver, path: "/b", headers: message.headers, body: message.body)
        await receiver.stop()
        var paths: [String] = []
        for await webhook in receiver.webhooks { paths.append(webhook.path) }
        #expect(paths == ["/a", "/b"])
    }

    @Test(.requires(.ipv6Loopback)) func listensOnIPv6Loopback() async throws {
        let receiver = try await WebhookReceiver.start(.init(host: "::1"))
        #expect(receiver.baseURL == "http://[::1]:\(receiver.port)")
        // swift-corelibs URLSession refuses bracketed IPv6 URLs, so this request goes over a raw socket.
        let status = try await Task.detached { try Self.rawIPv6Post(port: receiver.port, body: Array("{}".utf8)) }.value
        #expect(status == 204)
        #expect(receiver.receivedCount == 1)
        await receiver.stop()
    }

    /// A minimal blocking HTTP/1.1 POST to [::1]:port; returns the response status code.
    static func rawIPv6Post(port: Int, body: [UInt8]) throws -> Int {
        struct SocketFailure: Error { let step: String }
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketFailure(step: "socket") }
        defer { close(fd) }
        // Generous: the whole suite shares two cores, and a reply can take seconds under that load.
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        address.sin6_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        guard connected == 0 else { throw SocketFailure(step: "connect") }
        let head =
            "POST /hook HTTP/1.1\r\nHost: [::1]:\(port)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        let request = Array(head.utf8) + body
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { throw SocketFailure(step: "send") }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            response += chunk[0..<count]
        }
        // "HTTP/1.1 204 No Content"
        let statusLine = String(decoding: response.prefix { $0 != 0x0D }, as: UTF8.self)
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw SocketFailure(step: "status line '\(statusLine)'") }
        return status
    }

    @Test func bindingATakenPortFailsWithStartFailed() async throws {
        let first = try await WebhookReceiver.start()
        do {
            let second = try await WebhookReceiver.start(.init(port: first.port))
            // SO_REUSEADDR does not allow two listeners on one port on Linux; stop it if it did.
            await second.stop()
            Issue.record("a second receiver bound port \(first.port)")
        } catch let error as ReceiverError {
            #expect(error.code == .startFailed)
        }
        await first.stop()
    }
}
