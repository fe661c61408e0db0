import DrophookAgent
import DrophookEvents
import DrophookReceiver
import DrophookTestSupport
import Foundation
import Glibc
import Testing

/// The agent as systemd runs it: `Type=notify` over a real datagram socket, the watchdog, a
/// reload, a stop; log lines shaped for journald; and what an operator sees of a hostile name.
@Suite("Daemon: systemd, journald, hostile names", .serialized)
struct DaemonTests {
    static let secret = "daemon-secret"

    @Test(.timeLimit(.minutes(2)))
    func speaksSystemdsNotifyProtocolAndJournaldsPriorities() async throws {
        let receiver = try await WebhookReceiver.start(.init(secret: Array(Self.secret.utf8)))
        let agent = try AgentUnderTest(
            webhooks: """
                  - name: ops
                    url: \(receiver.baseURL)/hook
                    format: sftptogo
                    secret: \(Self.secret)
                    authorization: "Bearer daemon-token-7431"
                    retry: [100ms]
                """)
        defer { agent.cleanUp() }
        let notify = try DatagramCollector(path: agent.root.path + "/notify.sock")
        defer { notify.close() }
        // journald is told which stream is the journal: the device and inode of the agent's stderr.
        _ = FileManager.default.createFile(atPath: agent.logFile.path, contents: nil)
        var log = stat()
        #expect(stat(agent.logFile.path, &log) == 0)
        try await agent.start(
            environment: [
                "NOTIFY_SOCKET": notify.path,
                "WATCHDOG_USEC": "1000000",
                "JOURNAL_STREAM": "\(log.st_dev):\(log.st_ino)",
            ], keepLog: true)

        let ready = await pollUntil(within: .seconds(10)) {
            notify.received.contains { $0.hasPrefix("READY=1\nSTATUS=watching 1 directory; 0 deliveries owed") }
        }
        #expect(ready, "\(notify.received)")
        // Fed at half the interval while the watcher and the delivery engine go round.
        let fed = await pollUntil(within: .seconds(10)) { notify.received.filter { $0 == "WATCHDOG=1" }.count >= 3 }
        #expect(fed, "\(notify.received)")

        agent.signal(SIGHUP)
        let reloaded = await pollUntil(within: .seconds(10)) {
            let messages = notify.received
            guard let reloading = messages.firstIndex(where: { $0.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") }) else { return false }
            return messages[(reloading + 1)...].contains("READY=1")
        }
        #expect(reloaded, "\(notify.received)")

        // A partner's name with OSC 52 (set the clipboard), BEL, a newline and a bidi override.
        let hostile = "inv\u{1B}]52;c;SGVsbG8=\u{07}\nFAKE LINE\u{202E}fdp.csv"
        try Data("x".utf8).write(to: agent.dropDirectory.appendingPathComponent(hostile))
        let arrived = try await receiver.waitForWebhooks(count: 1, timeout: .seconds(20))
        #expect(arrived.first?.json?["Data"]?["Path"]?.stringValue == hostile)
        // Whatever status lines the delivery caused, the last says nothing is owed.
        let owed = await pollUntil(within: .seconds(10)) {
            notify.received.last { $0.contains("STATUS=") }?.hasSuffix("STATUS=watching 1 directory; 0 deliveries owed") == true
        }
        #expect(owed, "\(notify.received)")

        let table = try AgentUnderTest.command(["deliveries", "--config", agent.configFile.path])
        let rows = table.stdout.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        #expect(rows.count == 2, "a newline in the name split the row: \(table.stdout)")
        #expect(!table.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x202E })
        #expect(table.stdout.contains("inv\\x1B]52;c;SGVsbG8=\\x07\\x0AFAKE LINE\\u{202E}fdp.csv"), "\(table.stdout)")
        let json = try AgentUnderTest.command([
            "deliveries", "--config", agent.configFile.path, "--json", "--path", "inv*", "--since", "1h",
        ])
        guard case .array(let listed) = try JSONValue(parsing: Array(json.stdout.utf8)) else {
            Issue.record("not a JSON array: \(json.stdout)")
            return
        }
        #expect(listed.map { $0["path"]?.stringValue } == [hostile], "\(json.stdout)")
        let none = try AgentUnderTest.command(["deliveries", "--config", agent.configFile.path, "--json", "--path", "other/*"])
        #expect(none.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")

        // --json on the other printing commands: exact, parseable answers.
        for (arguments, key, expected) in [
            (["check"], "ok", JSONValue.bool(true)),
            (["pause", "ops"], "paused", .bool(true)),
            (["resume", "ops"], "paused", .bool(false)),
        ] {
            let answer = try AgentUnderTest.command(arguments + ["--config", agent.configFile.path, "--json"])
            #expect(try JSONValue(parsing: Array(answer.stdout.utf8))[key] == expected, "\(arguments): \(answer)")
        }
        let keys = try AgentUnderTest.command(["keygen", "ed25519", "--json"])
        let pair = try JSONValue(parsing: Array(keys.stdout.utf8))
        #expect(pair["secret"]?.stringValue?.hasPrefix("whsk_") == true && pair["public_key"]?.stringValue?.hasPrefix("whpk_") == true)

        // The attempt in full shows the headers, with the secrets redacted.
        let detail = try AgentUnderTest.command([
            "deliveries", "--config", agent.configFile.path, try #require(arrived.first?.json?["Id"]?.stringValue),
        ])
        #expect(detail.stdout.contains("Authorization: [redacted]"), "\(detail.stdout)")

        #expect(agent.terminate() == 0)
        #expect(notify.received.contains { $0.hasPrefix("STOPPING=1") })
        // No secret and no Authorization value in any line the operator sees.
        for output in [agent.log, table.stdout, json.stdout, detail.stdout] {
            #expect(!output.contains("daemon-token-7431") && !output.contains(Self.secret))
        }
        // Every line carries its priority for journald and no timestamp; nothing raw reached it.
        let lines = agent.log.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            #expect(line.range(of: #"^<[2-7]>[a-zA-Z.]+: "#, options: .regularExpression) != nil, "\(line)")
        }
        // The warning is true only of root: run as another user, the agent must not say it.
        #expect(lines.contains { $0.hasPrefix("<4>drophook: running as root") } == (getuid() == 0))
        #expect(!agent.log.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 })
        await receiver.stop()
    }
}

/// `drophook listen` shows what a receiver got; a partner's name must not reach the terminal raw.
@Suite("listen: hostile names", .serialized)
struct ListenOutputTests {
    @Test(.timeLimit(.minutes(1)))
    func printsControlCharactersEscaped() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drophook-listen-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = directory + "/listen.out"
        let listener = try ChildProcess(AgentUnderTest.binary.path, ["listen", "--port", "0", "--body"], output: output)
        defer { listener.stop() }
        @Sendable func announcedPort() -> Int? {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            guard let range = text.range(of: #"127\.0\.0\.1:(\d+)/"#, options: .regularExpression) else { return nil }
            return Int(text[range].dropFirst("127.0.0.1:".count).dropLast())
        }
        let listening = await pollUntil(within: .seconds(10)) { announcedPort() != nil }
        #expect(listening)
        let port = announcedPort()
        let body = #"{"Topic":"file.created","Data":{"Path":"inv\u001b]52;c;SGk=\u0007\nFAKE\u202e.csv","Size":1}}"#
        let script = """
            import urllib.request
            urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:\(port ?? 0)/hook", data=open("\(directory)/body.json", "rb").read(), method="POST"))
            """
        try body.write(toFile: directory + "/body.json", atomically: false, encoding: .utf8)
        try script.write(toFile: directory + "/post.py", atomically: false, encoding: .utf8)
        try ChildProcess.run("/usr/bin/python3", [directory + "/post.py"], within: .seconds(20))
        let printed = await pollUntil(within: .seconds(10)) {
            ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").contains("file.created")
        }
        #expect(printed)
        let text = try String(contentsOfFile: output, encoding: .utf8)
        #expect(!text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x202E }, "\(text)")
        #expect(text.contains("file.created inv\\x1B]52;c;SGk=\\x07\\x0AFAKE\\u{202E}.csv 1 bytes"), "\(text)")
    }
}

/// Health says what is wrong instead of "healthy": a configured root that is missing, and a
/// state directory the agent cannot use.
@Suite("Health tells the truth", .serialized)
struct HealthTruthTests {
    @Test(.timeLimit(.minutes(1)))
    func aMissingRootIsUnhealthyAndNamed() async throws {
        let receiver = try await WebhookReceiver.start(.init())
        let endpoints = try await AgentEndpoints.free()
        let agent = try AgentUnderTest(
            webhooks: """
                  - name: ops
                    url: \(receiver.baseURL)/hook
                    format: sftptogo
                """, topLevelExtra: endpoints.configLine)
        defer { agent.cleanUp() }
        try FileManager.default.removeItem(at: agent.dropDirectory)
        try await agent.start()
        let status = try #require(AgentStatus.read(stateDirectory: agent.stateDirectory.path))
        #expect(!status.healthy)
        #expect(status.unavailableRoots == [agent.dropDirectory.path])
        let shown = try AgentUnderTest.command(["status", "--config", agent.configFile.path])
        #expect(shown.stdout.contains("UNHEALTHY"))
        #expect(shown.stdout.contains("NOT WATCHING \(agent.dropDirectory.path)"), "\(shown.stdout)")
        // A monitoring check sees it too: 503, with the root named.
        let missing = try await endpoints.health()
        let named = try JSONValue(parsing: Array(missing.body.utf8))["unavailableRoots"]
        #expect(missing.status == 503 && named == .array([.string(agent.dropDirectory.path)]), "\(missing)")

        // The root appears (a late mount, an admin's mkdir): watched without a restart.
        try FileManager.default.createDirectory(at: agent.dropDirectory, withIntermediateDirectories: true)
        let healthy = await pollUntil(within: .seconds(15)) {
            AgentStatus.read(stateDirectory: agent.stateDirectory.path)?.healthy == true
        }
        #expect(healthy)
        try Data("late".utf8).write(to: agent.dropDirectory.appendingPathComponent("late.csv"))
        let arrived = try await receiver.waitForWebhooks(count: 1, timeout: .seconds(20))
        #expect(arrived.first?.json?["Data"]?["Path"]?.stringValue == "late.csv")
        #expect(try await endpoints.health().status == 200)
        #expect(agent.terminate() == 0)
        await receiver.stop()
    }

