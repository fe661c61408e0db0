import DrophookEvents
import Testing

@Suite("CloudEvents 1.0 over HTTP")
struct CloudEventsFormatTests {
    static let event = FileEvent(
        id: "01890a5d-ac96-7dd5-a9c6-2f3c4e5d6a7b", kind: .created, watch: "invoices",
        path: "alice/in/Überweisung 7%.pdf", size: 42, actor: "alice", occurredAtMillis: 1_710_498_600_000
    )
    static let context = DeliveryContext(webhookID: "w", deliveryID: "d", attemptID: "a", pipeID: "p", host: "sftp-1")

    @Test("structured mode: one application/cloudevents+json document with every required attribute")
    func structured() throws {
        let message = CloudEventsFormat().message(for: Self.event, context: Self.context)
        #expect(message.headers == [HTTPHeader("Content-Type", "application/cloudevents+json")])
        #expect(
            String(decoding: message.body, as: UTF8.self)
                == #"{"specversion":"1.0","id":"01890a5d-ac96-7dd5-a9c6-2f3c4e5d6a7b","source":"drophook://sftp-1/invoices","type":"io.drophook.file.created","subject":"alice/in/Überweisung 7%.pdf","time":"2024-03-15T10:30:00.000Z","datacontenttype":"application/json","data":{"id":"01890a5d-ac96-7dd5-a9c6-2f3c4e5d6a7b","watch":"invoices","path":"alice/in/Überweisung 7%.pdf","is_directory":false,"size":42,"actor":"alice"}}"#
        )
        #expect(CloudEventsFormat().defaultSignature == .standard)
    }

    @Test("binary mode: ce-* headers, percent-encoded where the HTTP binding says, and data as the body")
    func binary() throws {
        let message = CloudEventsFormat(mode: .binary).message(for: Self.event, context: Self.context)
        #expect(
            message.headers == [
                HTTPHeader("Content-Type", "application/json"),
                HTTPHeader("ce-specversion", "1.0"),
                HTTPHeader("ce-id", "01890a5d-ac96-7dd5-a9c6-2f3c4e5d6a7b"),
                HTTPHeader("ce-source", "drophook://sftp-1/invoices"),
                HTTPHeader("ce-type", "io.drophook.file.created"),
                HTTPHeader("ce-subject", "alice/in/%C3%9Cberweisung%207%25.pdf"),
                HTTPHeader("ce-time", "2024-03-15T10:30:00.000Z"),
            ])
        #expect(try JSONValue(parsing: message.body)["path"] == .string("alice/in/Überweisung 7%.pdf"))
    }
}
