import DrophookEvents

/// Stable ids for endpoints that the config does not give one.
enum WebhookIdentity {
    /// A UUID (version 8, name-based) derived from the webhook's name, so that
    /// `Metadata.Webhook.Id` stays the same across restarts and hosts with the same config.
    static func derivedID(name: String) -> String {
        var bytes = Array(LibCrypto.hmacSHA256(key: Array("drophook webhook id".utf8), message: Array(name.utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return EventID.uuidLayout(hexDigits: Hex.encode(bytes))
    }
}
