import DrophookEvents
import DrophookTestSupport
import Foundation
import Glibc
import Testing

@testable import DrophookWatch

@Suite("Transfer completion")
struct TransferCompletionTests {
    @Test func plainWriteIsOneCreatedWithItsSize() async throws {
        let tree = TempTree()
        let harness = try await WatchHarness.start(.test(tree))
        tree.write("a.csv", "hello")
        #expect(await harness.waitFor(.created, "a.csv"))
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        await harness.stop()
        let events = harness.events
        #expect(events.paths(.created) == ["a.csv", "marker"])
        #expect(events.first?.size == 5)
        #expect(events.first?.foundByScan == false)
        #expect(events.first?.watch == "drop")
        #expect(harness.snapshot.contains { $0.path == "a.csv" && $0.size == 5 })
    }

    @Test func tempNameRenamedToFinalNameIsOneCreated() async throws {
        let tree = TempTree()
        let harness = try await WatchHarness.start(.test(tree))
        tree.write("x.csv.filepart", "part one")
        tree.write("x.csv.filepart", " and two", append: true)
        #expect(rename(tree.at("x.csv.filepart"), tree.at("x.csv")) == 0)
        #expect(await harness.waitFor(.created, "x.csv"))
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        await harness.stop()
        let events = harness.events
        #expect(events.count == 2)
        #expect(events.first { $0.path == "x.csv" }?.size == 16)
        #expect(!harness.snapshot.contains { $0.path.hasSuffix("filepart") })
    }

    @Test func abandonedTempFileIsOneFailedUnderTheFinalName() async throws {
        let tree = TempTree()
        let harness = try await WatchHarness.start(.test(tree))
        tree.write(".y.csv.partial", "12345678")
        tree.write("z.bin.filepart", "")
        // Records are read in order: once the marker is reported, the temp files have been seen.
        tree.write("seen", "")
        #expect(await harness.waitFor(.created, "seen"))
        #expect(unlink(tree.at(".y.csv.partial")) == 0)
        #expect(await harness.waitFor(.failed, "y.csv"))
        #expect(unlink(tree.at("z.bin.filepart")) == 0)
        #expect(await harness.waitFor(.failed, "z.bin"))
        await harness.stop()
        let events = harness.events
        #expect(events.count == 3)
        #expect(events.first { $0.path == "y.csv" }?.size == 8)
        #expect(events.filter { $0.path != "seen" }.allSatisfy { $0.kind == .failed })
    }

    @Test func ignoreGlobsAreNeverFiles() async throws {
        let tree = TempTree()
        let harness = try await WatchHarness.start(.test(tree, ignore: ["*.tmp", ".DS_Store"]))
        tree.write(".DS_Store", "x")
        tree.write("report.tmp", "data")
        #expect(rename(tree.at("report.tmp"), tree.at("report.txt")) == 0)
        #expect(await harness.waitFor(.created, "report.txt"))
        tree.remove(".DS_Store")
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        await harness.stop()
        #expect(harness.events.map(\.path) == ["report.txt", "marker"])
    }

    @Test func resumedUploadReportsAgainOnlyWhenContentChanged() async throws {
        let tree = TempTree()
        let harness = try await WatchHarness.start(.test(tree))
        tree.write("big.dat", "first")
        #expect(await harness.waitFor(.created, "big.dat"))
        // Reopened for writing and closed without writing: nothing.
        let fd = open(tree.at("big.dat"), O_WRONLY)
        close(fd)
        tree.write("marker1", "")
        #expect(await harness.waitFor(.created, "marker1"))
        #expect(harness.events.paths(.created).filter { $0 == "big.dat" }.count == 1)
        // Resumed: more bytes appended.
        tree.write("big.dat", " second", append: true)
        #expect(await harness.waitForEvents { $0.paths(.created).filter { $0 == "big.dat" }.count == 2 })
        tree.write("marker2", "")
        #expect(await harness.waitFor(.created, "marker2"))
        await harness.stop()
        let reports = harness.events.filter { $0.path == "big.dat" }
        #expect(reports.count == 2)
        #expect(reports.map(\.size) == [5, 12])
        #expect(Set(reports.map(\.id)).count == 2)
    }

    @Test func hardLinkedNameIsFinishedAtOnce() async throws {
        let tree = TempTree()
        let outside = TempTree("outside")
        outside.write("source.bin", "linked bytes")
        let harness = try await WatchHarness.start(.test(tree))
        #expect(link(outside.at("source.bin"), tree.at("linked.bin")) == 0)
        #expect(await harness.waitFor(.created, "linked.bin"))
        await harness.stop()
        #expect(harness.events.first?.size == 12)
    }
}

@Suite("Snapshot upkeep")
struct SnapshotUpkeepTests {
    /// `put -p` sets the mtime after the close: no new event, but a restart must not report it again.
    @Test func mtimeSetAfterUploadIsRecordedSilently() async throws {
        let tree = TempTree()
        let first = try await WatchHarness.start(.test(tree))
        tree.write("kept.csv", "data")
        #expect(await first.waitFor(.created, "kept.csv"))
        var times = [timespec(tv_sec: 1_600_000_000, tv_nsec: 0), timespec(tv_sec: 1_600_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, tree.at("kept.csv"), &times, 0) == 0)
        #expect(
            await first.waitForBatches(within: .seconds(10)) {
                WatchHarness.apply($0, to: []).contains { $0.path == "kept.csv" && $0.mtimeNanos == 1_600_000_000 * 1_000_000_000 }
            })
        await first.stop()
        #expect(first.events.map(\.path) == ["kept.csv"])
        let second = try await WatchHarness.start(.test(tree), snapshot: first.snapshot)
        tree.write("marker", "")
        #expect(await second.waitFor(.created, "marker"))
        await second.stop()
        #expect(second.events.map(\.path) == ["marker"])
    }
}

@Suite("Settling with odd mtimes")
struct SettleMtimeTests {
    /// Clients that preserve timestamps may set an mtime in the future (skewed clocks) or far in
    /// the past: neither may hold a file back forever nor skip the settle time.
    @Test func settleIsMeasuredByObservationNotByMtime() async throws {
        let tree = TempTree()
        let settle = Duration.milliseconds(500)
        let harness = try await WatchHarness.start(.test(tree, settle: settle))
        tree.write("future.dat", "f")
        var future = [timespec(tv_sec: time(nil) + 86_400, tv_nsec: 0), timespec(tv_sec: time(nil) + 86_400, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, tree.at("future.dat"), &future, 0) == 0)
        let start = ContinuousClock.now
        tree.write("old.dat", "o")
        var old = [timespec(tv_sec: 1_000_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, tree.at("old.dat"), &old, 0) == 0)
        #expect(await harness.waitFor(.created, "future.dat", within: .seconds(10)))
        #expect(await harness.waitFor(.created, "old.dat", within: .seconds(10)))
        #expect(ContinuousClock.now - start >= settle - .milliseconds(50))
        await harness.stop()
        #expect(harness.events.count == 2)
    }
}
