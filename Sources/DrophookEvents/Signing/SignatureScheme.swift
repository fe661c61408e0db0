/// How a request proves that it came from drophook, chosen per webhook with `signature:`
/// independently of the body format. Each format has a natural default
/// (``WebhookFormat/defaultSignature``).
public enum SignatureScheme: String, Sendable, Hashable, CaseIterable {
    /// SFTP To Go: `X-Hub-Signature: <base64 HMAC-SHA256 of the body>`.
    case hub
    /// Rilavek: `X-Rilavek-Signature: <hex HMAC-SHA256 of the body>`.
    case rilavek
    /// GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`.
    case github
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` (`v1,` HMAC with
    /// a `whsec_` secret or `v1a,` Ed25519 with a `whsk_` key, over `id.timestamp.body`).
    case standard
    /// `x-timestamp` (Unix seconds) and `x-signature`: hex HMAC-SHA256 over
    /// `timestamp + "." + the body's JSON with its keys sorted, as JavaScript's `JSON.stringify`
    /// writes it` (``JSONValue/javaScriptSorted()``).
    case timestamped
    /// No signature header.
    case none

    /// The config names, in the order they are listed to users.
    public static var names: [String] { allCases.map(\.rawValue) }

    /// Whether the scheme can carry one signature per live secret, so that a receiver holding
    /// either the old or the new secret accepts the request during a rotation.
    public var signsWithEverySecret: Bool { self == .standard }

    /// The body signature behind the three schemes that sign the raw body alone.
    var bodySignature: BodySignature? {
        switch self {
        case .hub: .hub
        case .rilavek: .rilavek
        case .github: .github
        case .standard, .timestamped, .none: nil
        }
    }

    /// The headers this scheme owns: `headers:` in the config may not set them.
    public var headerNames: [String] {
        switch self {
        case .hub, .rilavek, .github: [bodySignature!.headerName]
        case .standard: ["webhook-id", "webhook-timestamp", "webhook-signature"]
        case .timestamped: ["x-signature", "x-timestamp"]
        case .none: []
        }
    }
}

/// A signing secret and, while it is being rotated out, until when it still signs.
public struct SigningSecret: Sendable, Hashable {
    /// The secret as configured: its text's bytes.
    public var bytes: [UInt8]
    /// Unix seconds after which it no longer signs; nil for the current secret.
    public var untilSeconds: Int64?

    public init(_ bytes: [UInt8], untilSeconds: Int64? = nil) {
        self.bytes = bytes
        self.untilSeconds = untilSeconds
    }
}

/// Signs requests under one ``SignatureScheme`` with a webhook's live secrets, newest first.
/// Keys are read once, when the webhook is configured, so a secret that cannot serve its scheme
/// is an error at load, never at send time.
public struct RequestSigner: Sendable {
    public let scheme: SignatureScheme
    private let secrets: [SigningSecret]
    private let standardSigners: [StandardWebhooksSigner]

    /// - Parameter secrets: the secrets as configured, newest first; empty sends no signature.
    ///   The `standard` scheme needs `whsec_` or `whsk_` secrets.
    public init(scheme: SignatureScheme, secrets: [SigningSecret]) throws(SigningKeyError) {
        self.scheme = scheme
        self.secrets = scheme == .none ? [] : secrets
        if scheme == .standard {
            var signers: [StandardWebhooksSigner] = []
            for secret in secrets {
                signers.append(try StandardWebhooksSigner(secret: String(decoding: secret.bytes, as: UTF8.self)))
            }
            standardSigners = signers
        } else {
            standardSigners = []
        }
    }

    /// A signer that sends no signature: the `none` scheme, which no secret can fail.
    public static var unsigned: RequestSigner { RequestSigner() }

    private init() {
        scheme = .none
        secrets = []
        standardSigners = []
    }

    /// A signer whose secrets never expire (their text's bytes, newest first).
    public init(scheme: SignatureScheme, secrets: [[UInt8]]) throws(SigningKeyError) {
        try self.init(scheme: scheme, secrets: secrets.map { SigningSecret($0) })
    }

    /// Whether requests carry a signature at all.
    public var signs: Bool { !secrets.isEmpty }

    /// The signature headers of one attempt. `messageID` is stable per event (Standard
    /// Webhooks' `webhook-id`); `timestampSeconds` is the attempt's time, which also retires
    /// secrets whose overlap has ended.
    public func headers(body: [UInt8], messageID: String, timestampSeconds: Int64) -> [HTTPHeader] {
        let live = secrets.indices.filter { secrets[$0].untilSeconds.map { timestampSeconds <= $0 } ?? true }
        guard let first = live.first else { return [] }
        let newest = secrets[first].bytes
        switch scheme {
        case .hub, .rilavek, .github:
            return [scheme.bodySignature!.header(secret: newest, body: body)]
        case .standard:
            let signatures = live.map { standardSigners[$0].signature(id: messageID, timestamp: timestampSeconds, body: body) }
            return [
                HTTPHeader("webhook-id", messageID),
                HTTPHeader("webhook-timestamp", String(timestampSeconds)),
                HTTPHeader("webhook-signature", signatures.joined(separator: " ")),
            ]
        case .timestamped:
            let signed = TimestampedSignature.signedContent(timestampSeconds: timestampSeconds, body: body)
            return [
                HTTPHeader("x-signature", Hex.encode(LibCrypto.hmacSHA256(key: newest, message: signed))),
                HTTPHeader("x-timestamp", String(timestampSeconds)),
            ]
        case .none:
            return []
        }
    }
}

extension WebhookMessage {
    /// The message with `signer`'s headers added after its own.
    public func signed(with signer: RequestSigner, messageID: String, timestampSeconds: Int64) -> WebhookMessage {
        WebhookMessage(headers: headers + signer.headers(body: body, messageID: messageID, timestampSeconds: timestampSeconds), body: body)
    }
}

/// The `timestamped` scheme's signed content, shared by signing and verifying.
public enum TimestampedSignature {
    /// `timestamp + "." + JSON.stringify(sortKeysRecursively(JSON.parse(body)))`. A body that
    /// is not JSON is signed as it is (drophook's bodies always are JSON).
    public static func signedContent(timestampSeconds: Int64, body: [UInt8]) -> [UInt8] {
        var content = Array(String(timestampSeconds).utf8)
        content.append(UInt8(ascii: "."))
        if let value = try? JSONValue(parsing: body) {
            content += value.javaScriptSorted()
        } else {
            content += body
        }
        return content
    }

    /// Whether `signature` (hex) is the signature of `body` at `timestamp` under `secret`.
    public static func verify(signature: String, timestamp: String, secret: [UInt8], body: [UInt8]) -> Bool {
        guard let seconds = Int64(timestamp.trimmingASCIIWhitespace()),
            let received = Hex.decode(signature.trimmingASCIIWhitespace())
        else { return false }
        let expected = LibCrypto.hmacSHA256(key: secret, message: signedContent(timestampSeconds: seconds, body: body))
        return LibCrypto.constantTimeEquals(received, expected)
    }
}
