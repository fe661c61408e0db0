import DrophookAgent
import DrophookEvents
import DrophookReceiver
import DrophookTestSupport
import Foundation
import Glibc
import Testing

/// The user story through a real OpenSSH server: a chrooted `internal-sftp` account uploads
/// with the OpenSSH `sftp` client and with paramiko (whose rename is plain `SSH_FXP_RENAME`,
/// i.e. link + unlink on the server), and a receiver gets exactly the webhooks it should, in
/// both shapes, signed, each once.
@Suite(
    "Uploads through OpenSSH to webhooks", .serialized,
    .requires(.root, .sshd, .paramiko))
struct SFTPUploadTests {
    static let secret = "sftp-e2e-secret"
    /// The SFTP account: `nobody` exists on every Debian system, and its files have uid 65534.
    static let user = "nobody"

    @Test(.timeLimit(.minutes(5)))
    func everyUploadStyleArrivesExactlyOnceInBothShapes() async throws {
        // sshd accepts a chroot only if every component is root-owned and not world-writable: not under /tmp.
        let jail = "/srv/drophook-e2e-\(UUID().uuidString.prefix(8))"
        let server = try OpenSSHServer.start(chroot: .init(name: Self.user, root: jail, writable: ["upload"]))
        defer { server.stop() }
        let receiver = try await WebhookReceiver.start(.init(secret: Array(Self.secret.utf8)))
        // The SFTP To Go webhook is ordered: once the closing marker arrives there, every earlier
        // event has been delivered, so anything arriving twice would already show.
        let agent = try AgentUnderTest(
            webhooks: """
                  - name: ops
                    url: \(receiver.baseURL)/sftptogo
                    format: sftptogo
                    secret: \(Self.secret)
                    ordered: true
                    retry: [100ms]
                  - name: pipeline
                    url: \(receiver.baseURL)/rilavek
                    format: rilavek
                    secret: \(Self.secret)
                    retry: [100ms]
                """, dropDirectory: URL(fileURLWithPath: jail + "/upload"))
        defer { agent.cleanUp() }
        try await agent.start()
        // Root may take a lease on the partner's files: completion is asked of the kernel, and said so.
        #expect(AgentStatus.read(stateDirectory: agent.stateDirectory.path)?.completion == ["uploads": "lease"])
        let check = try AgentUnderTest.command(["check", "--config", agent.configFile.path])
        #expect(check.stdout.contains("watch uploads: completion by lease"), "\(check)")

        let local = server.directory
        try Self.file(local + "/a.csv", size: 100)
        try Self.file(local + "/r-full.bin", size: 3000)
        try Self.file(local + "/r-prefix.bin", size: 1000)
        try Self.file(local + "/c.txt", size: 7)
        try Self.file(local + "/big.bin", size: 3_000_000)
        try Self.file(local + "/small.txt", size: 10)
        let user = Self.user

        // put; put under a temp name then rename; the first half of a resumed upload.
        try server.sftp(
            [
                "put \(local)/a.csv /upload/a.csv",
                "put \(local)/a.csv /upload/b.csv.filepart", "rename /upload/b.csv.filepart /upload/b.csv",
                "put \(local)/r-prefix.bin /upload/r.bin",
            ], user: user)
        try await Self.waitFor(receiver, sftpPath: "r.bin")
        // The resumed upload (reopen and append); posix-rename; rm.
        try server.sftp(
            [
                "reput \(local)/r-full.bin /upload/r.bin",
                "rename /upload/a.csv /upload/a2.csv",
                "rm /upload/a2.csv",
            ], user: user)
        // The fast mkdir/put/rm/rmdir batch. The directory always shows (its own records prove
        // it); its file only if the directory's watch was in place before the file came and went,
        // a race with the client that a busy machine can lose. Each try must say nothing false,
        // and one of up to five must show the whole story.
        var wholeBatch: Int?
        var batchLines: [String] = []
        for attempt in 0..<5 where wholeBatch == nil {
            try server.sftp(
                [
                    "mkdir /upload/sub\(attempt)", "put \(local)/c.txt /upload/sub\(attempt)/c.txt",
                    "rm /upload/sub\(attempt)/c.txt", "rmdir /upload/sub\(attempt)",
                    "put \(local)/small.txt /upload/sync\(attempt)",
                ], user: user)
            try await Self.waitFor(receiver, sftpPath: "sync\(attempt)")
            let mine = receiver.received.filter { $0.path == "/sftptogo" }.compactMap { webhook -> String? in
                let data = webhook.json?["Data"]
                guard let path = data?["Path"]?.stringValue, path.hasPrefix("sub\(attempt)/") else { return nil }
                return "\(webhook.topic ?? "?") \(path) \(data?["Size"]?.intValue.map(String.init) ?? "-")"
            }
            let whole = [
                "file.created sub\(attempt)/ -", "file.created sub\(attempt)/c.txt 7",
                "file.deleted sub\(attempt)/c.txt -", "file.deleted sub\(attempt)/ -",
            ]
            // Closed and removed before the watcher could read its size: reported without one.
            var sizeUnknown = whole
            sizeUnknown[1] = "file.created sub\(attempt)/c.txt -"
            let directoryOnly = ["file.created sub\(attempt)/ -", "file.deleted sub\(attempt)/ -"]
            #expect(mine == whole || mine == sizeUnknown || mine == directoryOnly, "try \(attempt): \(mine)")
            batchLines += mine + ["file.created sync\(attempt) 10"]
            if mine == whole || mine == sizeUnknown { wholeBatch = attempt }
        }
        #expect(wholeBatch != nil, "no try of mkdir/put/rm/rmdir showed the file")
        // paramiko: a put, and SSH_FXP_RENAME (the server links the new name, then unlinks the old).
        try server.paramiko(
            """
            sftp.put("\(local)/small.txt", "/upload/p.txt")
            sftp.rename("/upload/b.csv", "/upload/b2.csv")
            """, user: user)
        // 200 files into 20 new directories, one session.
        var many = ["mkdir /upload/many"]
        for directory in 0..<20 {
            many.append("mkdir /upload/many/d\(directory)")
            for file in 0..<10 { many.append("put \(local)/small.txt /upload/many/d\(directory)/f\(file).txt") }
        }
        try server.sftp(many, user: user)
        // An upload cut off by killing the client mid-transfer (throttled to 2 Mbit/s).
        let cut = try server.sftpInBackground(["put \(local)/big.bin /upload/big.bin"], user: user, limitKbit: 2000)
        let started = await pollUntil(within: .seconds(30)) { (Self.size(jail + "/upload/big.bin") ?? 0) > 100_000 }
        #expect(started, "the throttled upload did not start")
        cut.kill(SIGKILL)
        #expect(cut.wait(within: .seconds(10)) != nil)
        try await Self.waitFor(receiver, sftpPath: "big.bin")
        let cutSize = try #require(Self.size(jail + "/upload/big.bin"))
        #expect(cutSize < 3_000_000)
        try server.sftp(["put \(local)/small.txt /upload/zz-marker"], user: user)
        try await Self.waitFor(receiver, sftpPath: "zz-marker")
        let received = receiver.received

        // Every request is signed with the secret, verified independently of the receiver too.
        for webhook in received {
            #expect(webhook.signatureVerified == true, "\(webhook.summary)")
        }
        let sftp = received.filter { $0.path == "/sftptogo" }
        if let first = sftp.first {
            let expected = Base64.encode(LibCrypto.hmacSHA256(key: Array(Self.secret.utf8), message: first.body))
            #expect(first.header("X-Hub-Signature") == expected)
        }
        let sftpLines = sftp.map { webhook -> String in
            let data = webhook.json?["Data"]
            let size = data?["Size"]?.intValue.map(String.init) ?? "-"
            return "\(webhook.topic ?? "?") \(data?["Path"]?.stringValue ?? "?") \(size)"
        }
        var expectedSFTP = [
            "file.created a.csv 100", "file.created b.csv 100", "file.created r.bin 1000",
            "file.created r.bin 3000",
            "file.deleted a.csv -", "file.created a2.csv 100",
            "file.deleted a2.csv -",
            "file.created p.txt 10", "file.created b2.csv 100", "file.deleted b.csv -",
            "file.created many/ -",
        ]
        for directory in 0..<20 {
            expectedSFTP.append("file.created many/d\(directory)/ -")
            for file in 0..<10 { expectedSFTP.append("file.created many/d\(directory)/f\(file).txt 10") }
        }
        expectedSFTP += ["file.created big.bin \(cutSize)", "file.created zz-marker 10"] + batchLines
        // Exactly these, each once; and in the order they happened wherever one path is concerned.
        let missing = Set(expectedSFTP).subtracting(sftpLines).sorted()
        let extra = Set(sftpLines).subtracting(expectedSFTP).sorted()
        #expect(sftpLines.sorted() == expectedSFTP.sorted(), "missing \(missing), extra \(extra)")
        #expect(Set(sftp.compactMap { $0.json?["Id"]?.stringValue }).count == sftp.count, "an event arrived twice")
        for path in ["r.bin", "a.csv", "b.csv"] {
            let mine = sftpLines.filter { $0.split(separator: " ")[1] == path }
            let expected = expectedSFTP.filter { $0.split(separator: " ")[1] == path }
            #expect(mine == expected, "order of \(path)")
        }
        #expect(sftp.allSatisfy { $0.json?["Actor"]?["Id"]?.stringValue == Self.user })
        #expect(!received.contains { String(decoding: $0.body, as: UTF8.self).contains(".filepart") })

        // Rilavek: finished files only, each once, with the sender.
        let rilavek = received.filter { $0.path == "/rilavek" }
        let rilavekLines = rilavek.map { webhook -> String in
            let data = webhook.json?["data"]
            return "\(data?["status"]?.stringValue ?? "?") \(data?["filename"]?.stringValue ?? "?") \(data?["size"]?.intValue ?? -1)"
        }
        var expectedRilavek = [
            "transferred a.csv 100", "transferred b.csv 100", "transferred r.bin 1000", "transferred r.bin 3000",
            "transferred a2.csv 100", "transferred p.txt 10", "transferred b2.csv 100",
        ]
        expectedRilavek += Array(repeating: (0..<10).map { "transferred f\($0).txt 10" }, count: 20).flatMap { $0 }
        expectedRilavek += ["transferred big.bin \(cutSize)", "transferred zz-marker 10"]
        expectedRilavek += batchLines.filter { $0.contains("created") && !$0.hasSuffix("/ -") }.map { line in
            let parts = line.split(separator: " ")
            // Rilavek's size is a number: an unknown size is sent as 0.
            return "transferred \(parts[1].split(separator: "/").last!) \(parts[2] == "-" ? "0" : parts[2])"
        }
        // The last Rilavek deliveries may still be in flight (that webhook is not ordered).
        let rilavekTotal = expectedRilavek.count
        let settled = await pollUntil(within: .seconds(20)) { receiver.received.filter { $0.path == "/rilavek" }.count >= rilavekTotal }
        #expect(settled)
        let allRilavek = receiver.received.filter { $0.path == "/rilavek" }
        let allRilavekLines = allRilavek.map { webhook -> String in
            let data = webhook.json?["data"]
            return "\(data?["status"]?.stringValue ?? "?") \(data?["filename"]?.stringValue ?? "?") \(data?["size"]?.intValue ?? -1)"
        }
        #expect(allRilavekLines.sorted() == expectedRilavek.sorted(), "\(rilavekLines.count) seen at the marker")
        #expect(Set(allRilavek.compactMap { $0.json?["data"]?["file_id"]?.stringValue }).count == allRilavek.count)
        #expect(allRilavek.allSatisfy { $0.json?["data"]?["sender"]?.stringValue == Self.user })
        #expect(agent.terminate() == 0)
        await receiver.stop()
    }

    static func file(_ path: String, size: Int) throws {
        try Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: URL(fileURLWithPath: path))
    }

    static func size(_ path: String) -> Int? {
        var st = stat()
        return lstat(path, &st) == 0 ? Int(st.st_size) : nil
    }

    /// Waits until a SFTP To Go webhook for `path` has arrived.
    static func waitFor(_ receiver: RunningReceiver, sftpPath path: String) async throws {
        let arrived = await pollUntil(within: .seconds(30)) {
            receiver.received.contains { $0.path == "/sftptogo" && $0.json?["Data"]?["Path"]?.stringValue == path }
        }
        if !arrived { throw ChildProcessFailure("no webhook for \(path) within 30 s") }
    }
}
