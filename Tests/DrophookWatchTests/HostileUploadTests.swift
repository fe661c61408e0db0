import DrophookEvents
import Foundation
import Glibc
import Testing

@testable import DrophookWatch

/// What a hostile or careless client can put in a drop tree: a FIFO under a file's name,
/// symlink loops, a file nobody may read, a sparse file past 4 GiB, a hard link to a file
/// outside the tree. The watcher never blocks, never follows a link out of the tree, and
/// reports each name once, as what it is.
@Suite("Hostile uploads")
struct HostileUploadTests {
    @Test(.timeLimit(.minutes(1)))
    func oddEntriesNeitherBlockNorLeaveTheTree() async throws {
        let tree = TempTree("hostile")
        let harness = try await WatchHarness.start(.test(tree))
        // A FIFO named like an upload: opening it for reading would block until a writer came.
        #expect(mkfifo(tree.at("report.csv"), 0o644) == 0)
        // Symlink loops, one to itself and two to each other, and one out of the tree.
        #expect(symlink("self", tree.at("self")) == 0)
        #expect(symlink("b", tree.at("a")) == 0 && symlink("a", tree.at("b")) == 0)
        #expect(symlink("/etc", tree.at("etc")) == 0)
        // A file nobody may read.
        tree.write("locked.csv", "secret")
        #expect(chmod(tree.at("locked.csv"), 0) == 0)
        // Past 4 GiB, without the disk space: the size must not wrap at 32 bits.
        let sparse = open(tree.at("huge.bin"), O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        #expect(sparse >= 0 && ftruncate(sparse, 5 << 30) == 0)
        close(sparse)
        // A hard link to a file outside the tree is a file in the tree: its name, never its path elsewhere.
        tree.write("outside-source", "x")
        let outside = TempTree("outside")
        outside.write("private.txt", "private")
        #expect(link(outside.at("private.txt"), tree.at("linked.txt")) == 0)
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        #expect(await harness.waitForEvents { Set($0.paths(.created)).isSuperset(of: ["locked.csv", "huge.bin", "linked.txt"]) })
        await harness.stop()

        let created = harness.events.filter { $0.kind == .created }
        #expect(
            Set(created.map(\.path)) == ["locked.csv", "huge.bin", "linked.txt", "outside-source", "marker"],
            "no FIFO, no symlink (ignored by default), nothing from /etc: \(created.map(\.path))")
        #expect(created.count == 5, "each once")
        #expect(created.first { $0.path == "huge.bin" }?.size == 5 << 30)
        #expect(created.first { $0.path == "locked.csv" }?.size == 6)
        #expect(created.allSatisfy { !$0.path.contains("etc/") && !$0.path.hasPrefix("/") })
    }

    /// With symlinks reported, a loop is reported as the link it is, never followed.
    @Test(.timeLimit(.minutes(1)))
    func reportedSymlinkLoopsAreLinksNotDirectories() async throws {
        let tree = TempTree("loops")
        let harness = try await WatchHarness.start(.test(tree, symlinks: .report))
        tree.mkdir("d")
        #expect(symlink("..", tree.at("d/up")) == 0)
        #expect(symlink("self", tree.at("self")) == 0)
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        #expect(await harness.waitForEvents { Set($0.paths(.created)).isSuperset(of: ["d/up", "self"]) })
        await harness.stop()
        #expect(Set(harness.events.paths(.created)) == ["d", "d/up", "self", "marker"])
    }
}

@Suite("Hostile uploads: a flood of directories")
struct DirectoryFloodTests {
    /// 100,000 empty directories made as fast as one process can: every one gets its watch and
    /// its `created`, and a file in the last one is still seen. Needs a watch limit above
    /// 100,000 (raised here as root when lower, as `drophook check` tells an operator to).
    @Test(.timeLimit(.minutes(3)))
    func aHundredThousandDirectoriesAreAllWatched() async throws {
        let needed = 110_000
        let limit = WatchPreflight.maxUserWatches() ?? 0
        if limit < needed {
            try #require(getuid() == 0, "fs.inotify.max_user_watches is \(limit); raising it needs root")
            try "\(needed)\n".write(toFile: "/proc/sys/fs/inotify/max_user_watches", atomically: false, encoding: .utf8)
        }
        defer {
            if limit < needed {
                try? "\(limit)\n".write(toFile: "/proc/sys/fs/inotify/max_user_watches", atomically: false, encoding: .utf8)
            }
        }
        let tree = TempTree("flood")
        var configuration = WatcherConfiguration.test(tree)
        configuration.idleFileCompaction = .seconds(10)
        let harness = try await WatchHarness.start(configuration)
        let count = 100_000
        for index in 0..<count {
            // Ten parents, so no directory holds more than 10,000 entries.
            if index < 10 { #expect(mkdir(tree.at("p\(index)"), 0o755) == 0) }
            #expect(mkdir(tree.at("p\(index % 10)/d\(index)"), 0o755) == 0)
        }
        tree.write("p9/d\(count - 1)/last.csv", "last")
        #expect(await harness.waitFor(.created, "p9/d\(count - 1)/last.csv", within: .seconds(120)))
        #expect(harness.watcher.health.watchedDirectories == count + 11)
        await harness.stop()
        let directories = harness.events.filter { $0.kind == .created && $0.isDirectory }
        #expect(directories.count == count + 10)
        #expect(Set(directories.map(\.path)).count == count + 10, "each once")
    }
}
