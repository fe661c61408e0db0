import DrophookEvents
import Foundation

/// One request the receiver recorded, as it arrived.
public struct ReceivedWebhook: Sendable, Hashable {
    public var method: String
    /// Request target: path and query.
    public var path: String
    /// Header lines in arrival order.
    public var headers: [HTTPHeader]
    public var body: [UInt8]
    /// What the signature check found; nil when the receiver has no secret.
    public var signature: SignatureVerifier.Result?
    public var receivedAt: Date

    public init(
        method: String, path: String, headers: [HTTPHeader], body: [UInt8],
        signature: SignatureVerifier.Result?, receivedAt: Date
    ) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.signature = signature
        self.receivedAt = receivedAt
    }

    /// True when a signature header verified, false when it was missing or wrong, nil when the
    /// receiver has no secret to check with.
    public var signatureVerified: Bool? { signature?.isVerified }

    /// The first value of a header, case-insensitively.
    public func header(_ name: String) -> String? {
        headers.value(named: name)
    }

    /// The body parsed as JSON, or nil if it is not JSON drophook can read.
    public var json: JSONValue? { try? JSONValue(parsing: body) }

    /// The topic of a SFTP To Go body (`Topic`) or the event of a Rilavek one (`event`).
    public var topic: String? {
        guard let json else { return nil }
        return json["Topic"]?.stringValue ?? json["event"]?.stringValue
    }

    /// One line for `drophook listen`: time, topic or event, path or file name, size, and
    /// whether the signature verified, e.g.
    /// `2024-03-15T10:30:00.000Z file.created dir/file1.txt 357464 bytes signature ok`.
    public var summary: String {
        let millis = Int64((receivedAt.timeIntervalSince1970 * 1000).rounded(.down))
        var parts = [ISO8601Timestamp.string(fromMillis: millis)]
        if let json, let sftpTopic = json["Topic"]?.stringValue {
            parts.append(sftpTopic)
            if let path = json["Data"]?["Path"]?.stringValue { parts.append(path) }
            if let size = json["Data"]?["Size"]?.intValue { parts.append("\(size) bytes") }
            if json["Data"]?["FoundByScan"]?.boolValue == true { parts.append("(found by scan)") }
        } else if let json, let event = json["event"]?.stringValue {
            parts.append(event)
            if let status = json["data"]?["status"]?.stringValue { parts.append(status) }
            if let filename = json["data"]?["filename"]?.stringValue { parts.append(filename) }
            if let size = json["data"]?["size"]?.intValue { parts.append("\(size) bytes") }
            if json["data"]?["found_by_scan"]?.boolValue == true { parts.append("(found by scan)") }
        } else if let json, let type = json["type"]?.stringValue, let data = json["data"] {
            // Standard Webhooks.
            parts.append(type)
            if let path = data["path"]?.stringValue { parts.append(path) }
            if let size = data["size"]?.intValue { parts.append("\(size) bytes") }
            if data["found_by_scan"]?.boolValue == true { parts.append("(found by scan)") }
        } else {
            parts.append("\(method) \(path) \(body.count) bytes")
        }
        parts.append(signature.map(\.description) ?? "signature not checked")
        return parts.joined(separator: " ")
    }
}
