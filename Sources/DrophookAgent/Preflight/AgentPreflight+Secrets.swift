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
        for endpoint in configuration.endpoints {
            guard let secret = endpoint.secret, secret.count < shortSecretBytes else { continue }
            findings.append(
                Finding(
                    severity: .warning, subject: "\(endpoint.key).secret",
                    message:
                        "\(endpoint.noun) \(endpoint.name)'s secret is only \(secret.count) bytes; use at least 32 random bytes (`drophook keygen`)"
                ))
        }
        return findings
    }
}
