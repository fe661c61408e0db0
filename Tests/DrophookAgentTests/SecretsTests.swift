import DrophookAgent
import DrophookEvents
import DrophookReceiver
import DrophookTestSupport
import Foundation
import Glibc
import Testing

/// Secrets stay secret: never empty, never in a file every user can read, never printed,
/// stored or sent in a payload; and the outbox that holds every path is the agent's alone.
@Suite("Secrets and file permissions", .serialized)
struct SecretsTests {
    private func errors(_ text: String, environment: [String: String] = [:]) -> [ConfigurationError] {
        do {
            _ = try AgentConfiguration.parse(text, file: "/etc/drophook/test.yaml", environment: environment)
            return []
        } catch let errors as ConfigurationErrors {
            return errors.errors
        } catch {
            Issue.record("unexpected error \(error)")
            return []
        }
    }

    private func config(_ webhookLines: String) -> String {
        """
        state_dir: /tmp/state
        watches:
          - name: uploads
            path: /srv/sftp
        webhooks:
          - name: ops
            url: https://hooks.example.com/sftp
            format: sftptogo
        \(webhookLines)
        """
    }

    @Test func anEmptySecretIsAnErrorHoweverItIsWritten() throws {
        let folder = try TempFolder()
        let empty = folder.file("empty.secret", "\n", mode: 0o600)
        let cases: [(String, [String: String], String)] = [
            ("    secret: \"\"", [:], "webhooks[0].secret: secret is empty; set the value, or remove the key"),
            ("    secret: ${HOOK_SECRET}", ["HOOK_SECRET": ""], "secret is empty (${HOOK_SECRET} expands to nothing)"),
            ("    secret_file: \(empty)", [:], "'\(empty)' is empty; put the value on its first line"),
            ("    secret: s3cret-s3cret-s3cret\n    authorization: ${TOKEN}", ["TOKEN": ""], "authorization is empty"),
        ]
        for (lines, environment, message) in cases {
            let found = errors(config(lines), environment: environment)
            #expect(found.count == 1 && found.first?.code == .emptySecret, "\(lines): \(found)")
            #expect(found.first?.description.contains(message) == true, "\(found)")
        }
    }

    @Test func secretsEveryUserCanReadStopRunWithTheChmodThatFixesIt() throws {
        let folder = try TempFolder()
        let secretFile = folder.file("ops.secret", "a-long-enough-secret-value-1234\n", mode: 0o644)
        let configFile = folder.file("drophook.yaml", config("    secret_file: \(secretFile)"), mode: 0o644)
        var configuration = try AgentConfiguration.load(file: configFile, environment: [:])
        #expect(
            AgentPreflight.startupErrors(configuration).map(\.description) == [
                "error: \(secretFile): holds webhooks[0].secret_file's secret and is readable by every user; run `chmod o-rwx \(secretFile)`"
            ])
        chmod(secretFile, 0o640)
        #expect(AgentPreflight.startupErrors(configuration).isEmpty)

