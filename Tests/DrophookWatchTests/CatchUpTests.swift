import DrophookEvents
import DrophookTestSupport
import Foundation
import Glibc
import Testing

@testable import DrophookWatch

@Suite("Start-up and catch-up")
struct CatchUpTests {
    @Test func firstStartRecordsTheTreeSilently() async throws {
        let tree = TempTree()
        tree.mkdir("old")
        tree.write("old/a.txt", "a")
        let harness = try await WatchHarness.start(.test(tree))
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        await harness.stop()
        #expect(harness.events.map(\.path) == ["marker"])
        #expect(Set(harness.snapshot.map(\.path)) == ["", "old", "old/a.txt", "marker"])
    }

    @Test func restartReportsExactlyWhatChangedWhileDown() async throws {
        let tree = TempTree()
        tree.mkdir("keep")
        tree.write("keep/same.txt", "same")
        tree.write("gone.txt", "gone")
        tree.write("grown.txt", "g")
        tree.mkdir("olddir/inner")
        tree.write("olddir/inner/x", "x")
        let first = try await WatchHarness.start(.test(tree))
        await first.stop()
        let stored = first.snapshot
        #expect(first.events.isEmpty)

        tree.write("new.txt", "new")
        tree.remove("gone.txt")
        tree.write("grown.txt", "more", append: true)
        tree.remove("olddir")
        tree.mkdir("newdir")

        let second = try await WatchHarness.start(.test(tree), snapshot: stored)
        #expect(await second.waitForEvents { $0.count == 7 })
        tree.write("marker", "")
        #expect(await second.waitFor(.created, "marker"))
        await second.stop()
        let events = second.events.filter { $0.path != "marker" }
        #expect(
            Set(events.map { "\($0.kind) \($0.path)" }) == [
                "created new.txt", "deleted gone.txt", "created grown.txt", "created newdir",
                "deleted olddir/inner/x", "deleted olddir/inner", "deleted olddir",
            ])
        #expect(events.count == 7)
        #expect(events.allSatisfy { $0.foundByScan })
        let deleted = events.paths(.deleted)
        #expect(deleted.firstIndex(of: "olddir/inner/x")! < deleted.firstIndex(of: "olddir")!)
        #expect(events.first { $0.path == "grown.txt" }?.size == 5)
        // The stored snapshot now matches the disk again.
        let after = WatchHarness.apply(second.allBatches, to: stored)
        let disk = tree.scan()
        #expect(Set(after.map(\.path)) == disk.files.union(disk.directories).union([""]))
    }

    /// A first start over a large tree commits its records in several batches; the root's record
    /// comes last. A first start cut off after some batches leaves no root record, so the next
    /// start records again silently: the files the cut-off start never recorded are not new.
    @Test func firstStartInBatchesCutShortIsRecordedAgainSilently() async throws {
        let tree = TempTree("startup-batches")
        for directory in 0..<4 {
            tree.mkdir("d\(directory)")
            for file in 0..<10 { tree.write("d\(directory)/f\(file).csv", "\(file)") }
        }
        var configuration = WatcherConfiguration.test(tree)
        configuration.startupBatchChanges = 8
        let first = try await WatchHarness.start(configuration)
        await first.stop()
        let batches = first.allBatches
        #expect(first.events.isEmpty)
        #expect(batches.count >= 4, "44 records in batches of about 8 (whole directories)")
        #expect(batches.dropLast().allSatisfy { batch in !batch.snapshot.upserts.contains { $0.path == "" } })
        #expect(batches.last?.snapshot.upserts.contains { $0.path == "" } == true)
        #expect(Set(first.snapshot.map(\.path)).count == 45)

        // The agent was killed after the first two batches were committed.
        let cut = WatchHarness.apply(Array(batches.prefix(2)), to: [])
        #expect(!cut.contains { $0.path == "" } && !cut.isEmpty)
        let second = try await WatchHarness.start(configuration, snapshot: cut)
        tree.write("marker", "")
        #expect(await second.waitFor(.created, "marker"))
        await second.stop()
        #expect(second.events.map(\.path) == ["marker"], "nothing from the cut-off start is reported as new")
        let after = WatchHarness.apply(second.allBatches, to: cut)
        #expect(Set(after.map(\.path)) == Set(first.snapshot.map(\.path)).union(["marker"]))
    }

    @Test func catchUpOffRecordsDifferencesSilently() async throws {
        let tree = TempTree()
        tree.write("a.txt", "a")
        let first = try await WatchHarness.start(.test(tree))
        await first.stop()
        tree.write("b.txt", "b")
        tree.remove("a.txt")
        let second = try await WatchHarness.start(.test(tree, catchUp: false), snapshot: first.snapshot)
        tree.write("marker", "")
        #expect(await second.waitFor(.created, "marker"))
        await second.stop()
        #expect(second.events.map(\.path) == ["marker"])
        let after = WatchHarness.apply(second.allBatches, to: first.snapshot)
        #expect(Set(after.map(\.path)) == ["", "b.txt", "marker"])
    }

    @Test func emptyTreeRestartStillCatchesUp() async throws {
        let tree = TempTree()
        let first = try await WatchHarness.start(.test(tree))
        await first.stop()
        #expect(first.snapshot.map(\.path) == [""])
        tree.write("arrived.txt", "while down")
        let second = try await WatchHarness.start(.test(tree), snapshot: first.snapshot)
        #expect(await second.waitFor(.created, "arrived.txt"))
        await second.stop()
        #expect(second.events.first?.foundByScan == true)
    }
}

