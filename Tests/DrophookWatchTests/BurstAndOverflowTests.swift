import DrophookEvents
import Foundation
import Glibc
import Testing

@testable import DrophookWatch

@Suite("Bursts and queue overflow")
struct BurstAndOverflowTests {
    /// 2,000 fresh 4-level trees with 5 files each, created as fast as possible: every file is
    /// reported exactly once although most directories exist before their watch does.
    @Test(.timeLimit(.minutes(5)))
    func burstOfFreshNestedTreesMissesNothing() async throws {
        let tree = TempTree("burst")
        let harness = try await WatchHarness.start(.test(tree))
        let started = ContinuousClock.now
        for index in 0..<2000 {
            let directory = "t\(index)/a/b/c"
            tree.mkdir(directory)
            for file in 0..<5 { tree.write("\(directory)/f\(file).dat", "\(index)-\(file)") }
        }
        let complete = await harness.waitForEvents(within: .seconds(120)) { $0.paths(.created, directories: false).count >= 10_000 }
        #expect(complete)
        // Let anything extra (a duplicate) arrive before counting.
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        await harness.stop()
        print("burst: 10,000 files in 2,000 trees reported in \(ContinuousClock.now - started)")
        let disk = tree.scan()
        let files = harness.events.paths(.created, directories: false)
        let directories = harness.events.paths(.created, directories: true)
        #expect(files.count == disk.files.count)
        #expect(Set(files) == disk.files)
        #expect(directories.count == disk.directories.count)
        #expect(Set(directories) == disk.directories)
        #expect(harness.events.allSatisfy { $0.kind == .created })
    }

    /// The reader is stalled until the kernel queue overflows; the rescan reports what was lost.
    @Test(.timeLimit(.minutes(3)))
    func overflowIsRecoveredByARescan() async throws {
        let tree = TempTree("overflow")
        tree.write("before.txt", "b")
        tree.write("doomed.txt", "d")
        // Watched from the start: records for its files queue up while the reader is stalled.
        tree.mkdir("many")
        let configuration = WatcherConfiguration.test(tree)
        var faults = WatcherFaults()
        let gate = faults.gateReader()
        let harness = try await WatchHarness.start(configuration, faults: faults)
        gate.close()
        // Each file is 3 records (create, open, close-write): 21,000 > 16,384.
        for index in 0..<7000 { tree.write("many/f\(index)", "\(index)") }
        tree.remove("doomed.txt")
        tree.mkdir("nested/x/y")
        tree.write("nested/x/y/deep.txt", "deep")
        gate.open()
        let recovered = await harness.waitForEvents(within: .seconds(60)) { events in
            events.paths(.created, directories: false).count >= 7001 && events.contains { $0.path == "doomed.txt" }
        }
        #expect(recovered)
        #expect(harness.watcher.health.overflows >= 1)
        #expect(harness.watcher.health.rescans >= 1)
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        let disk = tree.scan()
        let files = harness.events.paths(.created, directories: false)
        #expect(files.count == Set(files).count, "duplicate created events")
        #expect(Set(files) == disk.files.subtracting(["before.txt"]))
        #expect(harness.events.paths(.deleted) == ["doomed.txt"])
        #expect(Set(harness.events.paths(.created, directories: true)) == ["nested", "nested/x", "nested/x/y"])
        // Still watched after the recovery.
        tree.write("nested/x/y/after.txt", "a")
        #expect(await harness.waitFor(.created, "nested/x/y/after.txt"))
        #expect(harness.events.filter { $0.path.hasPrefix("many/") }.contains { $0.foundByScan })
        let stored = Set(harness.snapshot.map(\.path))
        await harness.stop()
        #expect(stored.isSuperset(of: disk.files.union(disk.directories).union([""])))
    }
}

@Suite("Records read late")
struct LateReadingTests {
    /// When the reader falls behind, names are often gone by the time their records are read:
    /// the final names are still reported once each, and nothing is invented.
    @Test func finalNamesAreReportedWhenRecordsAreReadLate() async throws {
        let tree = TempTree("late")
        let configuration = WatcherConfiguration.test(tree)
        var faults = WatcherFaults()
        let gate = faults.gateReader()
        let harness = try await WatchHarness.start(configuration, faults: faults)
        gate.close()
        tree.write("a.csv", "aaaa")
        #expect(rename(tree.at("a.csv"), tree.at("b.csv")) == 0)
        tree.write("t.csv.filepart", "tt")
        #expect(link(tree.at("t.csv.filepart"), tree.at("t.csv")) == 0)
        #expect(unlink(tree.at("t.csv.filepart")) == 0)
        tree.write(".y.csv.partial", "yyy")
        #expect(rename(tree.at(".y.csv.partial"), tree.at("y.csv")) == 0)
        tree.write("gone.csv", "g")
        #expect(unlink(tree.at("gone.csv")) == 0)
        gate.open()
        #expect(await harness.waitForEvents { Set($0.paths(.created)).isSuperset(of: ["b.csv", "t.csv", "y.csv"]) })
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        await harness.stop()
        let events = harness.events.filter { $0.path != "marker" }
        #expect(Set(events.map { "\($0.kind) \($0.path)" }) == ["created b.csv", "created t.csv", "created y.csv"])
        #expect(events.count == 3)
        #expect(events.first { $0.path == "b.csv" }?.size == 4)
    }
}
