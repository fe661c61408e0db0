import DrophookEvents
import DrophookOutbox

/// The delivery log as JSON (`--json`), and the header and body encodings `listen --json` shares: exact text, nothing escaped for a terminal, times in
/// ISO 8601. A body that is not UTF-8 comes as `body_base64` instead of `body`.
enum DeliveryLogJSON {
    static func summaries(_ rows: [DeliverySummary]) -> String {
        JSONValue.array(rows.map(summary)).serializedString
    }

    static func attempts(_ attempts: [AttemptRecord]) -> String {
        JSONValue.array(attempts.map(attempt)).serializedString
    }

    static func summary(_ row: DeliverySummary) -> JSONValue {
        .object([
            ("delivery_id", .string(row.deliveryID)),
            ("event_id", .string(row.eventID)),
            ("webhook", .string(row.endpoint)),
            ("topic", .string(row.topic.rawValue)),
            ("watch", .string(row.watch)),
            ("path", .string(PathBytes.payloadText(row.path).text)),
            ("state", .string(row.state.rawValue)),
            ("attempts", .int(Int64(row.attemptCount))),
            ("last_status", row.lastStatus.map { .int(Int64($0)) } ?? .null),
            ("last_sequence", row.lastSequence.map { .int(Int64(bitPattern: $0)) } ?? .null),
            ("last_error", row.lastError.map(JSONValue.string) ?? .null),
            ("created_at", .string(ISO8601Timestamp.string(fromMillis: row.createdAtMillis))),
            ("updated_at", .string(ISO8601Timestamp.string(fromMillis: row.updatedAtMillis))),
        ])
    }

    static func attempt(_ attempt: AttemptRecord) -> JSONValue {
        let address: (String, JSONValue) =
            switch attempt.target {
            case .url(let url): ("url", .string(url))
            case .subject(let subject): ("subject", .string(subject))
            }
        var request: [(String, JSONValue)] = [address, ("headers", headers(attempt.requestHeaders))]
        request.append(body(attempt.requestBody))
        var fields: [(String, JSONValue)] = [
            ("id", .string(attempt.id)),
            ("delivery_id", .string(attempt.deliveryID)),
            ("number", .int(Int64(attempt.number))),
            ("started_at", .string(ISO8601Timestamp.string(fromMillis: attempt.startedAtMillis))),
            ("duration_ms", .int(attempt.durationMillis)),
            ("result", .string(attempt.result.rawValue)),
            ("error", attempt.error.map(JSONValue.string) ?? .null),
            ("request", .object(request)),
        ]
        if let status = attempt.responseStatus {
            fields.append(
                (
                    "response",
                    .object([
                        ("status", .int(Int64(status))),
                        ("headers", headers(attempt.responseHeaders)),
                        body(attempt.responseBody),
                        ("truncated", .bool(attempt.responseTruncated)),
                    ])
                ))
        } else {
            fields.append(("response", .null))
        }
        if let acknowledgement = attempt.acknowledgement {
            // A stream's answer, in its own terms, where a webhook's HTTP response would be.
            fields.append(
                (
                    "acknowledgement",
                    .object([
                        ("stream", .string(acknowledgement.stream)),
                        ("sequence", .int(Int64(bitPattern: acknowledgement.sequence))),
                        ("duplicate", .bool(acknowledgement.duplicate)),
                    ])
                ))
        }
        return .object(fields)
    }

    static func headers(_ headers: [HTTPHeader]) -> JSONValue {
        .array(headers.map { .array([.string($0.name), .string($0.value)]) })
    }

    static func body(_ bytes: [UInt8]) -> (String, JSONValue) {
        if let text = String(validating: bytes, as: UTF8.self) { return ("body", .string(text)) }
        return ("body_base64", .string(Base64.encode(bytes)))
    }
}