    @Test func runRefusesAStateDirectoryThatIsAFileInCheckWords() throws {
        let agent = try AgentUnderTest(webhooks: "  []")
        defer { agent.cleanUp() }
        try Data("not a directory".utf8).write(to: agent.stateDirectory)
        let run = try AgentUnderTest.command(["run", "--config", agent.configFile.path])
        let check = try AgentUnderTest.command(["check", "--config", agent.configFile.path])
        #expect(run.status == 1 && check.status == 1)
        let line = "error: \(agent.stateDirectory.path): state_dir is not a directory; point state_dir at a directory"
        #expect(run.stderr.trimmingCharacters(in: .newlines) == line, "\(run)")
        #expect(check.stderr.contains(line))
    }

    @Test(.requires(.root))
    func runRefusesAReadOnlyStateDirectory() throws {
        let agent = try AgentUnderTest(webhooks: "  []")
        defer { agent.cleanUp() }
        try FileManager.default.createDirectory(at: agent.stateDirectory, withIntermediateDirectories: true)
        try ChildProcess.run("/bin/mount", ["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", agent.stateDirectory.path], within: .seconds(20))
        defer { _ = try? ChildProcess.run("/bin/umount", [agent.stateDirectory.path], within: .seconds(20)) }
        let run = try AgentUnderTest.command(["run", "--config", agent.configFile.path])
        #expect(run.status == 1)
        #expect(
            run.stderr.trimmingCharacters(in: .newlines)
                == "error: \(agent.stateDirectory.path): state_dir is on a read-only file system; remount it read-write or point state_dir elsewhere",
            "\(run)")
    }

