import DrophookAgent
import DrophookEvents
import DrophookReceiver
import DrophookTestSupport
import Foundation
import Glibc
import Testing

/// OpenSSH's session log through the real binary: a real sshd whose chrooted `internal-sftp -l INFO`
/// sessions log to sockets the agent binds in each chroot, two SFTP accounts that are one
/// system user, a client killed mid-upload, and a forged datagram.
@Suite(
    "SFTP session log", .serialized,
    .requires(.root, .sshd))
struct SessionLogTests {
    static let secret = "session-log-secret"
    /// `nobody` and a second account with its uid: `actor: owner` cannot tell their files apart.
    static let user = "nobody"
    static let twin = "dhsftp-twin"

    @Test(.timeLimit(.minutes(5)))
    func eachUploadNamesItsSFTPUserAndACutOffUploadIsAFailure() async throws {
        try OpenSSHServer.addAlias(Self.twin, of: Self.user)
        defer { OpenSSHServer.removeAccount(Self.twin) }
        // sshd accepts a chroot only if every component is root-owned and not world-writable: not under /tmp.
        let base = "/srv/drophook-sessions-\(UUID().uuidString.prefix(8))"
        let server = try OpenSSHServer.start(
            chroots: [
                .init(name: Self.user, root: base + "/" + Self.user, writable: ["upload"]),
                .init(name: Self.twin, root: base + "/" + Self.twin, writable: ["upload"]),
            ], sftpLogLevel: "INFO")
        defer {
            server.stop()
            try? FileManager.default.removeItem(atPath: base)
        }
        // Where the agent relays every datagram: the system log it would otherwise replace.
        let relay = try DatagramCollector(path: server.directory + "/relay.sock")
        defer { relay.close() }
        let receiver = try await WebhookReceiver.start(.init(secret: Array(Self.secret.utf8)))
        let agent = try AgentUnderTest(
            webhooks: """
                  - name: ops
                    url: \(receiver.baseURL)/sftptogo
                    format: sftptogo
                    secret: \(Self.secret)
                    ordered: true
                    retry: [100ms]
                  - name: ops-failures
                    url: \(receiver.baseURL)/sftptogo-failed
                    format: sftptogo
                    secret: \(Self.secret)
                    topics: [file.failed]
                    retry: [100ms]
                  - name: pipeline
                    url: \(receiver.baseURL)/rilavek
                    format: rilavek
                    secret: \(Self.secret)
                    session_details: true
                    ordered: true
                    retry: [100ms]
                """,
            topLevelExtra: """
                session_log:
                  source: socket
                  sockets: [\(base)/%u/dev/log]
                  relay: \(relay.path)
                  chroot: \(base)/%u
                """, dropDirectory: URL(fileURLWithPath: base))
        defer { agent.cleanUp() }
        try await agent.start()
        let sockets = [Self.user, Self.twin].map { "\(base)/\($0)/dev/log" }
        let bound = await pollUntil(within: .seconds(10)) { sockets.allSatisfy { Self.isSocket($0) } }
        #expect(bound, "the agent did not bind \(sockets)\n\(agent.log)")
        let check = try AgentUnderTest.command(["check", "--config", agent.configFile.path])
        #expect(
            check.stdout.contains("session log: \(Self.twin)'s \"/\" is \(base)/\(Self.twin), which lies in watch uploads (\(base))"),
            "\(check)")

        let local = server.directory
        try SFTPUploadTests.file(local + "/a.csv", size: 100)
        try SFTPUploadTests.file(local + "/big.bin", size: 3_000_000)
        try SFTPUploadTests.file(local + "/small.txt", size: 10)

        // A forger on the same socket: its own process claims to be the twin's session and
        // closes a file; the kernel names it, so nothing of it may count.
        let forger = try DatagramCollector.send(
            [
                "<38>Dec  2 06:04:13 internal-sftp[1]: session opened for local user \(Self.twin) from [6.6.6.6]",
                "<38>Dec  2 06:04:13 internal-sftp[1]: close \"/upload/a.csv\" bytes read 0 written 1",
            ], to: sockets[0])
        #expect(forger == 2)
        try server.sftp(["put \(local)/a.csv /upload/a.csv"], user: Self.user)
        try server.sftp(["put \(local)/a.csv /upload/a.csv"], user: Self.twin)
        try await Self.waitFor(receiver, "/sftptogo", "\(Self.twin)/upload/a.csv")
        try await Self.waitFor(receiver, "/sftptogo", "\(Self.user)/upload/a.csv")

