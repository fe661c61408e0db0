import DrophookAgent
import DrophookReceiver
import DrophookTestSupport
import Foundation
import Glibc
import Testing

/// Directories the agent may not read, and watch roots on file systems whose other writers
/// inotify cannot see.
@Suite("File-system faults", .serialized)
struct FileSystemFaultTests {
    /// An unused uid for the agent, as in the least-privilege tests.
    static let uid: UInt32 = 4243

    /// A directory the agent's user may not read is said once (not at each look), shown in the
    /// status, and reported in full once its permissions let the agent in.
    @Test(.requires(.root, .setpriv), .timeLimit(.minutes(2)))
    func anUnreadableDirectoryIsSaidOnceAndReadWhenItOpens() async throws {
        let receiver = try await WebhookReceiver.start(.init())
        let endpoints = try await AgentEndpoints.free()
        let agent = try AgentUnderTest(
            webhooks: """
                  - name: ops
                    url: \(receiver.baseURL)/hook
                    format: sftptogo
                """, topLevelExtra: endpoints.configLine)
        defer { agent.cleanUp() }
        #expect(chown(agent.dropDirectory.path, Self.uid, Self.uid) == 0)
        try FileManager.default.createDirectory(at: agent.stateDirectory, withIntermediateDirectories: true)
        #expect(chown(agent.stateDirectory.path, Self.uid, Self.uid) == 0)
        // The config holds a secret: readable by the agent's user alone, as the package sets it.
        #expect(chown(agent.configFile.path, Self.uid, Self.uid) == 0)
        #expect(chmod(agent.root.path, 0o755) == 0)
        try await agent.start(launcher: ["/usr/bin/setpriv", "--reuid=\(Self.uid)", "--regid=\(Self.uid)", "--clear-groups"])

        // Made elsewhere, closed to everyone but root, then moved in whole.
        let outside = agent.root.appendingPathComponent("closed")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data("inside".utf8).write(to: outside.appendingPathComponent("inside.csv"))
        #expect(chmod(outside.path, 0o700) == 0)
        let closed = agent.dropDirectory.appendingPathComponent("closed")
        #expect(rename(outside.path, closed.path) == 0)
        _ = try await receiver.waitForWebhooks(count: 1, timeout: .seconds(20))
        let shown = await pollUntil(within: .seconds(10)) {
            AgentStatus.read(stateDirectory: agent.stateDirectory.path)?.unreadableDirectories == 1
        }
        #expect(shown)
        // What the operator sees while it is shut: the status line and the gauge.
        let unreadable = try AgentUnderTest.command(["status", "--config", agent.configFile.path])
        #expect(unreadable.stdout.contains("1 directory cannot be read"), "\(unreadable.stdout)")
        #expect(try await endpoints.metric("drophook_watch_unreadable_directories") == 1)
        // Its permissions change but still shut the agent out: tried again, not said again.
        #expect(chmod(closed.path, 0o710) == 0)
        try Data("m".utf8).write(to: agent.dropDirectory.appendingPathComponent("marker"))
        _ = try await receiver.waitForWebhooks(count: 2, timeout: .seconds(20))
        #expect(chmod(closed.path, 0o755) == 0)
        let received = try await receiver.waitForWebhooks(count: 3, timeout: .seconds(20))
        #expect(received.compactMap { $0.json?["Data"]?["Path"]?.stringValue } == ["closed/", "marker", "closed/inside.csv"])
        let status = try AgentUnderTest.command(["status", "--config", agent.configFile.path])
        #expect(!status.stdout.contains("cannot be read"), "\(status.stdout)")
        #expect(try await endpoints.metric("drophook_watch_unreadable_directories") == 0)
        #expect(agent.terminate() == 0)
        let said = agent.log.components(separatedBy: "cannot read directory \(closed.path)").count - 1
        #expect(said == 1, "\(agent.log)")
        await receiver.stop()
    }

    /// A root on a FUSE file system (bindfs): check and the start-up log say that other hosts'
    /// writes are not seen.
    @Test(.requires(.root, .bindfs))
    func aRootOnFUSEIsWarnedAbout() async throws {
        let agent = try AgentUnderTest(webhooks: "  []")
        defer { agent.cleanUp() }
        let source = agent.root.appendingPathComponent("source")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        try ChildProcess.run("/usr/bin/bindfs", [source.path, agent.dropDirectory.path], within: .seconds(20))
        defer { _ = try? ChildProcess.run("/bin/umount", [agent.dropDirectory.path], within: .seconds(20)) }
        let check = try AgentUnderTest.command(["check", "--config", agent.configFile.path])
        let warning = "watch uploads: root \(agent.dropDirectory.path) is on FUSE; inotify sees only writes made through this host"
        #expect(check.stderr.contains(warning), "\(check)")
        try await agent.start()
        #expect(agent.terminate() == 0)
        #expect(agent.log.contains(warning))
    }
}

/// A webhook whose host name does not resolve, with the agent in a mount namespace whose
/// `/etc/hosts` knows only the other receiver's name and whose resolver points at a loopback
/// port where nothing answers (so no query leaves the machine).
@Suite("Names that do not resolve", .serialized)
struct UnresolvableNameTests {
    @Test(.requires(.root, .unshare), .timeLimit(.minutes(2)))
    func aNameThatDoesNotResolveFailsItsAttemptsAndHoldsNothingElseUp() async throws {
        let receiver = try await WebhookReceiver.start(.init())
        let agent = try AgentUnderTest(
            webhooks: """
                  - name: known
                    url: http://hooks.drophook.test:\(receiver.port)/hook
                    format: sftptogo
                  - name: unknown
                    url: http://gone.drophook.test:\(receiver.port)/hook
                    format: sftptogo
                    retry: [1h]
                """)
        defer { agent.cleanUp() }
        let hosts = agent.root.appendingPathComponent("hosts").path
        let resolver = agent.root.appendingPathComponent("resolv.conf").path
        try "127.0.0.1 localhost hooks.drophook.test\n".write(toFile: hosts, atomically: true, encoding: .utf8)
        try "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n".write(toFile: resolver, atomically: true, encoding: .utf8)
        try await agent.start(launcher: [
            "/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
            "mount --bind \(hosts) /etc/hosts && mount --bind \(resolver) /etc/resolv.conf && exec \"$@\"", "sh",
        ])
        try Data("x".utf8).write(to: agent.dropDirectory.appendingPathComponent("a.csv"))
        let received = try await receiver.waitForWebhooks(count: 1, timeout: .seconds(20))
        #expect(received.first?.json?["Data"]?["Path"]?.stringValue == "a.csv")
        let failed = await pollUntil(within: .seconds(20)) {
            let log = try? AgentUnderTest.command(["deliveries", "--config", agent.configFile.path, "--endpoint", "unknown", "--json"])
            return log?.stdout.contains("dnsFailure") == true
        }
        #expect(failed)
        let detail = try AgentUnderTest.command(["deliveries", "--config", agent.configFile.path, "--endpoint", "unknown"])
        #expect(detail.stdout.contains("pending"), "\(detail.stdout)")
        #expect(agent.terminate() == 0)
        #expect(agent.log.contains("Could not resolve host: gone.drophook.test"), "\(agent.log)")
        #expect(receiver.receivedCount == 1)
        await receiver.stop()
    }
}
