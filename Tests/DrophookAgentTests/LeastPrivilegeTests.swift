import DrophookAgent
import DrophookReceiver
import DrophookTestSupport
import Foundation
import Glibc
import Testing

/// The agent as the packaged unit runs it: not root, with only CAP_DAC_READ_SEARCH and
/// CAP_LEASE (given with `setpriv`, as systemd's AmbientCapabilities= does), on a drop tree
/// only root may read.
@Suite(
    "Least privilege", .serialized,
    .requires(.root, .setpriv))
struct LeastPrivilegeTests {
    /// An unused uid, standing for the package's `drophook` user.
    static let uid: UInt32 = 4242
    static let secret = "least-privilege"

    @Test(.timeLimit(.minutes(2)))
    func readsAPrivateTreeWithTwoCapabilitiesAndNoRoot() async throws {
        let receiver = try await WebhookReceiver.start(.init(secret: Array(Self.secret.utf8)))
        let agent = try AgentUnderTest(
            webhooks: """
                  - name: ops
                    url: \(receiver.baseURL)/hook
                    format: sftptogo
                    secret: \(Self.secret)
                    retry: [100ms]
                """)
        defer { agent.cleanUp() }
        // The tree is root's and closed to everyone else; the state directory is the agent's.
        #expect(chmod(agent.dropDirectory.path, 0o700) == 0)
        try FileManager.default.createDirectory(at: agent.stateDirectory, withIntermediateDirectories: true)
        #expect(chown(agent.stateDirectory.path, Self.uid, Self.uid) == 0)
        // The config holds a secret: readable by the agent's user alone, as the package sets it.
        #expect(chown(agent.configFile.path, Self.uid, Self.uid) == 0)
        let capabilities = "+dac_read_search,+lease"
        try await agent.start(launcher: [
            "/usr/bin/setpriv", "--reuid=\(Self.uid)", "--regid=\(Self.uid)", "--clear-groups",
            "--inh-caps=\(capabilities)", "--ambient-caps=\(capabilities)",
        ])
        // The kernel's lease still answers for files the agent does not own.
        #expect(AgentStatus.read(stateDirectory: agent.stateDirectory.path)?.completion == ["uploads": "lease"])

        let file = agent.dropDirectory.appendingPathComponent("private.csv")
        try Data(repeating: 7, count: 1234).write(to: file)
        #expect(chmod(file.path, 0o600) == 0)
        let received = try await receiver.waitForWebhooks(count: 1, timeout: .seconds(20))
        #expect(received.first?.json?["Data"]?["Path"]?.stringValue == "private.csv")
        #expect(received.first?.json?["Data"]?["Size"]?.intValue == 1234)
        // The owner rule still names the file's owner.
        #expect(received.first?.json?["Actor"]?["Id"]?.stringValue == "root")
        #expect(!agent.log.contains("running as root"))
        #expect(agent.terminate() == 0)
        await receiver.stop()
    }

    /// A file nobody may read (mode 000), written by a client the agent cannot read as: the
    /// agent is a plain user here, with no capability, so the open that a lease probe or a
    /// checksum needs fails for real (as root, or with CAP_DAC_READ_SEARCH as the package
    /// runs it, the file would be readable and the case would test nothing). It is still
    /// reported, once, with its real size; its checksum is left out rather than invented.
    @Test(.timeLimit(.minutes(2)))
    func aFileNobodyMayReadIsReportedOnceWithItsSize() async throws {
        let receiver = try await WebhookReceiver.start(.init())
        let agent = try AgentUnderTest(
            webhooks: """
                  - name: ops
                    url: \(receiver.baseURL)/hook
                    format: standard
                    secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
                    retry: [100ms]
                """, watchExtra: "    sha256: true")
        defer { agent.cleanUp() }
        for path in [agent.dropDirectory.path, agent.configFile.path] { #expect(chown(path, Self.uid, Self.uid) == 0) }
        try FileManager.default.createDirectory(at: agent.stateDirectory, withIntermediateDirectories: true)
        #expect(chown(agent.stateDirectory.path, Self.uid, Self.uid) == 0)
        try await agent.start(launcher: [
            "/usr/bin/setpriv", "--reuid=\(Self.uid)", "--regid=\(Self.uid)", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all",
        ])

        // Made with mode 000 and owned by the agent's own user: only a capability could read it.
        let locked = agent.dropDirectory.appendingPathComponent("locked.csv").path
        let descriptor = open(locked, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0)
        #expect(descriptor >= 0)
        let bytes = [UInt8](repeating: 9, count: 4321)
        #expect(write(descriptor, bytes, bytes.count) == bytes.count)
        #expect(fchown(descriptor, Self.uid, Self.uid) == 0)
        close(descriptor)
        // The agent really cannot read it (what the test stands on).
        #expect(throws: ChildProcessFailure.self, "cat as uid \(Self.uid) must be refused") {
            try ChildProcess.run(
                "/usr/bin/setpriv",
                [
                    "--reuid=\(Self.uid)", "--regid=\(Self.uid)", "--clear-groups",
                    "--inh-caps=-all", "/bin/cat", locked,
                ], within: .seconds(10))
        }
        // A readable file after it, to know the agent has passed the locked one.
        try Data("after".utf8).write(to: agent.dropDirectory.appendingPathComponent("after.csv"))

        let received = try await receiver.waitForWebhooks(count: 2, timeout: .seconds(30))
        let files = received.compactMap { webhook -> (String, Int64, Bool)? in
            guard let data = webhook.json?["data"], let path = data["path"]?.stringValue else { return nil }
            return (path, data["size"]?.intValue ?? -1, data["sha256"]?.stringValue != nil)
        }
        #expect(files.map(\.0).sorted() == ["after.csv", "locked.csv"], "each once: \(files)")
        #expect(files.first { $0.0 == "locked.csv" }?.1 == 4321)
        #expect(files.first { $0.0 == "locked.csv" }?.2 == false, "no checksum for a file that cannot be read")
        #expect(files.first { $0.0 == "after.csv" }?.2 == true)
        #expect(agent.terminate() == 0)
        await receiver.stop()
    }
}
