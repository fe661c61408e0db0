/// A signature header that carries HMAC-SHA256 of the raw request body under a shared secret,
/// in one of the encodings receivers already verify.
public enum BodySignature: String, Sendable, Hashable, CaseIterable {
    /// SFTP To Go: `X-Hub-Signature: <base64 HMAC-SHA256>`.
    case hub
    /// Rilavek: `X-Rilavek-Signature: <lowercase hex HMAC-SHA256>`.
    case rilavek
    /// GitHub style: `X-Hub-Signature-256: sha256=<lowercase hex HMAC-SHA256>`.
    case github

    /// The header the signature travels in.
    public var headerName: String {
        switch self {
        case .hub: "X-Hub-Signature"
        case .rilavek: "X-Rilavek-Signature"
        case .github: "X-Hub-Signature-256"
        }
    }

    /// The header value for `body` signed with `secret`.
    public func value(secret: [UInt8], body: [UInt8]) -> String {
        let tag = LibCrypto.hmacSHA256(key: secret, message: body)
        switch self {
        case .hub: return Base64.encode(tag)
        case .rilavek: return Hex.encode(tag)
        case .github: return "sha256=" + Hex.encode(tag)
        }
    }

    /// The signature header for `body` signed with `secret`.
    public func header(secret: [UInt8], body: [UInt8]) -> HTTPHeader {
        HTTPHeader(headerName, value(secret: secret, body: body))
    }

    /// Whether a received header value is the signature of `body` under `secret`, compared in
    /// constant time. Surrounding whitespace is ignored; hex is accepted in either case.
    public func verify(value: String, secret: [UInt8], body: [UInt8]) -> Bool {
        let trimmed = value.trimmingASCIIWhitespace()
        let received: [UInt8]?
        switch self {
        case .hub:
            received = Base64.decode(trimmed)
        case .rilavek:
            received = Hex.decode(trimmed)
        case .github:
            received = trimmed.hasPrefix("sha256=") ? Hex.decode(trimmed.dropFirst("sha256=".count)) : nil
        }
        guard let received else { return false }
        return LibCrypto.constantTimeEquals(received, LibCrypto.hmacSHA256(key: secret, message: body))
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs (header values may carry them).
    func trimmingASCIIWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }) else { return self[endIndex...] }
        let last = lastIndex(where: { !isSpace($0) })!
        return self[first...last]
    }
}
