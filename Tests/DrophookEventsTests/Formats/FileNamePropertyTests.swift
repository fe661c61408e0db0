import DrophookEvents
import Testing

/// Random byte strings as file names, through every format: the body is always valid JSON, the
/// exact bytes can be recovered from it, and two different names never give the same body.
@Suite("Any file name in any format")
struct FileNamePropertyTests {
    static let formats: [any WebhookFormat] = [
        SFTPToGoFormat(), RilavekFormat(), StandardWebhooksFormat(), CloudEventsFormat(), CloudEventsFormat(mode: .binary),
    ]

    /// The exact name bytes a receiver recovers from a body: the `…base64` key when present,
    /// else the UTF-8 of the path text.
    static func recoveredName(_ body: JSONValue, format: any WebhookFormat) -> [UInt8]? {
        let (text, exact): (String?, String?)
        switch format.name {
        case "sftptogo": (text, exact) = (body["Data"]?["Path"]?.stringValue, body["Data"]?["PathBase64"]?.stringValue)
        case "rilavek": (text, exact) = (body["data"]?["filename"]?.stringValue, body["data"]?["filename_base64"]?.stringValue)
        case "cloudevents" where body["data"] != nil:
            (text, exact) = (body["data"]?["path"]?.stringValue, body["data"]?["path_base64"]?.stringValue)
        default:
            (text, exact) = (
                (body["path"] ?? body["data"]?["path"])?.stringValue, (body["path_base64"] ?? body["data"]?["path_base64"])?.stringValue
            )
        }
        if let exact { return Base64.decode(exact) }
        return text.map { Array($0.utf8) }
    }

    @Test("2,000 random names: valid JSON, recoverable bytes, no two names alike")
    func randomNames() throws {
        var seed: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> UInt64 {
            seed ^= seed << 13
            seed ^= seed >> 7
            seed ^= seed << 17
            return seed
        }
        let context = DeliveryContext(webhookID: "w", deliveryID: "d", attemptID: "a", pipeID: "p", host: "h")
        // Keyed by bytes: `String` keys would merge canonically equivalent bodies.
        var bodies: [ExactText: [UInt8]] = [:]
        for _ in 0..<2_000 {
            // 1–40 bytes of anything a Linux name may hold (no NUL, no '/'), biased to odd ones.
            let length = Int(next() % 40) + 1
            let name: [UInt8] = (0..<length).map { _ in
                let byte = UInt8(truncatingIfNeeded: next())
                return byte == 0 || byte == UInt8(ascii: "/") ? 0xFF : byte
            }
            let event = FileEvent(
                id: "e", kind: .created, watch: "w", path: PathBytes.string(from: name), size: 1,
                actor: "a", occurredAtMillis: 0)
            for format in Self.formats {
                let body = format.message(for: event, context: context).body
                let json = try JSONValue(parsing: body)
                #expect(String(validating: body, as: UTF8.self) != nil)
                #expect(Self.recoveredName(json, format: format) == name, "\(format.name) lost \(name)")
                let key = format.name + String(describing: (format as? CloudEventsFormat)?.mode)
                let bodyKey = ExactText(key + String(decoding: body, as: UTF8.self))
                if let earlier = bodies[bodyKey], earlier != name {
                    Issue.record("\(format.name): \(earlier) and \(name) give the same body")
                }
                bodies[bodyKey] = name
            }
        }
    }
}
