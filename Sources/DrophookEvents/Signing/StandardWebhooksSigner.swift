/// Signs (and verifies) webhooks the Standard Webhooks way: the signed content is
/// `id.timestamp.body`; `whsec_` secrets give `v1,<base64 HMAC-SHA256>` and `whsk_` secret
/// keys give `v1a,<base64 Ed25519 signature>`.
public struct StandardWebhooksSigner: Sendable {
    /// The key material behind a Standard Webhooks secret.
    public enum Key: Sendable, Hashable {
        /// `whsec_…`: HMAC key bytes.
        case symmetric([UInt8])
        /// `whsk_…`: Ed25519 seed and its public key.
        case asymmetric(seed: [UInt8], publicKey: [UInt8])
    }

    public let key: Key

    /// Reads a `whsec_` (base64 HMAC key) or `whsk_` (base64 of 64 bytes: Ed25519 seed then
    /// public key) secret.
    public init(secret: String) throws(SigningKeyError) {
        if secret.hasPrefix("whsec_") {
            guard let bytes = Base64.decode(secret.dropFirst(6)), !bytes.isEmpty else {
                throw SigningKeyError(
                    code: .invalidEncoding,
                    description: "whsec_ secret is not base64 after the prefix: copy the secret again exactly as issued")
            }
            key = .symmetric(bytes)
        } else if secret.hasPrefix("whsk_") {
            guard let bytes = Base64.decode(secret.dropFirst(5)) else {
                throw SigningKeyError(
                    code: .invalidEncoding,
                    description: "whsk_ secret key is not base64 after the prefix: copy the key again exactly as issued")
            }
            guard bytes.count == 64 else {
                throw SigningKeyError(
                    code: .invalidLength,
                    description: "whsk_ secret key holds \(bytes.count) bytes, expected 64 (Ed25519 seed then public key)")
            }
            let seed = Array(bytes[0..<32])
            let publicKey = Array(bytes[32..<64])
            guard LibCrypto.ed25519PublicKey(seed: seed) == publicKey else {
                throw SigningKeyError(
                    code: .keyMismatch, description: "whsk_ secret key's public half does not belong to its seed: the key is corrupted")
            }
            key = .asymmetric(seed: seed, publicKey: publicKey)
        } else {
            throw SigningKeyError(code: .unknownPrefix, description: "signing secret must start with whsec_ (HMAC) or whsk_ (Ed25519)")
        }
    }

    public init(key: Key) { self.key = key }

    /// A new `whsec_` secret: 32 random bytes, as the reference libraries generate them.
    public static func newSecret() -> String {
        "whsec_" + Base64.encode(LibCrypto.randomBytes(32))
    }

    /// A new `whsk_` Ed25519 secret key (seed then public key); its ``publicKeyText`` is what
    /// receivers verify `v1a` signatures with.
    public static func newKeyPair() -> StandardWebhooksSigner {
        let seed = LibCrypto.randomBytes(32)
        // A 32-byte seed always gives a key.
        return StandardWebhooksSigner(key: .asymmetric(seed: seed, publicKey: LibCrypto.ed25519PublicKey(seed: seed)!))
    }

    /// The secret in its `whsec_` or `whsk_` text form, as configured.
    public var secretText: String {
        switch key {
        case .symmetric(let secret): "whsec_" + Base64.encode(secret)
        case .asymmetric(let seed, let publicKey): "whsk_" + Base64.encode(seed + publicKey)
        }
    }

    /// The public key to give receivers of `v1a` signatures, as `whpk_<base64>`; nil for HMAC secrets.
    public var publicKeyText: String? {
        guard case .asymmetric(_, let publicKey) = key else { return nil }
        return "whpk_" + Base64.encode(publicKey)
    }

    /// The `webhook-signature` header value for one message.
    public func signature(id: String, timestamp: Int64, body: [UInt8]) -> String {
        let content = Self.signedContent(id: id, timestamp: timestamp, body: body)
        switch key {
        case .symmetric(let secret):
            return "v1," + Base64.encode(LibCrypto.hmacSHA256(key: secret, message: content))
        case .asymmetric(let seed, _):
            // The seed was checked on creation, so signing cannot fail for lack of a key.
            let signature = LibCrypto.ed25519Sign(seed: seed, message: content)!
            return "v1a," + Base64.encode(signature)
        }
    }

    /// The three Standard Webhooks headers for one message.
    public func headers(id: String, timestamp: Int64, body: [UInt8]) -> [HTTPHeader] {
        [
            HTTPHeader("webhook-id", id),
            HTTPHeader("webhook-timestamp", String(timestamp)),
            HTTPHeader("webhook-signature", signature(id: id, timestamp: timestamp, body: body)),
        ]
    }

    /// Whether any of the space-separated signatures in a `webhook-signature` header verifies.
    public func verify(id: String, timestamp: Int64, body: [UInt8], signatureHeader: String) -> Bool {
        let content = Self.signedContent(id: id, timestamp: timestamp, body: body)
        for candidate in signatureHeader.split(separator: " ") {
            let parts = candidate.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, let received = Base64.decode(parts[1]) else { continue }
            switch (parts[0], key) {
            case ("v1", .symmetric(let secret)):
                if LibCrypto.constantTimeEquals(received, LibCrypto.hmacSHA256(key: secret, message: content)) { return true }
            case ("v1a", .asymmetric(_, let publicKey)):
                if LibCrypto.ed25519Verify(publicKey: publicKey, message: content, signature: received) { return true }
            default:
                continue
            }
        }
        return false
    }

    /// Verifies a `v1a` signature header with only a `whpk_` public key, as a receiver would.
    public static func verify(publicKey: String, id: String, timestamp: Int64, body: [UInt8], signatureHeader: String) -> Bool {
        guard publicKey.hasPrefix("whpk_"), let keyBytes = Base64.decode(publicKey.dropFirst(5)) else { return false }
        let content = signedContent(id: id, timestamp: timestamp, body: body)
        for candidate in signatureHeader.split(separator: " ") {
            let parts = candidate.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1a", let received = Base64.decode(parts[1]) else { continue }
            if LibCrypto.ed25519Verify(publicKey: keyBytes, message: content, signature: received) { return true }
        }
        return false
    }

    static func signedContent(id: String, timestamp: Int64, body: [UInt8]) -> [UInt8] {
        var content = Array(id.utf8)
        content.append(UInt8(ascii: "."))
        content.append(contentsOf: String(timestamp).utf8)
        content.append(UInt8(ascii: "."))
        content.append(contentsOf: body)
        return content
    }
}

/// A signing secret that cannot be used.
public struct SigningKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case unknownPrefix, invalidEncoding, invalidLength, keyMismatch
    }

    public var code: Code
    public var description: String

    public init(code: Code, description: String) {
        self.code = code
        self.description = description
    }
}
