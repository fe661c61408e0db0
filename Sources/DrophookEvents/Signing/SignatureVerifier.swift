/// Checks the signature of a received webhook under whichever scheme its headers use: what
/// `drophook listen` and `drophook verify` tell a receiver developer, and what tests check.
public struct SignatureVerifier: Sendable {
    /// What the check found.
    public enum Result: Sendable, Hashable {
        /// The scheme's signature matched.
        case verified(SignatureScheme)
        /// The scheme's headers were present but the signature did not match.
        case mismatch(SignatureScheme)
        /// The signature matched, but its timestamp is further than the window from now:
        /// receivers reject it as a possible replay.
        case outsideWindow(SignatureScheme, offsetSeconds: Int64)
        /// None of the known signature headers was present.
        case unsigned

        /// True only for a matching signature inside the window.
        public var isVerified: Bool {
            if case .verified = self { return true }
            return false
        }

        /// The scheme that was checked, nil when the request was unsigned.
        public var scheme: SignatureScheme? {
            switch self {
            case .verified(let scheme), .mismatch(let scheme), .outsideWindow(let scheme, _): scheme
            case .unsigned: nil
            }
        }
    }

    /// The secret as configured on the sending side (its text's bytes): a `whsec_` secret or a
    /// `whpk_` public key for `standard`, any text for the HMAC schemes.
    public var secret: [UInt8]
    /// How far a signed timestamp may be from now (Standard Webhooks and the timestamped
    /// scheme's receivers use 5 minutes).
    public var window: Int64

    public init(secret: [UInt8], windowSeconds: Int64 = 300) {
        self.secret = secret
        self.window = windowSeconds
    }

    /// Checks `body` under the first scheme whose headers are present (names compared
    /// case-insensitively, as HTTP requires): `standard`, `timestamped`, then the body-only
    /// schemes. Timestamps are checked against `nowSeconds` when it is given.
    public func verify(body: [UInt8], headers: [HTTPHeader], nowSeconds: Int64? = nil) -> Result {
        if let signature = headers.value(named: "webhook-signature") {
            let id = headers.value(named: "webhook-id") ?? ""
            guard let timestamp = headers.value(named: "webhook-timestamp").flatMap({ Int64($0.trimmingASCIIWhitespace()) }),
                verifyStandard(id: id, timestamp: timestamp, body: body, signature: signature)
            else { return .mismatch(.standard) }
            return judged(.standard, timestamp: timestamp, nowSeconds: nowSeconds)
        }
        if let signature = headers.value(named: "x-signature") {
            let timestamp = headers.value(named: "x-timestamp") ?? ""
            guard TimestampedSignature.verify(signature: signature, timestamp: timestamp, secret: secret, body: body),
                let seconds = Int64(timestamp.trimmingASCIIWhitespace())
            else { return .mismatch(.timestamped) }
            return judged(.timestamped, timestamp: seconds, nowSeconds: nowSeconds)
        }
        for scheme in [SignatureScheme.hub, .github, .rilavek] {
            let kind = scheme.bodySignature!
            guard let value = headers.value(named: kind.headerName) else { continue }
            return kind.verify(value: value, secret: secret, body: body) ? .verified(scheme) : .mismatch(scheme)
        }
        return .unsigned
    }

    private func verifyStandard(id: String, timestamp: Int64, body: [UInt8], signature: String) -> Bool {
        let text = String(decoding: secret, as: UTF8.self)
        if text.hasPrefix("whpk_") {
            return StandardWebhooksSigner.verify(publicKey: text, id: id, timestamp: timestamp, body: body, signatureHeader: signature)
        }
        guard let signer = try? StandardWebhooksSigner(secret: text) else { return false }
        return signer.verify(id: id, timestamp: timestamp, body: body, signatureHeader: signature)
    }

    private func judged(_ scheme: SignatureScheme, timestamp: Int64, nowSeconds: Int64?) -> Result {
        guard let nowSeconds, abs(nowSeconds - timestamp) > window else { return .verified(scheme) }
        return .outsideWindow(scheme, offsetSeconds: nowSeconds - timestamp)
    }
}

extension SignatureVerifier.Result: CustomStringConvertible {
    /// One phrase for a person: which scheme was checked and what held.
    public var description: String {
        switch self {
        case .verified(let scheme): "signature ok (\(scheme.rawValue): \(scheme.headerNames.joined(separator: ", ")))"
        case .mismatch(let scheme): "signature FAILED (\(scheme.rawValue): no signature matches the secret)"
        case .outsideWindow(let scheme, let offset):
            "signature matches but its timestamp is \(offset) s from now (\(scheme.rawValue)): receivers reject it as a replay"
        case .unsigned: "signature FAILED (no signature header)"
        }
    }
}