    /// The state directory exists but the agent's user may not write it (root would ignore the
    /// mode, so the agent runs as another user): `run` stops before anything starts, naming
    /// `state_dir` and what to do.
    @Test(.requires(.root, .setpriv))
    func runRefusesAStateDirectoryItsUserCannotWrite() throws {
        let uid: UInt32 = 4244
        let agent = try AgentUnderTest(webhooks: "  []")
        defer { agent.cleanUp() }
        try FileManager.default.createDirectory(at: agent.stateDirectory, withIntermediateDirectories: true)
        #expect(chmod(agent.stateDirectory.path, 0o755) == 0) // root's, open to read, closed to write
        #expect(chmod(agent.root.path, 0o755) == 0)
        #expect(chown(agent.configFile.path, uid, uid) == 0)
        let asUser = ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(uid)", "--clear-groups"]
        let run = try AgentUnderTest.command(["run", "--config", agent.configFile.path], launcher: asUser)
        #expect(run.status == 1)
        #expect(
            run.stderr.trimmingCharacters(in: .newlines)
                == "error: \(agent.stateDirectory.path): state_dir is not writable; give the agent's user write access", "\(run)")
        #expect(AgentStatus.read(stateDirectory: agent.stateDirectory.path) == nil, "nothing started")
    }

    /// A status file that is there but damaged is named as such by `status` and stops
    /// `recover-outbox` (which cannot tell whether an agent runs), instead of reading as
    /// "drophook is not running".
    @Test func aDamagedStatusFileIsNamedNotTakenForNoAgent() throws {
        let agent = try AgentUnderTest(webhooks: "  []")
        defer { agent.cleanUp() }
        try FileManager.default.createDirectory(at: agent.stateDirectory, withIntermediateDirectories: true)
        let file = AgentStatus.path(stateDirectory: agent.stateDirectory.path)
        try Data("{\"pid\": 12".utf8).write(to: URL(fileURLWithPath: file))
        let status = try AgentUnderTest.command(["status", "--config", agent.configFile.path])
        #expect(status.status == 1)
        #expect(status.stderr.hasPrefix("\(file): the agent's status file cannot be decoded ("), "\(status)")
        #expect(!status.stderr.contains("not running"))
        _ = FileManager.default.createFile(atPath: agent.stateDirectory.appendingPathComponent("outbox.sqlite").path, contents: Data())
        let recover = try AgentUnderTest.command(["recover-outbox", "--config", agent.configFile.path])
        #expect(recover.status == 1)
        #expect(recover.stderr.contains("cannot tell whether the agent runs"), "\(recover)")
    }
}