        // The twin's upload, cut off by killing the client mid-transfer (throttled to 2 Mbit/s).
        let cut = try server.sftpInBackground(["put \(local)/big.bin /upload/big.bin"], user: Self.twin, limitKbit: 2000)
        let bigPath = "\(base)/\(Self.twin)/upload/big.bin"
        let started = await pollUntil(within: .seconds(30)) { (SFTPUploadTests.size(bigPath) ?? 0) > 100_000 }
        #expect(started, "the throttled upload did not start")
        cut.kill(SIGKILL)
        #expect(cut.wait(within: .seconds(10)) != nil)
        try await Self.waitFor(receiver, "/rilavek", "big.bin")
        let cutSize = try #require(SFTPUploadTests.size(bigPath))
        #expect(cutSize < 3_000_000)
        // Resumed to the end: now it has arrived.
        try server.sftp(["reput \(local)/big.bin /upload/big.bin"], user: Self.twin)
        try server.sftp(["put \(local)/small.txt /upload/zz-marker"], user: Self.user)
        try await Self.waitFor(receiver, "/sftptogo", "\(Self.user)/upload/zz-marker")
        try await Self.waitFor(receiver, "/rilavek", "zz-marker")
        try await Self.waitFor(receiver, "/sftptogo-failed", "\(Self.twin)/upload/big.bin")

        let received = receiver.received
        #expect(received.allSatisfy { $0.signatureVerified == true })
        let sftp = received.filter { $0.path == "/sftptogo" }.map { webhook -> String in
            let data = webhook.json?["Data"]
            return "\(webhook.topic ?? "?") \(data?["Path"]?.stringValue ?? "?") \(data?["Size"]?.intValue.map(String.init) ?? "-") "
                + (webhook.json?["Actor"]?["Id"]?.stringValue ?? "?")
        }
        // The sockets and their `dev` directories, made before the first scan, are no uploads.
        // The cut-off upload is never `file.created`; its completing resume is.
        #expect(
            sftp == [
                "file.created \(Self.user)/upload/a.csv 100 \(Self.user)",
                "file.created \(Self.twin)/upload/a.csv 100 \(Self.twin)",
                "file.created \(Self.twin)/upload/big.bin 3000000 \(Self.twin)",
                "file.created \(Self.user)/upload/zz-marker 10 \(Self.user)",
            ])
        // The SFTP To Go webhook that asked for failures got this one, in SFTP To Go's envelope.
        let failures = received.filter { $0.path == "/sftptogo-failed" }
        #expect(
            failures.map {
                "\($0.topic ?? "?") \($0.json?["Data"]?["Path"]?.stringValue ?? "?") \($0.json?["Data"]?["Size"]?.intValue ?? -1)"
            }
                == ["file.failed \(Self.twin)/upload/big.bin \(cutSize)"])
        #expect(failures.first?.json?["Actor"]?["Id"]?.stringValue == Self.twin)
        // The vendor's default shape gains no key.
        #expect(received.filter { $0.path == "/sftptogo" }.allSatisfy { $0.json?["Data"]?["ClientAddress"] == nil })

        let rilavek = received.filter { $0.path == "/rilavek" }.map { webhook -> String in
            let data = webhook.json?["data"]
            return [
                data?["status"]?.stringValue, data?["filename"]?.stringValue, data?["size"]?.intValue.map(String.init),
                data?["sender"]?.stringValue, data?["client_address"]?.stringValue, data?["bytes_written"]?.intValue.map(String.init),
            ].map { $0 ?? "-" }.joined(separator: " ")
        }
        #expect(
            rilavek == [
                "transferred a.csv 100 \(Self.user) 127.0.0.1 100",
                "transferred a.csv 100 \(Self.twin) 127.0.0.1 100",
                "failed big.bin \(cutSize) \(Self.twin) 127.0.0.1 \(cutSize)",
                "transferred big.bin 3000000 \(Self.twin) 127.0.0.1 \(3_000_000 - cutSize)",
                "transferred zz-marker 10 \(Self.user) 127.0.0.1 10",
            ], "\(agent.log.split(separator: "\n").filter { $0.contains("session log") }.joined(separator: "\n"))")
        #expect(agent.log.contains("ignored a session line claiming user \"\(Self.twin)\""), "\(agent.log)")
        // Every datagram went on to the system log too, the forger's included.
        let relayed = relay.received.joined(separator: "\n")
        #expect(relayed.contains("session opened for local user \(Self.twin) from [127.0.0.1]"))
        #expect(relayed.contains("forced close \"/upload/big.bin\""))
        #expect(relayed.contains("from [6.6.6.6]"))
        #expect(agent.terminate() == 0)
        // The sockets the agent bound go with it.
        #expect(!sockets.contains { Self.isSocket($0) })
        await receiver.stop()
    }

    static func isSocket(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFSOCK
    }

    static func waitFor(_ receiver: RunningReceiver, _ endpoint: String, _ path: String) async throws {
        let arrived = await pollUntil(within: .seconds(30)) {
            receiver.received.contains { webhook in
                webhook.path == endpoint
                    && (webhook.json?["Data"]?["Path"]?.stringValue == path || webhook.json?["data"]?["filename"]?.stringValue == path)
            }
        }
        if !arrived { throw ChildProcessFailure("no \(endpoint) webhook for \(path) within 30 s") }
    }
}
