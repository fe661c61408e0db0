import DrophookAgent
import DrophookEvents
import DrophookTestSupport
import Foundation
import Testing

/// `keygen`, `rotate-secret` and `verify`, run as the real binary.
@Suite("Signing commands")
struct SigningCommandsTests {
    /// Runs `drophook ARGS` and returns its exit code and output.
    static func drophook(_ arguments: [String], in directory: String) throws -> (Int32, String) {
        let output = directory + "/out-\(UUID().uuidString.prefix(8)).txt"
        let child = try ChildProcess(AgentUnderTest.binary.path, arguments, output: output)
        guard let status = child.wait(within: .seconds(30)) else {
            child.kill(SIGKILL)
            throw ChildProcessFailure("drophook \(arguments.joined(separator: " ")) did not finish")
        }
        return (status, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "drophook-signing-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("keygen makes secrets each scheme accepts, and prints an Ed25519 key's public half")
    func keygen() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (status, standard) = try Self.drophook(["keygen", "standard"], in: directory)
        #expect(status == 0)
        let secret = standard.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(secret.hasPrefix("whsec_") && Base64.decode(secret.dropFirst(6))?.count == 32)
        #expect((try? RequestSigner(scheme: .standard, secrets: [Array(secret.utf8)])) != nil)

        let (_, pair) = try Self.drophook(["keygen", "ed25519"], in: directory)
        let words = pair.split(whereSeparator: { $0 == " " || $0 == "\n" })
        let secretKey = try #require(words.first { $0.hasPrefix("whsk_") }.map(String.init))
        let publicKey = try #require(words.first { $0.hasPrefix("whpk_") }.map(String.init))
        let (_, derived) = try Self.drophook(["keygen", "--public-key", "--secret", secretKey], in: directory)
        #expect(derived.trimmingCharacters(in: .whitespacesAndNewlines) == publicKey)
        // A receiver holding only the public key verifies what the secret key signs.
        let body = Array(#"{"type":"file.created"}"#.utf8)
        let headers = try RequestSigner(scheme: .standard, secrets: [Array(secretKey.utf8)]).headers(
            body: body, messageID: "m", timestampSeconds: 1)
        #expect(SignatureVerifier(secret: Array(publicKey.utf8)).verify(body: body, headers: headers) == .verified(.standard))
    }

    @Test("rotate-secret writes the new secret first and keeps the old one signing until the overlap ends")
    func rotateSecret() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let old = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        try (old + "\n").write(toFile: directory + "/secret", atomically: true, encoding: .utf8)
        let config = directory + "/drophook.yaml"
        try """
        state_dir: \(directory)/state
        watches:
          - name: uploads
            path: \(directory)
        webhooks:
          - name: ops
            url: https://hooks.example.com/sftp
            format: standard
            secret_file: secret
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let (status, output) = try Self.drophook(["rotate-secret", "ops", "--overlap", "1h", "--config", config], in: directory)
        #expect(status == 0, "\(output)")
        let lines = try String(contentsOfFile: directory + "/secret", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("whsec_") == true && lines.first.map(String.init) != old)
        #expect(lines.last?.hasPrefix(old + " until ") == true)
        #expect(output.contains(String(lines[0])), "the new secret is printed once")
        // The agent now signs with both: a receiver with either secret accepts.
        let loaded = try AgentConfiguration.load(file: config)
        let signer = try #require(loaded.endpointConfigurations.first?.signer)
        let body = Array(#"{"type":"file.created"}"#.utf8)
        let now = Int64(Date().timeIntervalSince1970)
        let headers = signer.headers(body: body, messageID: "m", timestampSeconds: now)
        for secret in [old, String(lines[0])] {
            #expect(SignatureVerifier(secret: Array(secret.utf8)).verify(body: body, headers: headers, nowSeconds: now).isVerified)
        }
        // Past the overlap the old secret no longer signs.
        let later = signer.headers(body: body, messageID: "m", timestampSeconds: now + 7_200)
        #expect(SignatureVerifier(secret: Array(old.utf8)).verify(body: body, headers: later) == .mismatch(.standard))
    }

    @Test("verify checks a captured request: signature and timestamp window; a tampered body fails")
    func verifyCapturedRequest() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let secret = "It's a Secret to Everybody"
        let body = #"{"b":2,"a":"é"}"#
        let headers = try RequestSigner(scheme: .timestamped, secrets: [Array(secret.utf8)])
            .headers(body: Array(body.utf8), messageID: "m", timestampSeconds: 1_700_000_000)
        func capture(_ body: String) throws -> String {
            let path = directory + "/request-\(UUID().uuidString.prefix(6))"
            let text =
                "POST /hook HTTP/1.1\r\nContent-Type: application/json\r\n"
                + headers.map { "\($0.name): \($0.value)\r\n" }.joined() + "\r\n" + body
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let good = try capture(body)
        let (status, output) = try Self.drophook(["verify", "--secret", secret, "--request", good, "--now", "1700000060"], in: directory)
        #expect(status == 0 && output.contains("signature ok (timestamped"), "\(output)")
        let (stale, staleOutput) = try Self.drophook(
            ["verify", "--secret", secret, "--request", good, "--now", "1700001000"], in: directory)
        #expect(stale == 1 && staleOutput.contains("from now"), "\(staleOutput)")
        let (tampered, tamperedOutput) = try Self.drophook(
            ["verify", "--secret", secret, "--request", try capture(#"{"b":3,"a":"é"}"#), "--now", "1700000060"], in: directory)
        #expect(tampered == 1 && tamperedOutput.contains("FAILED"), "\(tamperedOutput)")
    }
}
