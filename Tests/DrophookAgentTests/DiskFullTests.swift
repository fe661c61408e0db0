import DrophookAgent
import DrophookEvents
import DrophookReceiver
import DrophookTestSupport
import Foundation
import Glibc
import Testing

/// The state directory's file system fills up under a running agent (a small tmpfs, filled by
/// hand): events wait, status says why, and once space is back every event is delivered once.
@Suite("Disk full", .serialized)
struct DiskFullTests {
    @Test(.enabled(if: getuid() == 0, "mounting needs root"), .timeLimit(.minutes(2)))
    func eventsWaitWhileTheStateDiskIsFullAndAreDeliveredWhenItHasRoom() async throws {
        let receiver = try await WebhookReceiver.start(.init())
        let agent = try AgentUnderTest(webhooks: """
              - name: ops
                url: \(receiver.baseURL)/hook
                format: sftptogo
            """)
        defer { agent.cleanUp() }
        try FileManager.default.createDirectory(at: agent.stateDirectory, withIntermediateDirectories: true)
        try ChildProcess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", agent.stateDirectory.path], within: .seconds(20))
        defer { _ = try? ChildProcess.run("/bin/umount", ["-l", agent.stateDirectory.path], within: .seconds(20)) }
        try await agent.start()
        try Data("before".utf8).write(to: agent.dropDirectory.appendingPathComponent("before.csv"))
        _ = try await receiver.waitForWebhooks(count: 1, timeout: .seconds(20))

        // Fill the file system to its last block.
        let filler = agent.stateDirectory.appendingPathComponent("filler").path
        let descriptor = open(filler, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        #expect(descriptor >= 0)
        let block = [UInt8](repeating: 0, count: 4096)
        while write(descriptor, block, block.count) > 0 {}
        close(descriptor)

        let names = (0..<20).map { "full-\($0).csv" }
        for name in names { try Data(name.utf8).write(to: agent.dropDirectory.appendingPathComponent(name)) }
        let saysFull = await pollUntil(within: .seconds(20)) {
            AgentStatus.read(stateDirectory: agent.stateDirectory.path)?.outboxError?.contains("full") == true
        }
        #expect(saysFull, "\(String(describing: AgentStatus.read(stateDirectory: agent.stateDirectory.path)))")
        let shown = try AgentUnderTest.command(["status", "--config", agent.configFile.path])
        #expect(shown.stdout.contains("UNHEALTHY") && shown.stdout.contains("OUTBOX: cannot write the outbox"), "\(shown.stdout)")
        #expect(receiver.receivedCount == 1, "nothing is sent that is not stored")

        try FileManager.default.removeItem(atPath: filler)
        let arrived = try await receiver.waitForWebhooks(count: 21, timeout: .seconds(60))
        let paths = arrived.dropFirst().compactMap { $0.json?["Data"]?["Path"]?.stringValue }
        #expect(paths.sorted() == names.sorted(), "each file once")
        let healthy = await pollUntil(within: .seconds(10)) {
            AgentStatus.read(stateDirectory: agent.stateDirectory.path)?.healthy == true
        }
        #expect(healthy)
        #expect(agent.terminate() == 0)
        #expect(agent.log.contains("the outbox takes events again"), "\(agent.log)")
        await receiver.stop()
    }
}
