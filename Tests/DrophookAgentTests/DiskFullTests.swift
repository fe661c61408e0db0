import DrophookAgent
import DrophookEvents
import DrophookReceiver
import DrophookTestSupport
import Foundation
import Glibc
import Testing

/// The state directory's file system fills up under a running agent (a small tmpfs, filled by
/// hand): events wait; status, `/health`, systemd's `STATUS` and the metrics say why; once
/// space is back every event is delivered once and each of them says so.
@Suite("Disk full", .serialized)
struct DiskFullTests {
    @Test(.requires(.root), .timeLimit(.minutes(2)))
    func eventsWaitWhileTheStateDiskIsFullAndAreDeliveredWhenItHasRoom() async throws {
        let receiver = try await WebhookReceiver.start(.init())
        let endpoints = try await AgentEndpoints.free()
        let agent = try AgentUnderTest(
            webhooks: """
                  - name: ops
                    url: \(receiver.baseURL)/hook
                    format: sftptogo
                """, topLevelExtra: endpoints.configLine)
        defer { agent.cleanUp() }
        // systemd's end of `sd_notify`: every STATUS= line the agent sends.
        let notify = try DatagramCollector(path: agent.root.path + "/notify.sock")
        defer { notify.close() }
        try FileManager.default.createDirectory(at: agent.stateDirectory, withIntermediateDirectories: true)
        try ChildProcess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", agent.stateDirectory.path], within: .seconds(20))
        defer { _ = try? ChildProcess.run("/bin/umount", ["-l", agent.stateDirectory.path], within: .seconds(20)) }
        try await agent.start(environment: ["NOTIFY_SOCKET": notify.path])
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
        let sick = try await endpoints.health()
        #expect(sick.status == 503 && sick.body.contains("database or disk is full"), "\(sick)")
        #expect(try await endpoints.metric("drophook_outbox_writable") == 0)
        #expect((try await endpoints.metric("drophook_outbox_write_failures_total") ?? 0) >= 1)
        let toldSystemd = await pollUntil(within: .seconds(10)) {
            notify.received.contains { $0.contains("STATUS=UNHEALTHY: cannot write the outbox") && $0.contains("full") }
        }
        #expect(toldSystemd, "\(notify.received)")

        try FileManager.default.removeItem(atPath: filler)
        let arrived = try await receiver.waitForWebhooks(count: 21, timeout: .seconds(60))
        let paths = arrived.dropFirst().compactMap { $0.json?["Data"]?["Path"]?.stringValue }
        #expect(paths.sorted() == names.sorted(), "each file once")
        let healthy = await pollUntil(within: .seconds(10)) {
            AgentStatus.read(stateDirectory: agent.stateDirectory.path)?.healthy == true
        }
        #expect(healthy)
        #expect(try await endpoints.health().status == 200)
        #expect(try await endpoints.metric("drophook_outbox_writable") == 1)
        let recovered = await pollUntil(within: .seconds(10)) {
            notify.received.last { $0.contains("STATUS=") }?.contains("STATUS=watching") == true
        }
        #expect(recovered, "\(notify.received.suffix(3))")
        #expect(agent.terminate() == 0)
        #expect(agent.log.contains("the outbox takes events again"), "\(agent.log)")
        await receiver.stop()
    }
}
