import ArgumentParser
import Foundation

/// `--secret` / `--secret-file`, shared by the commands that check signatures.
struct SecretOptions: ParsableArguments {
    @Option(help: "The webhook's signing secret (a whsec_ secret or whpk_ public key for Standard Webhooks).")
    var secret: String?
    @Option(help: "File holding the signing secret (its first line, as the agent reads a secret_file).")
    var secretFile: String?

    func validate() throws {
        if secret != nil, secretFile != nil { throw ValidationError("give --secret or --secret-file, not both") }
    }

    /// The secret's bytes, nil when none was given; exits 2 when the file cannot be read.
    func load() throws -> [UInt8]? {
        if let secret { return Array(secret.utf8) }
        guard let secretFile else { return nil }
        guard let data = FileManager.default.contents(atPath: secretFile) else {
            printError("--secret-file: cannot read '\(secretFile)'; check the path and its permissions")
            throw ExitCode(2)
        }
        let firstLine = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first ?? ""
        return Array(firstLine.trimmingCharacters(in: .whitespaces).utf8)
    }
}
