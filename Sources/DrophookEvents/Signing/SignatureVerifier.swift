/// Checks the body signature of a received webhook, whichever of the known signature headers
/// it carries; used by the loopback receiver and by tests.
public struct SignatureVerifier: Sendable {
    /// What the check found.
    public enum Result: Sendable, Hashable {
        /// A recognised signature header matched the body.
        case verified(BodySignature)
        /// A recognised signature header was present but did not match.
        case mismatch(BodySignature)
        /// None of the recognised signature headers was present.
        case unsigned

        /// True only for a matching signature.
        public var isVerified: Bool {
            if case .verified = self { return true }
            return false
        }
    }

    public var secret: [UInt8]
    /// Header kinds looked for, in this order; the first present one decides.
    public var accepted: [BodySignature]

    public init(secret: [UInt8], accepted: [BodySignature] = BodySignature.allCases) {
        self.secret = secret
        self.accepted = accepted
    }

    /// Checks `body` against the first recognised signature header (names compared
    /// case-insensitively, as HTTP requires).
    public func verify(body: [UInt8], headers: [HTTPHeader]) -> Result {
        for kind in accepted {
            guard let value = headers.value(named: kind.headerName) else { continue }
            return kind.verify(value: value, secret: secret, body: body) ? .verified(kind) : .mismatch(kind)
        }
        return .unsigned
    }
}
