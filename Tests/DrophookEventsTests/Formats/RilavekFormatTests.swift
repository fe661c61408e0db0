import DrophookEvents
import Testing

@Suite("Rilavek payloads")
struct RilavekFormatTests {
    let format = RilavekFormat()

    /// The seed's example transfer; `file_id` comes from the event id, so it differs from the seed's.
    static let event = FileEvent(
        id: "98765432-10ab-cdef-9876-543210abcdef",
        kind: .created,
        watch: "invoices",
        path: "incoming/2024/invoice_2024.pdf",
        size: 1_048_576,
        actor: "client_abc",
        occurredAtMillis: 1_710_498_600_000
    )

    static let context = DeliveryContext(
        webhookID: "w1", deliveryID: "d1", attemptID: "a1",
        pipeID: "pip_123456789", transferProtocol: "sftp"
    )

    static let expected =
        #"{"event":"file.status_changed","timestamp":"2024-03-15T10:30:00.000Z","data":{"pipe_id":"pip_123456789","file_id":"fil_9876543210abcdef9876543210abcdef","filename":"invoice_2024.pdf","status":"transferred","size":1048576,"sender":"client_abc","protocol":"sftp","destinations":[]}}"#

    @Test func transferredFileMatchesSeedShape() {
        let message = format.message(for: Self.event, context: Self.context)
        #expect(String(decoding: message.body, as: UTF8.self) == Self.expected)
        #expect(message.headers == [HTTPHeader("Content-Type", "application/json")])
    }

    @Test func failedUploadHasFailedStatusAndBytesReceived() throws {
        var event = Self.event
        event.kind = .failed
        event.size = 5000
        let body = try JSONValue(parsing: format.message(for: event, context: Self.context).body)
        #expect(body["data"]?["status"] == .string("failed"))
        #expect(body["data"]?["size"] == .int(5000))
    }

    @Test func filenameIsTheBaseNameAtAnyDepth() throws {
        for (path, expected) in [("top.csv", "top.csv"), ("a/b/c/Überweisung €.csv", "Überweisung €.csv")] {
            var event = Self.event
            event.path = path
            let body = try JSONValue(parsing: format.message(for: event, context: Self.context).body)
            #expect(body["data"]?["filename"] == .string(expected))
        }
    }

    @Test func missingSizeIsZero() throws {
        var event = Self.event
        event.size = nil
        let body = try JSONValue(parsing: format.message(for: event, context: Self.context).body)
        #expect(body["data"]?["size"] == .int(0))
    }

    @Test func carriesOnlyFinishedAndFailedFileTransfers() {
        var event = Self.event
        #expect(format.carries(event))
        event.kind = .failed
        #expect(format.carries(event))
        event.kind = .deleted
        #expect(!format.carries(event))
        event.kind = .created
        event.isDirectory = true
        #expect(!format.carries(event))
    }

    @Test func scanFoundEventsCarryFlagLastInData() throws {
        var event = Self.event
        event.foundByScan = true
        let body = try JSONValue(parsing: format.message(for: event, context: Self.context).body)
        guard case .object(let data)? = body["data"] else {
            Issue.record("data is not an object")
            return
        }
        #expect(data.last?.0 == "found_by_scan")
        #expect(data.last?.1 == .bool(true))
    }

    @Test func signatureHeaderIsHexHMACOfTheBody() throws {
        let message = format.message(for: Self.event, context: Self.context)
        #expect(format.defaultSignature == .rilavek)
        let secret = Array("rilavek-test-secret".utf8)
        let headers = try RequestSigner(scheme: format.defaultSignature, secrets: [secret])
            .headers(body: message.body, messageID: Self.event.id, timestampSeconds: 0)
        // Computed independently with Python's hmac module over the expected body.
        #expect(headers == [HTTPHeader("X-Rilavek-Signature", "65b00fc903d1af44baa033799b081cc5f9767be1cf27320d7d4956f836328508")])
        #expect(SignatureVerifier(secret: secret).verify(body: message.body, headers: headers) == .verified(.rilavek))
    }

    @Test func pingKeepsEnvelopeAndSignature() throws {
        let endpoint = EndpointDescription(
            name: "n", url: "http://127.0.0.1/", topics: [.fileCreated], paused: false, nowMillis: 0, eventID: "e")
        let message = format.ping(context: Self.context, endpoint: endpoint)
        #expect(
            String(decoding: message.body, as: UTF8.self)
                == #"{"event":"webhook.ping","timestamp":"1970-01-01T00:00:00.000Z","data":{"pipe_id":"pip_123456789"}}"#)
        let headers = try RequestSigner(scheme: .rilavek, secrets: [Array("s".utf8)]).headers(
            body: message.body, messageID: "e", timestampSeconds: 0)
        #expect(SignatureVerifier(secret: Array("s".utf8)).verify(body: message.body, headers: headers).isVerified)
    }

    @Test func registryKnowsEveryFormat() {
        #expect(WebhookFormats.names == ["sftptogo", "rilavek", "standard", "cloudevents"])
        #expect(WebhookFormats.named("rilavek")?.name == "rilavek")
        #expect(WebhookFormats.named("sftptogo")?.name == "sftptogo")
        #expect(WebhookFormats.named("SFTPToGo") == nil)
    }
}
