import DrophookDelivery
import DrophookNATS
import Foundation
import Testing

@testable import DrophookAgent

/// `nats:` entries: a webhook's delivery keys plus a NATS deployment's servers, subject and
/// credentials; every mistake is one line naming its key.
@Suite("Configuration: NATS JetStream destinations")
struct ConfigurationNATSTests {
    let base = ConfigurationTests()

    func config(_ entry: String, webhooks: String = "") -> String {
        """
        state_dir: /tmp/state
        watches:
          - name: uploads
            path: /srv/sftp/
        \(webhooks)
        nats:
          - name: fleet
            format: cloudevents
        \(entry.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        """
    }

    @Test("servers, subject, host, authentication and create_stream as written; defaults otherwise")
    func readsADestination() throws {
        let loaded = try AgentConfiguration.parse(
            config(
                """
                servers: [nats://10.0.0.5:4222, tls://10.0.0.6:4222]
                subject: files.{host}.{topic}
                host: sftp-eu-1
                user: drophook
                password: ${NATS_PASSWORD}
                ordered: true
                create_stream: {name: SFTP, replicas: 3, duplicate_window: 10m, max_age: 30d}
                """), file: "t.yaml", environment: ["NATS_PASSWORD": "a-long-nats-password"])
        let fleet = try #require(loaded.endpoints.first)
        let nats = try #require(fleet.stream)
        #expect(nats.settings.connection.servers == ["nats://10.0.0.5:4222", "tls://10.0.0.6:4222"])
        #expect(nats.settings.connection.authentication == .userPassword(user: "drophook", password: "a-long-nats-password"))
        #expect(nats.subject(watch: "uploads", topic: "file.created") == "files.sftp-eu-1.file.created")
        #expect(
            nats.settings.createStream
                == .init(
                    name: "SFTP", subjects: ["files.*.*.*"], replicas: 3, duplicateWindow: .seconds(600), maxAge: .seconds(30 * 86_400)))
        #expect(fleet.ordered)
        guard case .stream = try #require(loaded.endpointConfigurations.first).destination else {
            Issue.record("a nats entry must publish into its stream")
            return
        }

        let plain = try AgentConfiguration.parse(config("servers: nats://127.0.0.1:4222"), file: "t.yaml", environment: [:])
        let defaults = try #require(plain.endpoints.first?.stream)
        #expect(defaults.host == AgentConfiguration.hostName)
        #expect(defaults.subject.description == "sftp.{host}.{watch}.{topic}")
        #expect(defaults.settings.connection.authentication == .none)
        #expect(defaults.settings.createStream == nil)
        #expect(plain.endpoints.first?.concurrency == 32)
    }

    @Test("each entry carries its key, its kind of destination and the signer made at load")
    func entriesCarryWhatLoadingChecked() throws {
        let loaded = try AgentConfiguration.parse(
            config(
                "servers: [nats://127.0.0.1:4222]\nsecret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                webhooks: """
                    webhooks:
                      - name: ops
                        url: https://hooks.example.com/in
                        format: standard
                        secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
                        authorization: Bearer abc
                        handshake: true
                    """), file: "t.yaml", environment: [:])
        #expect(loaded.endpoints.map(\.key) == ["webhooks[0]", "nats[0]"])
        let ops = try #require(loaded.endpoints.first?.webhook)
        #expect(ops.url == "https://hooks.example.com/in" && ops.authorization == "Bearer abc" && ops.handshake)
        #expect(loaded.endpoints.first?.stream == nil && loaded.endpoints.last?.webhook == nil)
        #expect(loaded.endpoints.first?.signer.scheme == .standard && loaded.endpoints.first?.signer.signs == true)
        let stages = loaded.endpointConfigurations
        guard case .webhook(let url) = stages.first?.destination, case .stream(let stream) = stages.last?.destination else {
            Issue.record("a webhook posts to its URL, a nats entry publishes into its stream")
            return
        }
        #expect(url == "https://hooks.example.com/in" && stages.first?.handshake == true)
        #expect(stream.servers == ["nats://127.0.0.1:4222"] && stages.last?.handshake == false && stages.last?.authorization == nil)
        #expect(stream.subject("uploads", "file.created") == "sftp.\(AgentConfiguration.hostName).uploads.file.created")
        // The one key table: a key belongs to the kinds that take it, and to no other.
        #expect(AgentConfiguration.EndpointKind.keys(of: .webhook).contains("handshake"))
        #expect(!AgentConfiguration.EndpointKind.keys(of: .stream).contains("handshake"))
        #expect(AgentConfiguration.EndpointKind.keys(of: .stream).contains("servers"))
        #expect(!AgentConfiguration.EndpointKind.keys(of: .webhook).contains("servers"))
    }

    @Test("NATS destinations and webhooks share one set of names")
    func namesAreSharedWithWebhooks() {
        let found = base.problems(
            config(
                "servers: [nats://127.0.0.1:4222]",
                webhooks: """
                    webhooks:
                      - name: fleet
                        url: https://hooks.example.com/sftp
                        format: standard
                    """))
        #expect(found.count == 1 && found.first?.description.contains("fleet") == true, "\(found)")
    }

    @Test("mistakes name the key and say what to write")
    func mistakes() {
        let cases: [(String, String, String)] = [
            ("subject: a.b", "nats[0].servers", "list the NATS servers"),
            ("servers: [http://127.0.0.1:4222]", "nats[0].servers[0]", "write it as nats://host:4222"),
            ("servers: []", "nats[0].servers", "at least one"),
            ("servers: [nats://h:4222]\nsubject: sftp.{user}", "nats[0].subject", "use {host}, {watch} and {topic}"),
            ("servers: [nats://h:4222]\nsubject: sftp..{topic}", "nats[0].subject", "empty token"),
            ("servers: [nats://h:4222]\nurl: https://x.example.com", "nats[0].url", "unknown key"),
            ("servers: [nats://h:4222]\nauthorization: Bearer x", "nats[0].authorization", "unknown key"),
            ("servers: [nats://h:4222]\ntoken: abc\nuser: me\npassword: pw", "nats[0]", "one way to authenticate"),
            ("servers: [nats://h:4222]\nuser: me", "nats[0]", "has no password"),
            ("servers: [nats://h:4222]\nnkey_seed_file: /nonexistent/seed.nk", "nats[0].nkey", "public key"),
            ("servers: [nats://h:4222]\ncredentials_file: /nonexistent/fleet.creds", "nats[0].credentials_file", "cannot read"),
            ("servers: [nats://h:4222]\ncreate_stream: {replicas: 3}", "nats[0].create_stream.name", "name the stream"),
            ("servers: [nats://h:4222]\ncreate_stream: {name: A.B}", "nats[0].create_stream.name", "not a stream name"),
            ("servers: [nats://h:4222]\ncreate_stream: {name: S, replicas: 7}", "nats[0].create_stream.replicas", "1...5"),
        ]
        for (yaml, key, text) in cases {
            let found = base.problems(config(yaml))
            #expect(found.map(\.key).contains(key), "\(yaml): \(found)")
            #expect(found.contains { $0.description.contains(text) }, "\(yaml): \(found)")
        }
    }
}
