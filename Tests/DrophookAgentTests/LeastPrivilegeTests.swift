import DrophookAgent
import DrophookReceiver
import DrophookTestSupport
import Foundation
import Glibc
import Testing

/// The agent as the packaged unit runs it: not root, with only CAP_DAC_READ_SEARCH and
/// CAP_LEASE (given with `setpriv`, as systemd's AmbientCapabilities= does), on a drop tree
/// only root may read.
@Suite("Least privilege", .serialized,
       .enabled(if: getuid() == 0 && access("/usr/bin/setpriv", X_OK) == 0, "needs root and setpriv"))
struct LeastPrivilegeTests {
    /// An unused uid, standing for the package's `drophook` user.
    static let uid: UInt32 = 4242
    static let secret = "least-privilege"

    @Test(.timeLimit(.minutes(2)))
    func readsAPrivateTreeWithTwoCapabilitiesAndNoRoot() async throws {
        let receiver = try await WebhookReceiver.start(.init(secret: Array(Self.secret.utf8)))
        let agent = try AgentUnderTest(webhooks: """
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
}
