/// Rilavek's `file.status_changed` payload; signed by default with `X-Rilavek-Signature`
/// (lowercase hex HMAC-SHA256 of the raw body, ``SignatureScheme/rilavek``).
///
/// Rilavek reports finished transfers of files, successful (`status: "transferred"`) or not
/// (`status: "failed"`: an abandoned temp-name upload, or one the session log says was cut off); deletions and directories are not carried.
/// `data.file_id` is `fil_` plus the event id's 32 hex digits, stable across retries, since
/// Rilavek receivers use it as their idempotency key. `destinations` is always empty: drophook
/// delivers no copies. drophook adds `"found_by_scan": true` as the last key of `data` only on
/// events a scan found, so live events match Rilavek's documented shape exactly, and
/// `"filename_base64"` (the name's exact bytes, ``PathBytes``) only when the name is not UTF-8.
/// `sender` is the SFTP login user when the session log matched the event (else the watch's
/// `actor` rule); `client_address` and `bytes_written` follow only with `session_details: true`.
public struct RilavekFormat: WebhookFormat {
    public let name = "rilavek"
    public let defaultSignature = SignatureScheme.rilavek

    public init() {}

    public func carries(_ event: FileEvent) -> Bool {
        !event.isDirectory && (event.kind == .created || event.kind == .failed)
    }

    public func message(for event: FileEvent, context: DeliveryContext) -> WebhookMessage {
        let baseName = event.path.lastIndex(of: "/").map { String(event.path[event.path.index(after: $0)...]) } ?? event.path
        let filename = PathBytes.payloadText(baseName)
        var data: [(String, JSONValue)] = [
            ("pipe_id", .string(context.pipeID)),
            ("file_id", .string(EventID.rilavekFileID(event.id))),
            ("filename", .string(filename.text)),
            ("status", .string(event.kind == .failed ? "failed" : "transferred")),
            ("size", .int(event.size ?? 0)),
            ("sender", .string(event.actor)),
            ("protocol", .string(context.transferProtocol)),
            ("destinations", .array([])),
        ]
        if let exact = filename.exactBase64 { data.append(("filename_base64", .string(exact))) }
        if let sha256 = event.sha256 { data.append(("sha256", .string(sha256))) }
        if context.sessionDetails, let address = event.clientAddress {
            data.append(("client_address", .string(address)))
            if let written = event.bytesWritten { data.append(("bytes_written", .int(written))) }
        }
        if event.foundByScan { data.append(("found_by_scan", .bool(true))) }
        let body = JSONValue.object([
            ("event", .string("file.status_changed")),
            ("timestamp", .string(ISO8601Timestamp.string(fromMillis: event.occurredAtMillis))),
            ("data", .object(data)),
        ]).serialized()
        return .json(body)
    }

    /// Rilavek defines no test message. drophook's ping keeps the envelope (`event`,
    /// `timestamp`, `data.pipe_id`) with `event: "webhook.ping"`, signed like every other
    /// message, so a receiver that switches on `event` ignores it and one that checks
    /// signatures can prove its secret works.
    public func ping(context: DeliveryContext, endpoint: EndpointDescription) -> WebhookMessage {
        let body = JSONValue.object([
            ("event", .string(Topic.webhookPing.rawValue)),
            ("timestamp", .string(ISO8601Timestamp.string(fromMillis: endpoint.nowMillis))),
            ("data", .object([("pipe_id", .string(context.pipeID))])),
        ]).serialized()
        return .json(body)
    }
}
