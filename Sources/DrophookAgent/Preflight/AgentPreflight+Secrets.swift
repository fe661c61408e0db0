import Glibc

extension AgentPreflight {
    /// Secrets below this many bytes are warned about: an HMAC key is meant to be as long as
    /// the hash's block of randomness, and `drophook keygen` makes 32 bytes.
    static let shortSecretBytes = 16

    /// Files holding a secret that every user of the host may read (an error: `run` refuses),
    /// and signing secrets too short to trust (a warning).
    static func secretFindings(_ configuration: AgentConfiguration) -> [Finding] {
        var findings: [Finding] = []
        var reported = Set<String>()
        for location in configuration.secretLocations where reported.insert(location.path).inserted {
            var status = stat()
            guard stat(location.path, &status) == 0, status.st_mode & (S_IROTH | S_IWOTH) != 0 else { continue }
            let what =
                location.inConfig
                ? "holds \(location.key) written out and is readable by every user"
                : "holds \(location.key)'s secret and is readable by every user"
            let alternative = location.inConfig ? ", or move the value to a file (secret_file, authorization_file) or ${VARIABLE}" : ""
            findings.append(
                Finding(
                    severity: .error, subject: location.path,
                    message: "\(what); run `chmod o-rwx \(location.path)`\(alternative)"))
        }
        // NATS entries follow the webhooks in the one list of endpoints, as in the config.
        let webhookCount = configuration.webhooks.filter { $0.nats == nil }.count
        for (index, webhook) in configuration.webhooks.enumerated() {
            guard let secret = webhook.secret, secret.count < shortSecretBytes else { continue }
            let key = webhook.nats == nil ? "webhooks[\(index)]" : "nats[\(index - webhookCount)]"
            findings.append(
                Finding(
                    severity: .warning, subject: "\(key).secret",
                    message:
                        "\(webhook.nats == nil ? "webhook" : "NATS destination") \(webhook.name)'s secret is only \(secret.count) bytes; use at least 32 random bytes (`drophook keygen`)"
                ))
        }
        return findings
    }
}
