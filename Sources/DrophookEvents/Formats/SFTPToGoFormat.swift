/// SFTP To Go's webhook payloads: `file.created` / `file.deleted` envelopes and `webhook.ping`;
/// signed by default with `X-Hub-Signature` (base64 HMAC-SHA256 of the body, ``SignatureScheme/hub``).
///
/// Keys, their order and their case follow SFTP To Go's published examples exactly, so a live
/// event's body is indistinguishable from one SFTP To Go would send. drophook adds one key of
/// its own: `"FoundByScan": true`, as the last key of `Data`, only on events that a scan found
/// (start-up catch-up, overflow recovery) rather than a live filesystem event; live events
/// never carry it, so existing receivers see the documented shape. A path that is not valid
/// UTF-8 also carries `"PathBase64"` after `Size`: its exact bytes (``PathBytes``). A webhook
/// with `session_details: true` also gets `"ClientAddress"` and `"BytesWritten"` from the SFTP
/// session log, when it matched the event. `Actor.Id` is the SFTP login user when it did.
///
/// `file.failed` has no SFTP To Go counterpart: a webhook that subscribes to it gets it in the
/// same envelope (`Topic: "file.failed"`, `Data.Size` the bytes received); by default it does not.
public struct SFTPToGoFormat: WebhookFormat {
    public let name = "sftptogo"
    public let defaultSignature = SignatureScheme.hub
    /// `Actor.Id` of pings, which no user causes.
    public var pingActor: String

    public init(pingActor: String = "drophook") {
        self.pingActor = pingActor
    }

    public func carries(_ event: FileEvent) -> Bool {
        event.kind != .failed || !event.isDirectory
    }

    public func message(for event: FileEvent, context: DeliveryContext) -> WebhookMessage {
        let topic = event.topic.rawValue
        // A trailing `/` is how SFTP To Go receivers tell a directory from a file.
        let path = PathBytes.payloadText(event.isDirectory ? event.path + "/" : event.path)
        let size: JSONValue = event.kind != .deleted && !event.isDirectory ? .int(orNull: event.size) : .null
        var data: [(String, JSONValue)] = [("Path", .string(path.text)), ("Size", size)]
        if let exact = path.exactBase64 { data.append(("PathBase64", .string(exact))) }
        if let sha256 = event.sha256 { data.append(("Sha256", .string(sha256))) }
        if context.sessionDetails, let address = event.clientAddress {
            data.append(("ClientAddress", .string(address)))
            if let written = event.bytesWritten { data.append(("BytesWritten", .int(written))) }
        }
        if event.foundByScan { data.append(("FoundByScan", .bool(true))) }

        var metadata: [(String, JSONValue)] = []
        if let organization = context.organizationID {
            metadata.append(("Organization", Self.id(organization)))
        }
        metadata += [
            ("Webhook", Self.id(context.webhookID)),
            ("Delivery", Self.id(context.deliveryID)),
            ("Attempt", Self.id(context.attemptID)),
            ("Event", .object([("Id", .string(event.id)), ("Topic", .string(topic))])),
        ]

        let body = JSONValue.object([
            ("Id", .string(event.id)),
            ("Topic", .string(topic)),
            ("CreatedAt", .int(event.occurredAtMillis)),
            ("UpdatedAt", .int(event.occurredAtMillis)),
            ("Actor", .object([("Type", .string("User")), ("Id", .string(event.actor))])),
            ("Resource", .string("File")),
            ("PreviousData", Self.previousData(event)),
            ("Data", .object(data)),
            ("Metadata", .object(metadata)),
        ]).serialized()
        return .json(body)
    }

    /// The `webhook.ping` envelope of SFTP To Go's format documentation, plus the `Actor`
    /// object that its sample request shows (`{"Type":"User","Id":"drophook"}`), so receivers
    /// that read `Actor` on every message find one. The endpoint has no creation time of its
    /// own in drophook, so `Data.CreatedAt`/`UpdatedAt` are the ping time.
    public func ping(context: DeliveryContext, endpoint: EndpointDescription) -> WebhookMessage {
        let topic = Topic.webhookPing.rawValue
        var data: [(String, JSONValue)] = [
            ("Topics", .array(endpoint.topics.map { .string($0.rawValue) })),
            ("State", .string(endpoint.paused ? "paused" : "enabled")),
            ("Alias", .string(endpoint.name)),
            ("CreatedAt", .int(endpoint.nowMillis)),
            ("Id", .string(context.webhookID)),
        ]
        if let organization = context.organizationID {
            data.append(("OrganizationId", .string(organization)))
        }
        data += [
            ("UpdatedAt", .int(endpoint.nowMillis)),
            ("Url", .string(endpoint.url)),
        ]
        let body = JSONValue.object([
            ("Id", .string(endpoint.eventID)),
            ("Topic", .string(topic)),
            ("CreatedAt", .int(endpoint.nowMillis)),
            ("UpdatedAt", .int(endpoint.nowMillis)),
            ("Actor", .object([("Type", .string("User")), ("Id", .string(pingActor))])),
            ("Resource", .string("webhook")),
            ("PreviousData", .null),
            ("Data", .object(data)),
            (
                "Metadata",
                .object([
                    ("Webhook", Self.id(context.webhookID)),
                    ("Delivery", Self.id(context.deliveryID)),
                    ("Attempt", Self.id(context.attemptID)),
                    ("Event", .object([("Id", .string(endpoint.eventID)), ("Topic", .string(topic))])),
                ])
            ),
        ]).serialized()
        return .json(body)
    }

    /// `PreviousData` of a rename: `{"Path": old}` in the shape of `Data`; null otherwise.
    private static func previousData(_ event: FileEvent) -> JSONValue {
        guard event.kind == .renamed, let previous = event.previousPath else { return .null }
        let path = PathBytes.payloadText(event.isDirectory ? previous + "/" : previous)
        var data: [(String, JSONValue)] = [("Path", .string(path.text))]
        if let exact = path.exactBase64 { data.append(("PathBase64", .string(exact))) }
        return .object(data)
    }

    private static func id(_ value: String) -> JSONValue {
        .object([("Id", .string(value))])
    }
}
