import DrophookSessions
import Foundation
import Testing

@testable import DrophookAgent

/// `session_log:` and `session_details:`: every mistake is one line naming its key.
@Suite("Configuration: the SFTP session log")
struct ConfigurationSessionLogTests {
    let base = ConfigurationTests()

    func config(_ sessionLog: String, webhookExtra: String = "") -> String {
        """
        state_dir: /tmp/state
        session_log:
        \(sessionLog.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        watches:
          - name: uploads
            path: /srv/sftp/
        webhooks:
          - name: ops
            url: https://hooks.example.com/sftp
            format: rilavek
            secret: s3cret
            \(webhookExtra)
        """
    }

    @Test("each source with its own keys; the chroot layout and wait as written")
    func sources() throws {
        let socket = try AgentConfiguration.parse(
            config(
                """
                source: socket
                sockets: [/srv/sftp/%u/dev/log, /run/drophook/sftp.sock]
                relay: /dev/log
                chroot: /srv/sftp/%u
                start_directory: /upload
                wait: 100ms
                """, webhookExtra: "session_details: true"), file: "t.yaml", environment: [:])
        let log = try #require(socket.sessionLog)
        #expect(log.source == .sockets(["/srv/sftp/%u/dev/log", "/run/drophook/sftp.sock"]))
        #expect(log.relay == "/dev/log")
        #expect(log.layout == ChrootLayout(chroot: "/srv/sftp/%u", startDirectory: "/upload"))
        #expect(log.wait == .milliseconds(100))
        #expect(socket.endpointConfigurations.first?.sessionDetails == true)
        #expect(socket.watchRoots == ["uploads": "/srv/sftp"])

        let file = try AgentConfiguration.parse(config("source: file\nfile: /var/log/auth.log"), file: "t.yaml", environment: [:])
        #expect(file.sessionLog?.source == .file("/var/log/auth.log"))
        #expect(file.sessionLog?.wait == .milliseconds(250))
        let journal = try AgentConfiguration.parse(config("source: journal"), file: "t.yaml", environment: [:])
        #expect(journal.sessionLog?.source == .journal(directory: nil))
        #expect(journal.endpointConfigurations.first?.sessionDetails == false)
    }

    @Test("mistakes name the key and say what to write")
    func mistakes() {
        let cases: [(String, String, String)] = [
            ("source: syslog", "session_log.source", "use socket, file or journal"),
            ("source: socket", "session_log.sockets", "list the socket paths"),
            ("source: file\nfile: /var/log/auth.log\nsockets: [/a]", "session_log.sockets", "applies to source: socket only"),
            ("source: socket\nsockets: [/srv/%u%h/log]", "session_log.sockets[0]", "may hold %u only"),
            ("source: socket\nsockets: [dev/log]", "session_log.sockets[0]", "not absolute"),
            ("source: socket\nsockets: [/run/a.sock]\nrelay: /run/a.sock", "session_log.relay", "would loop"),
            ("source: journal\nchroot: /srv/%U", "session_log.chroot", "drophook expands %u, %h and %%"),
            ("source: journal\nchroot: srv/%u", "session_log.chroot", "not absolute"),
            ("source: journal\nwait: 10s", "session_log.wait", "at most 5s"),
            ("source: journal\nlisten: /a", "session_log.listen", "session_log"),
        ]
        for (yaml, key, text) in cases {
            let found = base.problems(config(yaml))
            #expect(found.map(\.key) == [key], "\(yaml)")
            #expect(found.first?.description.contains(text) == true, "\(found)")
        }
    }

    @Test("check shows where each chroot's paths land, and warns when they land in no watch")
    func checkShowsTheMapping() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("drophook-check-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/sftp/alice/upload", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/jails/alice", withIntermediateDirectories: true)
        let text = """
            state_dir: \(root)/state
            session_log:
              source: socket
              sockets: [\(root)/sftp/%u/dev/log]
              chroot: \(root)/sftp/%u
            watches:
              - name: uploads
                path: \(root)/sftp
            webhooks:
              - name: ops
                url: https://hooks.example.com/sftp
                format: rilavek
                secret: s3cret-long-enough-to-sign-with
            """
        let mapped = try AgentConfiguration.parse(text, file: "t.yaml", environment: [:])
        #expect(
            AgentPreflight.sessionLogLines(mapped) == [
                "session log: alice's \"/\" is \(root)/sftp/alice, which lies in watch uploads (\(root)/sftp)"
            ])
        #expect(AgentPreflight.check(mapped).isEmpty)
        let elsewhere = try AgentConfiguration.parse(
            text.replacingOccurrences(of: "chroot: \(root)/sftp/%u", with: "chroot: \(root)/jails/%u"), file: "t.yaml", environment: [:])
        #expect(AgentPreflight.sessionLogLines(elsewhere) == ["session log: alice's \"/\" is \(root)/jails/alice, in no watch"])
        #expect(AgentPreflight.check(elsewhere).map(\.subject) == ["session_log.chroot"])
        let unjailed = try AgentConfiguration.parse(
            text.replacingOccurrences(of: "  chroot: \(root)/sftp/%u\n", with: ""), file: "t.yaml", environment: [:])
        #expect(
            AgentPreflight.sessionLogLines(unjailed) == [
                "session log: paths are logged as they are on disk (no chroot); every watch can be matched"
            ])
    }
}
