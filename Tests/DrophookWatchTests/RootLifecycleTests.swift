import DrophookEvents
import DrophookTestSupport
import Foundation
import Glibc
import Testing

@testable import DrophookWatch

/// Watch roots that are not there at start, or go and come back while the agent runs: each is
/// watched as soon as it is a directory, and a root the agent was told to watch is never
/// mistaken for a first start.
@Suite("Roots that come and go")
struct RootLifecycleTests {
    private static func configuration(_ base: TempTree) -> WatcherConfiguration {
        var configuration = WatcherConfiguration.test(base)
        configuration.watches[0].root = base.at("root")
        configuration.rootRetryInterval = .milliseconds(100)
        return configuration
    }

    @Test func aRootMissingAtStartIsWatchedWhenItAppears() async throws {
        let base = TempTree("late-root")
        let harness = try await WatchHarness.start(Self.configuration(base))
        #expect(harness.watcher.health.unavailableRoots == [base.at("root")])
        // Made with its first file already in it, as a mount or an `mv` of a filled directory does.
        base.mkdir("root.new/sub")
        base.write("root.new/sub/early.csv", "early")
        #expect(rename(base.at("root.new"), base.at("root")) == 0)
        #expect(await harness.waitFor(.created, "sub/early.csv"))
        #expect(await pollUntil(within: .seconds(10)) { harness.watcher.health.unavailableRoots.isEmpty })
        base.write("root/live.csv", "live")
        #expect(await harness.waitFor(.created, "live.csv"))
        await harness.stop()
        #expect(harness.events.map { "\($0.kind) \($0.path)" } == ["created sub", "created sub/early.csv", "created live.csv"])
        #expect(harness.events.first { $0.path == "sub/early.csv" }?.foundByScan == true)
        #expect(harness.events.first { $0.path == "live.csv" }?.foundByScan == false)
    }

    @Test func aRemovedRootIsWatchedAgainWhenRecreated() async throws {
        let base = TempTree("recreated-root")
        base.mkdir("root")
        base.write("root/old.csv", "old")
        let harness = try await WatchHarness.start(Self.configuration(base))
        base.remove("root")
        #expect(await harness.waitFor(.deleted, "old.csv"))
        #expect(await pollUntil(within: .seconds(10)) { harness.watcher.health.unavailableRoots == [base.at("root")] })
        base.mkdir("root")
        #expect(await pollUntil(within: .seconds(10)) { harness.watcher.health.unavailableRoots.isEmpty })
        base.write("root/new.csv", "new")
        #expect(await harness.waitFor(.created, "new.csv"))
        await harness.stop()
        #expect(harness.events.map { "\($0.kind) \($0.path)" } == ["deleted old.csv", "created new.csv"])
        #expect(Set(harness.snapshot.map(\.path)) == ["", "new.csv"])
    }

    /// A root that is a mount point (a tmpfs here, an NFS export or a disk in the field),
    /// unmounted and mounted again under the watcher: what was on it is deleted at the unmount,
    /// the directory the mount covered is watched in its place, and the tree mounted again is
    /// watched and reported.
    @Test(.requires(.root)) func anUnmountedRootIsReportedAndWatchedAgainWhenMounted() async throws {
        let base = TempTree("unmounted-root")
        base.mkdir("root")
        try ChildProcess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", base.at("root")], within: .seconds(20))
        var mounted = true
        defer { if mounted { _ = try? ChildProcess.run("/bin/umount", ["-l", base.at("root")], within: .seconds(20)) } }
        base.write("root/on-disk.csv", "mounted")
        let harness = try await WatchHarness.start(Self.configuration(base))
        try ChildProcess.run("/bin/umount", [base.at("root")], within: .seconds(20))
        mounted = false
        #expect(await harness.waitFor(.deleted, "on-disk.csv"))
        base.write("root/under-the-mount.csv", "hidden later")
        #expect(await harness.waitFor(.created, "under-the-mount.csv"))
        try ChildProcess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", base.at("root")], within: .seconds(20))
        mounted = true
        base.write("root/remounted.csv", "again")
        #expect(await harness.waitFor(.created, "remounted.csv"))
        await harness.stop()
        #expect(
            harness.events.map { "\($0.kind) \($0.path)" }
                == ["deleted on-disk.csv", "created under-the-mount.csv", "deleted under-the-mount.csv", "created remounted.csv"])
    }

    @Test func aRootMovedAwayAndAnotherPutInItsPlaceIsWatched() async throws {
        let base = TempTree("moved-root")
        base.mkdir("root")
        base.write("root/kept.csv", "kept")
        let harness = try await WatchHarness.start(Self.configuration(base))
        #expect(rename(base.at("root"), base.at("root.old")) == 0)
        #expect(await harness.waitFor(.deleted, "kept.csv"))
        // Writes in the moved-away tree are no longer this watch's.
        base.write("root.old/after.csv", "after")
        base.mkdir("root")
        #expect(await pollUntil(within: .seconds(10)) { harness.watcher.health.unavailableRoots.isEmpty })
        base.write("root/marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        await harness.stop()
        #expect(harness.events.map { "\($0.kind) \($0.path)" } == ["deleted kept.csv", "created marker"])
    }

    /// The agent ran with the watch configured while its root was missing; files that arrive
    /// before the next start are reported then, not recorded silently as a first start's.
    @Test func aRootMissingWhileTheAgentRanIsNoFirstStartLater() async throws {
        let base = TempTree("no-first-start")
        let configuration = Self.configuration(base)
        let first = try await WatchHarness.start(configuration)
        await first.stop()
        #expect(first.events.isEmpty)
        #expect(first.snapshot.map(\.path) == [""], "the root's record marks the watch as having run")
        base.mkdir("root")
        base.write("root/while-stopped.csv", "x")
        let second = try await WatchHarness.start(configuration, snapshot: first.snapshot)
        #expect(await second.waitFor(.created, "while-stopped.csv"))
        await second.stop()
        #expect(second.events.map(\.path) == ["while-stopped.csv"])
    }

    /// A root missing at start-up (an unmounted file system, say) comes back as it was, with one
    /// file changed and one gone: only those two are news.
    @Test func aReturningRootIsComparedWithItsSnapshot() async throws {
        let base = TempTree("returning-root")
        base.mkdir("root")
        base.write("root/same.csv", "same")
        base.write("root/changed.csv", "v1")
        base.write("root/gone.csv", "gone")
        let configuration = Self.configuration(base)
        let first = try await WatchHarness.start(configuration)
        await first.stop()
        #expect(rename(base.at("root"), base.at("away")) == 0)
        let second = try await WatchHarness.start(configuration, snapshot: first.snapshot)
        #expect(second.watcher.health.unavailableRoots == [base.at("root")])
        base.write("away/changed.csv", "version 2")
        base.remove("away/gone.csv")
        #expect(rename(base.at("away"), base.at("root")) == 0)
        #expect(await second.waitFor(.created, "changed.csv"))
        #expect(await second.waitFor(.deleted, "gone.csv"))
        await second.stop()
        #expect(Set(second.events.map { "\($0.kind) \($0.path)" }) == ["created changed.csv", "deleted gone.csv"])
        let after = WatchHarness.apply(second.allBatches, to: first.snapshot)
        #expect(Set(after.map(\.path)) == ["", "same.csv", "changed.csv"])
    }
}
