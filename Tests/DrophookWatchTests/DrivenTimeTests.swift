import DrophookEvents
import DrophookTestSupport
import Foundation
import Glibc
import Logging
import Testing

@testable import DrophookWatch

/// Deadlines driven by a clock the test moves: an hour of settling takes no hour.
@Suite("Watcher deadlines on a mock clock")
struct DrivenTimeTests {
    @Test func settleWindowEndsWhenTheClockSaysSo() async throws {
        let tree = TempTree("driven-settle")
        let clock = MockClock()
        var logger = Logger(label: "drophook.watch.test")
        logger.logLevel = .error
        let watcher = DropTreeWatcher(configuration: .test(tree, settle: .seconds(3600)), snapshot: [], logger: logger, clock: clock)
        let harness = try await WatchHarness.start(watcher)
        tree.write("report.csv", "12345")
        // Directories are reported at once, settle or not, and records are handled in order:
        // once a later directory is reported, the file's close has been read (and its hour begun).
        tree.mkdir("seen-1")
        #expect(await harness.waitFor(.created, "seen-1"))
        clock.advance(by: .seconds(3599))
        // Each round of records ends with a tick: this one ran at 59:59.
        tree.mkdir("seen-2")
        #expect(await harness.waitFor(.created, "seen-2"))
        #expect(!harness.events.contains { $0.path == "report.csv" }, "reported before its hour was up")
        clock.advance(by: .seconds(2))
        #expect(await harness.waitFor(.created, "report.csv"))
        await harness.stop()
        #expect(harness.events.map(\.path) == ["seen-1", "seen-2", "report.csv"])
        #expect(harness.events.last?.size == 5)
    }
}