        // A secret written in the config itself: the config file is the one to protect.
        for lines in ["    secret: a-long-enough-secret-value-1234", "    authorization: Bearer abc"] {
            let literal = folder.file(
                "literal.yaml", config(lines).replacingOccurrences(of: "https://hooks", with: "https://hooks"), mode: 0o644)
            configuration = try AgentConfiguration.load(file: literal, environment: [:])
            let found = AgentPreflight.startupErrors(configuration)
            #expect(found.count == 1 && found.first?.message.contains("run `chmod o-rwx \(literal)`") == true, "\(found)")
        }
        let withPassword = folder.file(
            "password.yaml", config("").replacingOccurrences(of: "https://hooks", with: "https://bob:hunter2@hooks"), mode: 0o644)
        configuration = try AgentConfiguration.load(file: withPassword, environment: [:])
        #expect(AgentPreflight.startupErrors(configuration).first?.message.hasPrefix("holds webhooks[0].url written out") == true)
        // From the environment, nothing secret is in the file.
        let fromEnvironment = folder.file("env.yaml", config("    secret: ${HOOK_SECRET}"), mode: 0o644)
        configuration = try AgentConfiguration.load(file: fromEnvironment, environment: ["HOOK_SECRET": "a-long-enough-secret-value-1234"])
        #expect(AgentPreflight.startupErrors(configuration).isEmpty)
        // A short one is only warned about.
        let short = folder.file("short.yaml", config("    secret: tiny"), mode: 0o600)
        configuration = try AgentConfiguration.load(file: short, environment: [:])
        #expect(AgentPreflight.startupErrors(configuration).isEmpty)
        #expect(
            AgentPreflight.check(configuration).map(\.description).contains(
                "warning: webhooks[0].secret: webhook ops's secret is only 4 bytes; use at least 32 random bytes (`drophook keygen`)"))
    }

    /// A signing secret's file and an mTLS client key are both secrets: either readable by
    /// every user stops `run` with the chmod that fixes it.
    @Test(arguments: ["secret_file", "client_key"])
    func runRefusesAWorldReadableSecretFile(key: String) throws {
        let agent = try AgentUnderTest(webhooks: "  []")
        defer { agent.cleanUp() }
        let secretFile = agent.root.appendingPathComponent("ops.\(key)").path
        _ = FileManager.default.createFile(
            atPath: secretFile, contents: Data("a-long-enough-secret-value-1234\n".utf8), attributes: [.posixPermissions: 0o644])
        // A certificate is public: only the key beside it is judged.
        let certificate = agent.root.appendingPathComponent("client.crt").path
        _ = FileManager.default.createFile(
            atPath: certificate, contents: Data("-----BEGIN CERTIFICATE-----\n".utf8), attributes: [.posixPermissions: 0o644])
        let lines =
            key == "client_key" ? "    client_cert: \(certificate)\n    client_key: \(secretFile)" : "    secret_file: \(secretFile)"
        let yaml = try String(contentsOf: agent.configFile, encoding: .utf8).replacingOccurrences(
            of: "webhooks:\n  []",
            with: """
                webhooks:
                  - name: ops
                    url: https://127.0.0.1:9/hook
                    format: sftptogo
                \(lines)
                """)
        try yaml.write(to: agent.configFile, atomically: true, encoding: .utf8)
        chmod(agent.configFile.path, 0o600)
        let run = try AgentUnderTest.command(["run", "--config", agent.configFile.path])
        #expect(run.status == 1)
        #expect(
            run.stderr.trimmingCharacters(in: .newlines)
                == "error: \(secretFile): holds webhooks[0].\(key)'s secret and is readable by every user; run `chmod o-rwx \(secretFile)`",
            "\(run)")
    }

    /// A URL password, an `Authorization` value and a signing secret appear in no log line, no
    /// CLI output, no payload and no byte of the database; the receiver still gets them.
    @Test(.timeLimit(.minutes(2)))
    func noSecretIsPrintedStoredOrSentInAPayload() async throws {
        let secret = "hmac-secret-never-shown-8842"
        let password = "url-password-never-shown-5519"
        let token = "token-never-shown-3307"
        let receiver = try await WebhookReceiver.start(.init(secret: Array(secret.utf8)))
        let url = receiver.baseURL.replacingOccurrences(of: "http://", with: "http://hooks:\(password)@") + "/hook"
        let agent = try AgentUnderTest(
            webhooks: """
                  - name: ops
                    url: \(url)
                    format: sftptogo
                    topics: [file.created, webhook.ping]
                    secret: \(secret)
                    authorization: "Bearer \(token)"
                    headers: {X-Api-Key: \(token)}
                """)
        defer { agent.cleanUp() }
        try await agent.start(keepLog: true)
        try Data("x".utf8).write(to: agent.dropDirectory.appendingPathComponent("a.csv"))
        _ = try await receiver.waitForWebhooks(count: 1, timeout: .seconds(20))
        let ping = try AgentUnderTest.command(["ping", "ops", "--config", agent.configFile.path])
        #expect(ping.status == 0, "\(ping)")
        let received = try await receiver.waitForWebhooks(count: 2, timeout: .seconds(20))
        #expect(received.allSatisfy { $0.header("Authorization") == "Bearer \(token)" })
        let pinged = try #require(received.first { $0.json?["Topic"]?.stringValue == "webhook.ping" })
        #expect(pinged.json?["Data"]?["Url"]?.stringValue == url.replacingOccurrences(of: password, with: "***"))

        var shown = [agent.log, ping.stdout, ping.stderr]
        for arguments in [
            ["deliveries"], ["deliveries", "--json"], ["status"], ["status", "--json"], ["check"], ["check", "--json"],
            ["deliveries", try #require(pinged.json?["Id"]?.stringValue)],
        ] {
            let output = try AgentUnderTest.command(arguments + ["--config", agent.configFile.path])
            shown += [output.stdout, output.stderr]
        }
        #expect(agent.terminate() == 0)
        shown.append(agent.log)
        let stateFiles = try FileManager.default.contentsOfDirectory(atPath: agent.stateDirectory.path)
        for name in stateFiles {
            let bytes = try Data(contentsOf: agent.stateDirectory.appendingPathComponent(name))
            shown.append(String(decoding: bytes, as: UTF8.self))
        }
        for (index, text) in shown.enumerated() {
            for hidden in [secret, password, token] {
                #expect(!text.contains(hidden), "\(hidden) shown in output \(index)")
            }
        }
        // The outbox holds every path and payload: the agent's user only.
        var status = stat()
        #expect(stat(agent.stateDirectory.path, &status) == 0 && status.st_mode & 0o777 == 0o700)
        for name in stateFiles where name.hasPrefix("outbox.sqlite") {
            #expect(stat(agent.stateDirectory.appendingPathComponent(name).path, &status) == 0 && status.st_mode & 0o077 == 0, "\(name)")
        }
        await receiver.stop()
    }
}

/// A temp directory for files with chosen modes, removed at the end of a test.
final class TempFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("drophook-secrets-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` to `name` with `mode` (chmod, so the umask does not change it); the path.
    func file(_ name: String, _ text: String, mode: mode_t) -> String {
        let file = path + "/" + name
        _ = FileManager.default.createFile(atPath: file, contents: Data(text.utf8))
        chmod(file, mode)
        return file
    }
}
