import DrophookEvents
import Foundation
import Testing

@testable import DrophookAgent

/// One test per kind of config mistake: each must be one line naming the file, line and key.
@Suite("Configuration")
struct ConfigurationTests {
    static let valid = """
        state_dir: /tmp/state
        watches:
          - name: uploads
            path: /srv/sftp
        webhooks:
          - name: ops
            url: https://hooks.example.com/sftp
            format: sftptogo
            secret: s3cret
        """

    /// Parses `text`, expecting failure; returns the messages.
    func problems(_ text: String, environment: [String: String] = [:]) -> [ConfigurationError] {
        do {
            _ = try AgentConfiguration.parse(text, file: "/etc/drophook/test.yaml", environment: environment)
            Issue.record("expected the config to be rejected")
            return []
        } catch let errors as ConfigurationErrors {
            for error in errors.errors { #expect(!error.description.contains("\n")) }
            return errors.errors
        } catch {
            Issue.record("unexpected error \(error)")
            return []
        }
    }

    @Test func validConfigLoadsWithDefaults() throws {
        let configuration = try AgentConfiguration.parse(Self.valid, file: "t.yaml", environment: [:])
        #expect(configuration.stateDirectory == "/tmp/state")
        let watch = try #require(configuration.watches.first)
        #expect(watch.pipeID == "pip_uploads")
        #expect(watch.transferProtocol == "sftp")
        #expect(watch.actor == .owner)
        let webhook = try #require(configuration.endpoints.first)
        #expect(webhook.topics == [.fileCreated, .fileDeleted])
        #expect(webhook.secret == Array("s3cret".utf8))
        #expect(webhook.retry.count == 8)
        #expect(webhook.timeout == .seconds(10))
        #expect(webhook.id.count == 36)
        // The derived id is stable: the same name gives the same Metadata.Webhook.Id.
        let again = try AgentConfiguration.parse(Self.valid, file: "t.yaml", environment: [:])
        #expect(again.endpoints.first?.id == webhook.id)
    }

    @Test func shippedSampleConfigIsValid() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../etc/drophook.yaml").standardized.path
        let environment = ["DROPHOOK_DEMO_SECRET": "demo-secret", "DROPHOOK_DEMO_TOKEN": "demo-token"]
        let configuration = try AgentConfiguration.load(file: path, environment: environment)
        #expect(configuration.endpoints.map(\.format) == ["sftptogo", "rilavek"])
        // Every secret comes from the environment: a clone's world-readable copy may run.
        #expect(configuration.secretLocations.isEmpty)
        #expect(AgentPreflight.startupErrors(configuration).allSatisfy { !$0.message.contains("readable by every user") })
    }

    @Test func unknownKeyNamesTheKeyAndSuggestsTheRightOne() {
        let found = problems(Self.valid.replacingOccurrences(of: "    url:", with: "    urll:"))
        let unknown = found.first { $0.code == .unknownKey }
        #expect(unknown?.key == "webhooks[0].urll")
        #expect(unknown?.line == 7)
        #expect(unknown?.description.contains("did you mean 'url'") == true)
        #expect(unknown?.description.hasPrefix("/etc/drophook/test.yaml:7: webhooks[0].urll: unknown key") == true)
    }

    @Test func wrongTypeSaysWhatWasExpected() {
        let found = problems(Self.valid.replacingOccurrences(of: "format: sftptogo", with: "format: [sftptogo]"))
        #expect(found.map(\.code) == [.wrongType])
        #expect(found.first?.key == "webhooks[0].format")
        #expect(found.first?.description.contains("expected a string, found a list") == true)
    }

    @Test func missingRequiredKeyIsNamed() {
        let found = problems(Self.valid.replacingOccurrences(of: "    url: https://hooks.example.com/sftp\n", with: ""))
        #expect(found.map(\.code) == [.missingKey])
        #expect(found.first?.key == "webhooks[0].url")
        #expect(found.first?.line == 6)
    }

    @Test func unreadableSecretFileNamesThePath() {
        let found = problems(Self.valid.replacingOccurrences(of: "secret: s3cret", with: "secret_file: /nonexistent/ops.secret"))
        #expect(found.map(\.code) == [.unreadableSecret])
        #expect(found.first?.key == "webhooks[0].secret_file")
        #expect(found.first?.description.contains("/nonexistent/ops.secret") == true)
    }

