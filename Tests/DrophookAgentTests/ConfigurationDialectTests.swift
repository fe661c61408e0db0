import DrophookEvents
import Foundation
import Testing

@testable import DrophookAgent

/// `signature:`, secrets and headers: whatever `check` accepts can be delivered.
@Suite("Configuration: signatures and headers")
struct ConfigurationDialectTests {
    let base = ConfigurationTests()

    func webhook(_ extra: String, format: String = "sftptogo", secret: String = "s3cret") -> String {
        """
        state_dir: /tmp/state
        watches:
          - name: uploads
            path: /srv/sftp
        webhooks:
          - name: ops
            url: https://hooks.example.com/sftp
            format: \(format)
            secret: "\(secret)"
        \(extra.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        """
    }

    @Test("signature: picks a scheme apart from the format; each format has its own default")
    func signatureSchemes() throws {
        let github = try AgentConfiguration.parse(webhook("signature: github"), file: "t.yaml", environment: [:])
        #expect(github.endpointConfigurations.first?.signer.scheme == .github)
        let plain = try AgentConfiguration.parse(webhook(""), file: "t.yaml", environment: [:])
        #expect(plain.endpointConfigurations.first?.signer.scheme == .hub)
        let standard = try AgentConfiguration.parse(
            webhook("", format: "standard", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), file: "t.yaml", environment: [:])
        #expect(standard.endpointConfigurations.first?.signer.scheme == .standard)
        let unknown = base.problems(webhook("signature: sha1"))
        #expect(unknown.map(\.key) == ["webhooks[0].signature"])
        #expect(unknown.first?.description.contains("hub, rilavek, github, standard, timestamped, none") == true)
    }

    @Test("a secret that cannot serve its scheme is an error at load, naming the secret")
    func standardNeedsAStandardSecret() {
        let found = base.problems(webhook("", format: "standard"))
        #expect(found.map(\.key) == ["webhooks[0].secret"])
        #expect(found.first?.description.contains("whsec_") == true)
        #expect(found.first?.description.contains("drophook keygen") == true)
    }

    @Test("header names are RFC 9110 tokens; values hold no CR, LF or NUL; URLs have real ports")
    func headerAndURLSyntax() {
        #expect(base.problems(webhook("headers:\n  X-Équipe: ops")).map(\.key) == ["webhooks[0].headers.X-Équipe"])
        #expect(base.problems(webhook("headers:\n  X-Team: \"ops\\u0000\"")).map(\.key) == ["webhooks[0].headers.X-Team"])
        #expect(base.problems(webhook("headers:\n  X-Team: \"ops\\r\\nX-Evil: 1\"")).map(\.key) == ["webhooks[0].headers.X-Team"])
        #expect(base.problems(webhook("authorization: \"Bearer a\\r\\nX-Evil: 1\"")).map(\.key) == ["webhooks[0].authorization"])
        let port = base.problems(webhook("").replacingOccurrences(of: "hooks.example.com/sftp", with: "hooks.example.com:99999/sftp"))
        #expect(port.map(\.key) == ["webhooks[0].url"])
        #expect(port.first?.description.contains("port 99999") == true)
    }

    @Test("headers drophook sets cannot be replaced by headers:")
    func ownedHeaders() throws {
        for name in ["Content-Length", "content-type", "Host", "X-Hub-Signature", "X-Drophook-Event"] {
            let found = base.problems(webhook("headers:\n  \(name): x"))
            #expect(found.map(\.key) == ["webhooks[0].headers.\(name)"], "\(name)")
            #expect(found.first?.description.contains("cannot be replaced") == true)
        }
        #expect(
            base.problems(webhook("authorization: Bearer t\nheaders:\n  Authorization: Basic x")).map(\.key)
                == ["webhooks[0].headers.Authorization"])
        // Another scheme's header name is the user's own to send.
        let other = try AgentConfiguration.parse(
            webhook("headers:\n  X-Rilavek-Signature: kept\n  Authorization: Basic x"), file: "t.yaml", environment: [:])
        #expect(other.endpoints.first?.headers.map(\.name) == ["X-Rilavek-Signature", "Authorization"])
    }
}

extension ConfigurationDialectTests {
    @Test("filters load with sizes in units; a bad glob or inverted sizes name their key")
    func filters() throws {
        let text = webhook("paths: [\"alice/**\", \"!**/*.tmp\"]\nmin_size: 1\nmax_size: 10MiB\nactors: [alice]")
        let filter = try #require(try AgentConfiguration.parse(text, file: "t.yaml", environment: [:]).endpointConfigurations.first?.filter)
        #expect(filter.maximumSize == 10 * 1_048_576 && filter.minimumSize == 1)
        #expect(filter.includedPaths.map(\.description) == ["alice/**"] && filter.excludedPaths.map(\.description) == ["**/*.tmp"])
        #expect(base.problems(webhook("paths: [\"in/[abc\"]")).map(\.key) == ["webhooks[0].paths"])
        #expect(base.problems(webhook("min_size: 5MB\nmax_size: 1kB")).map(\.key) == ["webhooks[0].max_size"])
        #expect(base.problems(webhook("max_size: lots")).map(\.key) == ["webhooks[0].max_size"])
    }
}

extension ConfigurationDialectTests {
    @Test("cloudevents: structured by default, binary by option; the option belongs to that format only")
    func cloudEventsMode() throws {
        let whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let binary = try AgentConfiguration.parse(
            webhook("cloudevents_mode: binary", format: "cloudevents", secret: whsec), file: "t.yaml", environment: [:])
        #expect((binary.endpointConfigurations.first?.format as? CloudEventsFormat)?.mode == .binary)
        #expect(binary.endpoints.first?.topics == [.fileCreated, .fileDeleted, .fileFailed])
        let structured = try AgentConfiguration.parse(webhook("", format: "cloudevents", secret: whsec), file: "t.yaml", environment: [:])
        #expect((structured.endpointConfigurations.first?.format as? CloudEventsFormat)?.mode == .structured)
        #expect(base.problems(webhook("cloudevents_mode: binary")).map(\.key) == ["webhooks[0].cloudevents_mode"])
        #expect(
            base.problems(webhook("cloudevents_mode: batched", format: "cloudevents", secret: whsec)).map(\.key) == [
                "webhooks[0].cloudevents_mode"
            ])
    }
}

extension ConfigurationDialectTests {
    @Test("sha256: true sends checksums up to 256 MiB unless sha256_max_size says otherwise")
    func checksumKeys() throws {
        func watch(_ extra: String) -> String {
            webhook("").replacingOccurrences(of: "    path: /srv/sftp", with: "    path: /srv/sftp\n" + extra)
        }
        let plain = try AgentConfiguration.parse(watch("    sha256: true"), file: "t.yaml", environment: [:])
        #expect(plain.watcherConfiguration.watches.first?.checksumLimit == 256 << 20)
        let capped = try AgentConfiguration.parse(watch("    sha256: true\n    sha256_max_size: 1MiB"), file: "t.yaml", environment: [:])
        #expect(capped.watcherConfiguration.watches.first?.checksumLimit == 1 << 20)
        #expect(
            try AgentConfiguration.parse(webhook(""), file: "t.yaml", environment: [:]).watcherConfiguration.watches.first?.checksumLimit
                == nil)
        #expect(base.problems(watch("    sha256_max_size: 1MiB")).map(\.key) == ["watches[0].sha256_max_size"])
    }
}