@Suite("Actors, preflight and several watches")
struct ActorAndPreflightTests {
    @Test func actorRulesParse() throws {
        #expect(try ActorRule(parsing: "owner") == .owner)
        #expect(try ActorRule(parsing: "path:2") == .pathSegment(2))
        #expect(try ActorRule(parsing: "fixed:partner-a") == .fixed("partner-a"))
        for bad in ["path:0", "path:x", "fixed:", "user", ""] {
            #expect(throws: ActorRuleError.self) { try ActorRule(parsing: bad) }
        }
    }

    @Test func actorsFollowTheRule() async throws {
        let tree = TempTree()
        let other = TempTree("fixed")
        let owners = TempTree("owner")
        var configuration = WatcherConfiguration.test(tree, actor: .pathSegment(1))
        configuration.watches.append(WatchConfiguration(name: "fixed", root: other.path, actor: .fixed("partner")))
        configuration.watches.append(WatchConfiguration(name: "owner", root: owners.path, actor: .owner))
        let harness = try await WatchHarness.start(configuration)
        tree.mkdir("alice/in")
        tree.write("alice/in/x.csv", "x")
        other.write("y.csv", "y")
        owners.write("z.csv", "z")
        #expect(await harness.waitFor(.created, "alice/in/x.csv"))
        #expect(await harness.waitFor(.created, "y.csv"))
        #expect(await harness.waitFor(.created, "z.csv"))
        await harness.stop()
        let events = harness.events
        #expect(events.first { $0.path == "alice/in/x.csv" }?.actor == "alice")
        #expect(events.first { $0.path == "y.csv" }?.actor == "partner")
        #expect(events.first { $0.path == "y.csv" }?.watch == "fixed")
        let expectedOwner = getuid() == 0 ? "root" : String(cString: getpwuid(getuid()).pointee.pw_name)
        #expect(events.first { $0.path == "z.csv" }?.actor == expectedOwner)
    }

    @Test func deepestRootOwnsTheEvent() async throws {
        let tree = TempTree()
        tree.mkdir("inner")
        var configuration = WatcherConfiguration.test(tree, name: "outer")
        configuration.watches.append(WatchConfiguration(name: "inner", root: tree.at("inner")))
        let harness = try await WatchHarness.start(configuration)
        tree.write("inner/deep.txt", "d")
        tree.write("top.txt", "t")
        #expect(await harness.waitFor(.created, "deep.txt"))
        #expect(await harness.waitFor(.created, "top.txt"))
        await harness.stop()
        let events = harness.events
        #expect(events.count == 2)
        #expect(events.first { $0.path == "deep.txt" }?.watch == "inner")
        #expect(events.first { $0.path == "top.txt" }?.watch == "outer")
    }