    @Test func secretFileIsReadWithoutItsTrailingNewline() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("drophook-config-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "from-file\n".write(to: folder.appendingPathComponent("ops.secret"), atomically: true, encoding: .utf8)
        let text = Self.valid.replacingOccurrences(of: "secret: s3cret", with: "secret_file: ops.secret")
        let configuration = try AgentConfiguration.parse(text, file: folder.appendingPathComponent("c.yaml").path, environment: [:])
        #expect(configuration.endpoints.first?.secret == Array("from-file".utf8))
    }

    @Test func badURLIsRejected() {
        let found = problems(Self.valid.replacingOccurrences(of: "https://hooks.example.com/sftp", with: "htps//hooks"))
        #expect(found.map(\.code) == [.invalidValue])
        #expect(found.first?.key == "webhooks[0].url")
        #expect(found.first?.description.contains("not a valid URL") == true)
    }

    @Test func unsetEnvironmentVariableIsAnError() throws {
        let text = Self.valid.replacingOccurrences(of: "secret: s3cret", with: "secret: ${OPS_SECRET}")
        let found = problems(text)
        #expect(found.map(\.code) == [.unsetVariable])
        #expect(found.first?.description.contains("OPS_SECRET is not set") == true)
        let configuration = try AgentConfiguration.parse(text, file: "t.yaml", environment: ["OPS_SECRET": "abc"])
        #expect(configuration.endpoints.first?.secret == Array("abc".utf8))
    }

    @Test func yamlSyntaxErrorGivesTheLine() {
        let found = problems("watches:\n  - name: a\n    path: [unclosed\nwebhooks: []\n")
        #expect(found.map(\.code) == [.syntax])
        #expect(found.first?.line ?? 0 > 0)
    }

    @Test func duplicateNamesAreRejected() {
        let text = Self.valid + "\n  - name: ops\n    url: https://other.example.com\n    format: rilavek\n"
        let found = problems(text)
        #expect(found.map(\.code) == [.duplicateName])
        #expect(found.first?.key == "webhooks[1].name")
    }

    @Test func webhookNamingAnUnknownWatchIsRejected() {
        let found = problems(Self.valid + "\n    watches: [incoming]\n")
        #expect(found.map(\.code) == [.unknownReference])
        #expect(found.first?.description.contains("no watch is named 'incoming'") == true)
    }

    @Test func unknownFormatTopicDurationAndActorAreInvalidValues() {
        let text = Self.valid
            .replacingOccurrences(of: "format: sftptogo", with: "format: sftp2go")
            .replacingOccurrences(of: "    path: /srv/sftp", with: "    path: /srv/sftp\n    settle: soon\n    actor: user")
        let found = problems(text)
        #expect(found.map(\.code) == [.invalidValue, .invalidValue, .invalidValue])
        #expect(found.map(\.key) == ["watches[0].settle", "watches[0].actor", "webhooks[0].format"])
    }

    @Test func everyProblemIsReportedAtOnce() {
        let text = """
            watches:
              - name: a
                path: relative/path
                colour: blue
            webhooks:
              - name: b
                url: ftp://x
                format: rilavek
                concurrency: 0
            """
        let found = problems(text)
        #expect(found.count == 4)
    }

    @Test func unreadableConfigFileSaysHowToPointAtOne() {
        #expect(throws: ConfigurationErrors.self) {
            try AgentConfiguration.load(file: "/nonexistent/drophook.yaml", environment: [:])
        }
        do {
            _ = try AgentConfiguration.load(file: "/nonexistent/drophook.yaml", environment: [:])
        } catch {
            #expect("\(error)".contains("/nonexistent/drophook.yaml: cannot read the config file"))
        }
    }

    @Test func rilavekDefaultsToFinishedAndFailedTransfers() throws {
        let text =
            Self.valid.replacingOccurrences(of: "format: sftptogo", with: "format: rilavek")
            + "\n    retry: [1m, 5m, 30m, 2h, 24h]\n"
        let webhook = try #require(try AgentConfiguration.parse(text, file: "t.yaml", environment: [:]).endpoints.first)
        #expect(webhook.topics == [.fileCreated, .fileFailed])
        #expect(webhook.retry == [.seconds(60), .seconds(300), .seconds(1800), .seconds(7200), .seconds(86_400)])
    }
}
