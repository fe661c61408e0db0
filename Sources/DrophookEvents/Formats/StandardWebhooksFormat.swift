/// The Standard Webhooks payload (`format: standard`): `{"type", "timestamp", "data"}`, signed
/// by default with the Standard Webhooks headers (``SignatureScheme/standard``), so a receiver
/// verifies it with the reference libraries unchanged.
///
/// `type` is drophook's topic (`file.created`, `file.deleted`, `file.failed`, `webhook.ping`),
/// `timestamp` the event's time in ISO 8601 (UTC, milliseconds). `data` holds the event:
/// `id`, `watch`, `path` (relative to the watch root, no trailing `/`), `is_directory`, `size`
/// (bytes, `null` where unknown and for deletions and directories) and `actor` (the SFTP login
/// user when the session log matched; then also `client_address`, and `bytes_written` for
/// uploads); `path_base64`
/// (the exact bytes) only when the path is not UTF-8, `found_by_scan: true` only when a scan
/// found the change.
public struct StandardWebhooksFormat: WebhookFormat {
    public let name = "standard"
    public let defaultSignature = SignatureScheme.standard

    public init() {}

    public func carries(_ event: FileEvent) -> Bool { true }

    public func message(for event: FileEvent, context: DeliveryContext) -> WebhookMessage {
        .json(Self.envelope(type: event.topic.rawValue, millis: event.occurredAtMillis, data: .object(Self.data(of: event))).serialized())
    }

    public func ping(context: DeliveryContext, endpoint: EndpointDescription) -> WebhookMessage {
        .json(
            Self.envelope(type: Topic.webhookPing.rawValue, millis: endpoint.nowMillis, data: .object(Self.data(of: endpoint))).serialized()
        )
    }

    static func envelope(type: String, millis: Int64, data: JSONValue) -> JSONValue {
        .object([
            ("type", .string(type)),
            ("timestamp", .string(ISO8601Timestamp.string(fromMillis: millis))),
            ("data", data),
        ])
    }

    /// An event's `data`, shared with the CloudEvents format.
    static func data(of event: FileEvent) -> [(String, JSONValue)] {
        let path = PathBytes.payloadText(event.path)
        var data: [(String, JSONValue)] = [
            ("id", .string(event.id)),
            ("watch", .string(event.watch)),
            ("path", .string(path.text)),
        ]
        if let exact = path.exactBase64 { data.append(("path_base64", .string(exact))) }
        if event.kind == .renamed, let previous = event.previousPath.map(PathBytes.payloadText) {
            data.append(("previous_path", .string(previous.text)))
            if let exact = previous.exactBase64 { data.append(("previous_path_base64", .string(exact))) }
        }
        data += [
            ("is_directory", .bool(event.isDirectory)),
            ("size", event.kind == .deleted || event.isDirectory ? .null : .int(orNull: event.size)),
            ("actor", .string(event.actor)),
        ]
        if let address = event.clientAddress { data.append(("client_address", .string(address))) }
        if let written = event.bytesWritten { data.append(("bytes_written", .int(written))) }
        if let sha256 = event.sha256 { data.append(("sha256", .string(sha256))) }
        if event.foundByScan { data.append(("found_by_scan", .bool(true))) }
        return data
    }

    /// A ping's `data`: the webhook it tests.
    static func data(of endpoint: EndpointDescription) -> [(String, JSONValue)] {
        [
            ("id", .string(endpoint.eventID)),
            ("webhook", .string(endpoint.name)),
            ("url", .string(endpoint.url)),
            ("topics", .array(endpoint.topics.map { .string($0.rawValue) })),
            ("state", .string(endpoint.paused ? "paused" : "enabled")),
        ]
    }
}
