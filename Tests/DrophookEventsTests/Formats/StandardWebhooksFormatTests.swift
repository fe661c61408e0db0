import DrophookEvents
import Testing

@Suite("Standard Webhooks payloads and the timestamped scheme's canonical JSON")
struct StandardWebhooksFormatTests {
    let format = StandardWebhooksFormat()

    static let event = FileEvent(
        id: "01890a5d-ac96-7dd5-a9c6-2f3c4e5d6a7b", kind: .created, watch: "invoices",
        path: "alice/in/invoice 7.pdf", size: 1_048_576, actor: "alice", occurredAtMillis: 1_710_498_600_000
    )
    static let context = DeliveryContext(webhookID: "w", deliveryID: "d", attemptID: "a", pipeID: "p")

    @Test("golden bodies: a created file, a deletion found by a scan, a name that is not UTF-8, a ping")
    func goldenBodies() {
        #expect(
            String(decoding: format.message(for: Self.event, context: Self.context).body, as: UTF8.self)
                == #"{"type":"file.created","timestamp":"2024-03-15T10:30:00.000Z","data":{"id":"01890a5d-ac96-7dd5-a9c6-2f3c4e5d6a7b","watch":"invoices","path":"alice/in/invoice 7.pdf","is_directory":false,"size":1048576,"actor":"alice"}}"#
        )
        var deleted = Self.event
        deleted.kind = .deleted
        deleted.foundByScan = true
        #expect(
            String(decoding: format.message(for: deleted, context: Self.context).body, as: UTF8.self)
                == #"{"type":"file.deleted","timestamp":"2024-03-15T10:30:00.000Z","data":{"id":"01890a5d-ac96-7dd5-a9c6-2f3c4e5d6a7b","watch":"invoices","path":"alice/in/invoice 7.pdf","is_directory":false,"size":null,"actor":"alice","found_by_scan":true}}"#
        )
        var latin1 = Self.event
        latin1.path = PathBytes.string(from: Array("r".utf8) + [0xE9] + Array(".csv".utf8))
        let data = (try? JSONValue(parsing: format.message(for: latin1, context: Self.context).body))?["data"]
        #expect(data?["path"] == .string("r\u{FFFD}.csv"))
        #expect(data?["path_base64"] == .string(Base64.encode(Array("r".utf8) + [0xE9] + Array(".csv".utf8))))
        let ping = format.ping(
            context: Self.context,
            endpoint: EndpointDescription(
                name: "ops", url: "https://example.com/h", topics: [.fileCreated], paused: false, nowMillis: 0, eventID: "e1"))
        #expect(
            String(decoding: ping.body, as: UTF8.self)
                == #"{"type":"webhook.ping","timestamp":"1970-01-01T00:00:00.000Z","data":{"id":"e1","webhook":"ops","url":"https://example.com/h","topics":["file.created"],"state":"enabled"}}"#
        )
        #expect(ping.headers == [HTTPHeader("Content-Type", "application/json")])
        #expect(format.defaultSignature == .standard && format.carries(Self.event))
    }

    @Test("JSON.stringify's choices: keys by UTF-16 code units, short escapes, everything else as itself")
    func javaScriptSortedJSON() throws {
        let value = try JSONValue(
            parsing:
                #"{"b":1,"a":{"z":[{"y":true,"x":null}],"\uff61":"half","\ud83d\ude00":"grin"},"c":"tab\t nl\n cr\r bs\b ff\f bell\u0007 slash/ quote\" back\\ é \u2028"}"#
        )
        // 😀 (UTF-16 D83D DE00) sorts before U+FF61 in JavaScript, after it by code point.
        // The expected text is what Node's JSON.stringify printed for the same input.
        #expect(
            String(decoding: value.javaScriptSorted(), as: UTF8.self)
                == #"{"a":{"z":[{"x":null,"y":true}],"😀":"grin","｡":"half"},"b":1,"c":"tab\t nl\n cr\r bs\b ff\f bell\u0007 slash/ quote\" back\\ é "#
                + "\u{2028}" + #""}"#)
    }

    @Test("timestamped: HMAC-SHA256 hex over timestamp.sorted JSON, however the body orders its keys")
    func timestampedSignsTheSortedForm() throws {
        let secret = Array("key".utf8)
        let signer = try RequestSigner(scheme: .timestamped, secrets: [secret])
        let ordered = signer.headers(body: Array(#"{"a":1,"b":2}"#.utf8), messageID: "m", timestampSeconds: 1_700_000_000)
        let reversed = signer.headers(body: Array(#"{"b":2,"a":1}"#.utf8), messageID: "m", timestampSeconds: 1_700_000_000)
        // python3 -c 'import hmac,hashlib;print(hmac.new(b"key",b"1700000000.{\"a\":1,\"b\":2}",hashlib.sha256).hexdigest())'
        #expect(
            ordered == [
                HTTPHeader("x-signature", "c22135a7337285888d8816f0fdf8e2a18741609080aed907ae1d75e6d97c5d3c"),
                HTTPHeader("x-timestamp", "1700000000"),
            ])
        #expect(reversed == ordered)
    }

    @Test("renames: SFTP To Go's PreviousData holds the old path; the Standard Webhooks data says previous_path")
    func renamedPayloads() throws {
        var renamed = Self.event
        renamed.kind = .renamed
        renamed.path = "alice/in/invoice 8.pdf"
        renamed.previousPath = "alice/in/invoice 7.pdf"
        let sftp = try JSONValue(parsing: SFTPToGoFormat().message(for: renamed, context: Self.context).body)
        #expect(sftp["Topic"] == .string("file.renamed"))
        #expect(sftp["PreviousData"] == .object([("Path", .string("alice/in/invoice 7.pdf"))]))
        #expect(sftp["Data"]?["Path"] == .string("alice/in/invoice 8.pdf") && sftp["Data"]?["Size"] == .int(1_048_576))
        let standard = try JSONValue(parsing: format.message(for: renamed, context: Self.context).body)
        #expect(standard["type"] == .string("file.renamed"))
        #expect(standard["data"]?["previous_path"] == .string("alice/in/invoice 7.pdf"))
        #expect(!RilavekFormat().carries(renamed))
    }

    @Test("a checksum goes where each format has room: Sha256 in SFTP To Go's Data, sha256 in the others' data")
    func checksumPlacement() throws {
        var event = Self.event
        event.sha256 = String(repeating: "ab", count: 32)
        let sftp = try JSONValue(parsing: SFTPToGoFormat().message(for: event, context: Self.context).body)
        #expect(
            sftp["Data"]
                == .object([("Path", .string("alice/in/invoice 7.pdf")), ("Size", .int(1_048_576)), ("Sha256", .string(event.sha256!))]))
        let rilavek = try JSONValue(parsing: RilavekFormat().message(for: event, context: Self.context).body)
        #expect(rilavek["data"]?["sha256"] == .string(event.sha256!))
        let standard = try JSONValue(parsing: format.message(for: event, context: Self.context).body)
        #expect(standard["data"]?["sha256"] == .string(event.sha256!))
        // Without one, the vendors' shapes are untouched.
        let plain = try JSONValue(parsing: SFTPToGoFormat().message(for: Self.event, context: Self.context).body)
        #expect(plain["Data"]?["Sha256"] == nil)
    }

    @Test("the session log's client address and bytes: always in drophook's own shapes, in the vendors' only with session_details")
    func sessionDetailsPlacement() throws {
        var event = Self.event
        event.actor = "partner-7"
        event.clientAddress = "192.0.2.7"
        event.bytesWritten = 4096
        var asked = Self.context
        asked.sessionDetails = true
        let sftp = try JSONValue(parsing: SFTPToGoFormat().message(for: event, context: asked).body)
        #expect(sftp["Actor"]?["Id"] == .string("partner-7"))
        #expect(
            sftp["Data"]
                == .object([
                    ("Path", .string("alice/in/invoice 7.pdf")), ("Size", .int(1_048_576)),
                    ("ClientAddress", .string("192.0.2.7")), ("BytesWritten", .int(4096)),
                ]))
        let rilavek = try JSONValue(parsing: RilavekFormat().message(for: event, context: asked).body)
        #expect(rilavek["data"]?["sender"] == .string("partner-7"))
        #expect(rilavek["data"]?["client_address"] == .string("192.0.2.7") && rilavek["data"]?["bytes_written"] == .int(4096))
        let standard = try JSONValue(parsing: format.message(for: event, context: Self.context).body)
        #expect(standard["data"]?["client_address"] == .string("192.0.2.7") && standard["data"]?["bytes_written"] == .int(4096))
        let cloud = try JSONValue(parsing: CloudEventsFormat().message(for: event, context: Self.context).body)
        #expect(cloud["data"]?["client_address"] == .string("192.0.2.7"))
        // Not asked: the vendors' documented shapes, key for key.
        let plainSFTP = try JSONValue(parsing: SFTPToGoFormat().message(for: event, context: Self.context).body)
        #expect(plainSFTP["Data"] == .object([("Path", .string("alice/in/invoice 7.pdf")), ("Size", .int(1_048_576))]))
        let plainRilavek = try JSONValue(parsing: RilavekFormat().message(for: event, context: Self.context).body)
        #expect(plainRilavek["data"]?["client_address"] == nil && plainRilavek["data"]?["bytes_written"] == nil)
    }
}
