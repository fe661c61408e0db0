import ArgumentParser
import DrophookAgent
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
        // The agent's own reading of a secret file: the current secret is its first line.
        do {
            return try SecretFile.parse(String(decoding: data, as: UTF8.self)).first?.bytes
        } catch {
            printError("--secret-file: '\(secretFile)': \(error)")
            throw ExitCode(2)
        }
    }
}
