import DrophookAgent
import DrophookEvents
import DrophookReceiver
import DrophookTestSupport
import Foundation
import Testing

/// The wall clock stepped back and forward under a running agent (``WallClockShift``; the
/// monotonic clock stays real): retries keep their spacing, and event times follow the wall clock.
@Suite("Wall-clock steps", .serialized)
struct ClockStepTests {
    @Test(.timeLimit(.minutes(2)))
    func retriesKeepTheirSpacingWhenTheWallClockIsStepped() async throws {
        let receiver = try await WebhookReceiver.start(.init(script: .sequence([.status(500), .status(500)], then: .noContent)))
        let agent = try AgentUnderTest(
            webhooks: """
                  - name: ops
                    url: \(receiver.baseURL)/hook
                    format: sftptogo
                    retry: [2s, 2s, 2s]
                """)
        defer { agent.cleanUp() }
        let wallClock = try WallClockShift()
        defer { wallClock.remove() }
        try await agent.start(environment: wallClock.environment)

        try Data("x".utf8).write(to: agent.dropDirectory.appendingPathComponent("a.csv"))
        _ = try await receiver.waitForWebhooks(count: 1, timeout: .seconds(20))
        // An hour back: a wall-clock timer would wait an hour for the 2 s retry.
        try wallClock.set(seconds: -3600)
        _ = try await receiver.waitForWebhooks(count: 2, timeout: .seconds(60))
        // Two hours forward: a wall-clock timer would fire the next retry at once.
        try wallClock.set(seconds: 3600)
        let attempts = try await receiver.waitForWebhooks(count: 3, timeout: .seconds(60))
        let gaps = zip(attempts.dropFirst(), attempts).map { $0.receivedAt.timeIntervalSince($1.receivedAt) }
        // The schedule spreads each delay by up to 15 %, so no retry came early (which the step
        // forward would cause). The step back would delay one by an hour: the bound is set
        // against that hour, not against the 2 s, so a loaded machine's late wake-up passes.
        #expect(gaps.allSatisfy { $0 >= 1.5 && $0 < 60 }, "gaps between attempts: \(gaps)")

        // Event times are wall-clock times: an hour ahead now, as the agent's clock says.
        try Data("y".utf8).write(to: agent.dropDirectory.appendingPathComponent("b.csv"))
        let later = try await receiver.waitForWebhooks(count: 4, timeout: .seconds(20))
        let createdAt = try #require(later.last?.json?["CreatedAt"]?.intValue)
        let ahead = Double(createdAt) / 1000 - Date().timeIntervalSince1970
        #expect(abs(ahead - 3600) < 60, "CreatedAt is \(ahead) s from the real time")
        #expect(agent.terminate() == 0)
        #expect(agent.log.contains("the wall clock was stepped by"), "\(agent.log)")
        await receiver.stop()
    }
}
