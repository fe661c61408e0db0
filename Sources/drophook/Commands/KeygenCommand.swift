import ArgumentParser
import DrophookEvents

/// `drophook keygen`: a new signing secret of the kind a scheme needs.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Print a new signing secret, or the public key of an Ed25519 secret key.",
        discussion: """
            standard: a whsec_ secret (Standard Webhooks, v1 HMAC). ed25519: a whsk_ secret key \
            for drophook and the whpk_ public key to give receivers (Standard Webhooks, v1a). \
            hmac: a random secret for hub, rilavek, github and timestamped. With --public-key, \
            prints the whpk_ public key of the whsk_ key given by --secret or --secret-file.
            """
    )

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case standard, ed25519, hmac
    }

    @Argument(help: "standard, ed25519 or hmac.") var kind: Kind = .standard
    @Flag(help: "Print the public key of an existing whsk_ secret key instead.") var publicKey = false
    @OptionGroup var secret: SecretOptions
    @Flag(help: "Print the key (and public key) as JSON.") var json = false

    func run() throws {
        if publicKey {
            guard let bytes = try secret.load() else {
                throw ValidationError("--public-key needs --secret or --secret-file with a whsk_ key")
            }
            let text = String(decoding: bytes, as: UTF8.self)
            guard let signer = try? StandardWebhooksSigner(secret: text), let key = signer.publicKeyText else {
                printError("the secret is not a whsk_ Ed25519 secret key; only those have a public key")
                throw ExitCode(2)
            }
            printLine(json ? JSONValue.object([("public_key", .string(key))]).serializedString : key)
            return
        }
        switch kind {
        case .standard:
            let secret = StandardWebhooksSigner.newSecret()
            printLine(json ? JSONValue.object([("secret", .string(secret))]).serializedString : secret)
        case .ed25519:
            let pair = StandardWebhooksSigner.newKeyPair()
            if json {
                printLine(
                    JSONValue.object([("secret", .string(pair.secretText)), ("public_key", .string(pair.publicKeyText!))]).serializedString)
            } else {
                printLine("secret key (drophook's secret): \(pair.secretText)")
                printLine("public key (for receivers):     \(pair.publicKeyText!)")
            }
        case .hmac:
            let secret = Self.newHMACSecret()
            printLine(json ? JSONValue.object([("secret", .string(secret))]).serializedString : secret)
        }
    }

    /// 32 random bytes as unpadded base64url: printable, shell- and YAML-safe.
    static func newHMACSecret() -> String {
        Base64.encode(LibCrypto.randomBytes(32)).replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// A new secret of the kind `current` is, for `scheme`.
    static func newSecret(for scheme: SignatureScheme, like current: [UInt8]?) -> (secret: String, publicKey: String?) {
        guard scheme == .standard else { return (newHMACSecret(), nil) }
        if let current, String(decoding: current, as: UTF8.self).hasPrefix("whsk_") {
            let pair = StandardWebhooksSigner.newKeyPair()
            return (pair.secretText, pair.publicKeyText)
        }
        return (StandardWebhooksSigner.newSecret(), nil)
    }
}