    @Test func preflightNamesMissingAndWrongRoots() throws {
        let tree = TempTree()
        tree.mkdir("a/b")
        tree.write("file", "")
        let configuration = WatcherConfiguration(watches: [
            WatchConfiguration(name: "ok", root: tree.path),
            WatchConfiguration(name: "missing", root: tree.at("nope")),
            WatchConfiguration(name: "file", root: tree.at("file")),
        ])
        let problems = WatchPreflight.check(configuration)
        #expect(problems.count == 2)
        #expect(
            problems.contains {
                $0.severity == .warning && $0.message.contains("\(tree.at("nope")) does not exist yet; it is watched when it appears")
            })
        #expect(problems.contains { $0.severity == .error && $0.message.contains("not a directory") })
        var problemsSink: [WatchProblem] = []
        #expect(WatchPreflight.countDirectories(root: tree.path, otherRoots: [:], watch: "ok", problems: &problemsSink) == 3)
    }

    @Test func preflightWarnsNearTheWatchLimit() throws {
        let tree = TempTree()
        for index in 0..<9 { tree.mkdir("d\(index)") }
        let configuration = WatcherConfiguration(watches: [WatchConfiguration(name: "big", root: tree.path)])
        // 10 directories (root included) against limits of 100, 12 and 8.
        #expect(WatchPreflight.check(configuration, maxUserWatches: 100).isEmpty)
        let near = WatchPreflight.check(configuration, maxUserWatches: 12)
        #expect(near.count == 1)
        #expect(near.first?.severity == .warning)
        #expect(near.first?.message.contains("fs.inotify.max_user_watches (12)") == true)
        let over = WatchPreflight.check(configuration, maxUserWatches: 8)
        #expect(over.first?.severity == .error)
    }
}

@Suite("Watch limit")
struct WatchLimitTests {
    /// The kernel's own limit, lowered for the test: `fs.inotify.max_user_watches` is set to
    /// the watches root holds now plus three, so the fourth and fifth directories of the tree
    /// get no watch (ENOSPC from `inotify_add_watch`), and restored after.
    @Test(.requires(.root)) func directoriesBeyondTheLimitAreRescannedNotSkipped() async throws {
        let tree = TempTree("limit")
        for name in ["a", "b", "c", "d"] { tree.mkdir(name) }
        var configuration = WatcherConfiguration.test(tree)
        configuration.unwatchedRetryInterval = .milliseconds(200)
        let limit = try InotifyWatchLimit(headroom: 3)
        defer { limit.restore() }
        let harness = try await WatchHarness.start(configuration)
        let health = harness.watcher.health
        #expect(health.watchLimitReached)
        #expect(health.watchedDirectories == 3)
        #expect(health.unwatchedDirectories == 2)
        #expect(health.watchesNeeded == 5)
        #expect(health.maxUserWatches == limit.lowered)
        for name in ["a", "b", "c", "d"] { tree.write("\(name)/file.txt", name) }
        // Watched directories report live; the others are found by the periodic rescan.
        #expect(await harness.waitForEvents { $0.paths(.created).count == 4 })
        await harness.stop()
        limit.restore()
        #expect(Set(harness.events.paths(.created)) == ["a/file.txt", "b/file.txt", "c/file.txt", "d/file.txt"])
        #expect(harness.events.filter { $0.foundByScan }.count == 2)
    }
}

/// `fs.inotify.max_user_watches` lowered to what root's processes hold now plus `headroom`
/// (counted from every `/proc/PID/fdinfo` of a root process), and put back by ``restore()``.
/// The limit is per user: only root's new watches meet it while it is lowered, and the tests
/// run one at a time.
final class InotifyWatchLimit: Sendable {
    static let path = "/proc/sys/fs/inotify/max_user_watches"
    let original: Int
    let lowered: Int

    init(headroom: Int) throws {
        original = Int(try String(contentsOfFile: Self.path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        lowered = Self.watchesHeldByRoot() + headroom
        try String(lowered).write(toFile: Self.path, atomically: false, encoding: .utf8)
    }

    func restore() {
        try? String(original).write(toFile: Self.path, atomically: false, encoding: .utf8)
    }

    /// Every inotify watch of every process whose real uid is 0: one `inotify wd:` line each.
    static func watchesHeldByRoot() -> Int {
        let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var count = 0
        for pid in processes where pid.allSatisfy(\.isNumber) {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                status.split(separator: "\n").contains(where: { $0.hasPrefix("Uid:\t0\t") })
            else { continue }
            for fd in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fdinfo")) ?? [] {
                guard let info = try? String(contentsOfFile: "/proc/\(pid)/fdinfo/\(fd)", encoding: .utf8) else { continue }
                count += info.split(separator: "\n").filter { $0.hasPrefix("inotify wd:") }.count
            }
        }
        return count
    }
}
