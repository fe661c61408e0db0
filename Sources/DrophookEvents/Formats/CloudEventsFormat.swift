/// CloudEvents 1.0 over HTTP (`format: cloudevents`), in structured mode by default or binary
/// mode by option (`cloudevents_mode: binary`).
///
/// - `id`: the event id, stable across retries (receivers deduplicate on `source` + `id`).
/// - `source`: `drophook://HOST/WATCH`, the sending host and the watch (`drophook://HOST/` for pings).
/// - `type`: reverse-DNS, `io.drophook.` + the topic (`io.drophook.file.created`, …).
/// - `subject`: the path relative to the watch root; `time`: the event's time (RFC 3339, UTC).
/// - `data`: the same object as the Standard Webhooks format's `data` (`application/json`).
///
/// Structured mode sends one `application/cloudevents+json` document; binary mode sends the
/// attributes as `ce-*` headers (percent-encoded as the HTTP binding requires) and `data` as
/// the body. Signed by default with the Standard Webhooks headers, which CloudEvents leaves to
/// the transport.
public struct CloudEventsFormat: WebhookFormat {
    /// How the event travels over HTTP.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        case structured, binary
    }

    public let name = "cloudevents"
    public let defaultSignature = SignatureScheme.standard
    public var mode: Mode

    public init(mode: Mode = .structured) {
        self.mode = mode
    }

    public func carries(_ event: FileEvent) -> Bool { true }

    public func message(for event: FileEvent, context: DeliveryContext) -> WebhookMessage {
        let path = PathBytes.payloadText(event.path).text
        return message(
            id: event.id, source: "drophook://\(context.host)/\(event.watch)", topic: event.topic.rawValue,
            subject: path, millis: event.occurredAtMillis, data: StandardWebhooksFormat.data(of: event))
    }

    public func ping(context: DeliveryContext, endpoint: EndpointDescription) -> WebhookMessage {
        message(
            id: endpoint.eventID, source: "drophook://\(context.host)/", topic: Topic.webhookPing.rawValue,
            subject: endpoint.name, millis: endpoint.nowMillis, data: StandardWebhooksFormat.data(of: endpoint))
    }

    private func message(
        id: String, source: String, topic: String, subject: String, millis: Int64, data: [(String, JSONValue)]
    ) -> WebhookMessage {
        let attributes: [(String, String)] = [
            ("specversion", "1.0"),
            ("id", id),
            ("source", source),
            ("type", "io.drophook." + topic),
            ("subject", subject),
            ("time", ISO8601Timestamp.string(fromMillis: millis)),
        ]
        switch mode {
        case .structured:
            let document = JSONValue.object(
                attributes.map { ($0.0, .string($0.1)) }
                    + [("datacontenttype", .string("application/json")), ("data", .object(data))])
            return .json(document.serialized(), contentType: "application/cloudevents+json")
        case .binary:
            var message = WebhookMessage.json(JSONValue.object(data).serialized())
            message.headers += attributes.map { HTTPHeader("ce-" + $0.0, Self.percentEncoded($0.1)) }
            return message
        }
    }

    /// A `ce-*` header value: every byte outside printable ASCII, and space, `"` and `%`,
    /// percent-encoded from UTF-8 (CloudEvents HTTP binding, 3.1.3.2).
    static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            if (0x21...0x7E).contains(byte), byte != UInt8(ascii: "\""), byte != UInt8(ascii: "%") {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
