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
        let harness = try await WatchHarness.start(Self.watcher(tree, settle: .seconds(3600), clock: clock))
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

    /// A resumed upload (reopened twice) under `settle: 30m`: each change starts the window
    /// again, and the file is reported once, 30 minutes after its last change, with its final size.
    @Test func settleCountsFromTheLastChange() async throws {
        let tree = TempTree("driven-reopen")
        let clock = MockClock()
        let harness = try await WatchHarness.start(Self.watcher(tree, settle: .seconds(1800), clock: clock))
        var marks = 0
        /// A directory is reported at once; once it is, every earlier record and the tick after them ran.
        func sync() async -> Bool {
            marks += 1
            tree.mkdir("seen-\(marks)")
            return await harness.waitFor(.created, "seen-\(marks)")
        }
        tree.write("slow.dat", "a")
        #expect(await sync())
        clock.advance(by: .seconds(1200))
        tree.write("slow.dat", "bb", append: true)
        #expect(await sync())
        clock.advance(by: .seconds(1200)) // 20 minutes since the last change
        #expect(await sync())
        tree.write("slow.dat", "ccc", append: true)
        #expect(await sync())
        clock.advance(by: .seconds(1740)) // 29 minutes since the last change
        #expect(await sync())
        #expect(!harness.events.contains { $0.path == "slow.dat" }, "reported before 30 quiet minutes")
        clock.advance(by: .seconds(120))
        #expect(await harness.waitFor(.created, "slow.dat"))
        await harness.stop()
        let reports = harness.events.filter { $0.path == "slow.dat" }
        #expect(reports.count == 1)
        #expect(reports.first?.size == 6)
    }

    static func watcher(_ tree: TempTree, settle: Duration, clock: MockClock) -> DropTreeWatcher {
        var logger = Logger(label: "drophook.watch.test")
        logger.logLevel = .error
        return DropTreeWatcher(configuration: .test(tree, settle: settle), snapshot: [], logger: logger, clock: clock)
    }
}
