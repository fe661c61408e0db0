import DrophookEvents
import DrophookTestSupport
import Foundation
import Glibc
import Testing

@testable import DrophookWatch

@Suite("Renames, moves and deletes")
struct RenameAndTreeTests {
    /// OpenSSH's plain SFTP rename: link() to the new name, then unlink() of the old one.
    @Test func linkThenUnlinkRenameIsDeletedAndCreated() async throws {
        let tree = TempTree()
        let harness = try await WatchHarness.start(.test(tree))
        tree.write("a.txt", "abc")
        #expect(await harness.waitFor(.created, "a.txt"))
        #expect(link(tree.at("a.txt"), tree.at("b.txt")) == 0)
        #expect(unlink(tree.at("a.txt")) == 0)
        #expect(await harness.waitFor(.created, "b.txt"))
        #expect(await harness.waitFor(.deleted, "a.txt"))
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        await harness.stop()
        let events = harness.events.map { "\($0.kind) \($0.path)" }
        #expect(events == ["created a.txt", "created b.txt", "deleted a.txt", "created marker"])
        #expect(harness.events[1].size == 3)
    }

    @Test func linkThenUnlinkOfTempNameIsOneCreated() async throws {
        let tree = TempTree()
        let harness = try await WatchHarness.start(.test(tree))
        tree.write("z.csv.filepart", "payload")
        #expect(link(tree.at("z.csv.filepart"), tree.at("z.csv")) == 0)
        #expect(unlink(tree.at("z.csv.filepart")) == 0)
        #expect(await harness.waitFor(.created, "z.csv"))
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        await harness.stop()
        #expect(harness.events.map(\.path) == ["z.csv", "marker"])
        #expect(harness.events.first?.size == 7)
    }

    /// posix-rename@openssh.com: rename(2).
    @Test func renameIsDeletedAndCreated() async throws {
        let tree = TempTree()
        let harness = try await WatchHarness.start(.test(tree))
        tree.write("c.txt", "c")
        #expect(await harness.waitFor(.created, "c.txt"))
        #expect(rename(tree.at("c.txt"), tree.at("d.txt")) == 0)
        #expect(await harness.waitFor(.created, "d.txt"))
        await harness.stop()
        let events = harness.events.map { "\($0.kind) \($0.path)" }
        #expect(events == ["created c.txt", "deleted c.txt", "created d.txt", "renamed d.txt"])
        let all = harness.events
        // The pair that says the same is marked, so an endpoint taking file.renamed gets one event.
        #expect(all.map(\.partOfRename) == [false, true, true, false])
        #expect(all.last?.previousPath == "c.txt")
        #expect(all.last?.size == all[2].size)
    }

    @Test func directoryMovedInIsScanned() async throws {
        let tree = TempTree()
        let outside = TempTree("outside")
        outside.mkdir("batch/inner")
        outside.write("batch/one.csv", "1")
        outside.write("batch/inner/two.csv", "22")
        // Older than the scan's settle window: finished long ago.
        let harness = try await WatchHarness.start(.test(tree))
        #expect(rename(outside.at("batch"), tree.at("batch")) == 0)
        #expect(await harness.waitForEvents { $0.count == 4 })
        tree.write("batch/inner/three.csv", "333")
        #expect(await harness.waitFor(.created, "batch/inner/three.csv"))
        await harness.stop()
        let events = harness.events
        #expect(Set(events.map(\.path)) == ["batch", "batch/one.csv", "batch/inner", "batch/inner/two.csv", "batch/inner/three.csv"])
        #expect(events.first { $0.path == "batch" }?.foundByScan == false)
        #expect(events.first { $0.path == "batch/one.csv" }?.foundByScan == true)
        #expect(events.first { $0.path == "batch/inner/two.csv" }?.size == 2)
        #expect(events.allSatisfy { $0.kind == .created })
    }

    @Test func directoryMovedOutIsDeletedChildrenFirst() async throws {
        let tree = TempTree()
        let outside = TempTree("outside")
        tree.mkdir("out/sub")
        tree.write("out/sub/f.txt", "f")
        let harness = try await WatchHarness.start(.test(tree, catchUp: false))
        #expect(rename(tree.at("out"), outside.at("out")) == 0)
        #expect(await harness.waitForEvents { $0.count == 3 })
        // Writes in the moved-away directory are no longer ours.
        outside.write("out/sub/later.txt", "x")
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        await harness.stop()
        let events = harness.events.map { "\($0.kind) \($0.path)" }
        #expect(events == ["deleted out/sub/f.txt", "deleted out/sub", "deleted out", "created marker"])
    }

    @Test func directoryRenamedInsideRepathsEverythingUnderIt() async throws {
        let tree = TempTree()
        let harness = try await WatchHarness.start(.test(tree))
        tree.mkdir("in/sub")
        tree.write("in/sub/old.txt", "o")
        #expect(await harness.waitFor(.created, "in/sub/old.txt"))
        #expect(rename(tree.at("in"), tree.at("done")) == 0)
        #expect(await harness.waitFor(.created, "done/sub/old.txt"))
        tree.write("done/sub/new.txt", "n")
        #expect(await harness.waitFor(.created, "done/sub/new.txt"))
        tree.remove("done/sub/old.txt")
        #expect(await harness.waitFor(.deleted, "done/sub/old.txt"))
        await harness.stop()
        let events = harness.events
        let deletedOld = events.paths(.deleted)
        #expect(deletedOld.prefix(3) == ["in/sub/old.txt", "in/sub", "in"])
        #expect(!events.contains { $0.path == "in/sub/new.txt" })
        #expect(events.filter { $0.path == "done/sub/new.txt" }.count == 1)
        #expect(!harness.snapshot.contains { $0.path.hasPrefix("in") })
        #expect(harness.snapshot.contains { $0.path == "done/sub/new.txt" })
    }

    @Test func recursiveDeleteIsOneDeletePerPathChildrenFirst() async throws {
        let tree = TempTree()
        tree.mkdir("a/b/c")
        for name in ["a/1", "a/b/2", "a/b/c/3", "a/b/c/4"] { tree.write(name, name) }
        let harness = try await WatchHarness.start(.test(tree, catchUp: false))
        tree.remove("a")
        #expect(await harness.waitFor(.deleted, "a"))
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        await harness.stop()
        let deleted = harness.events.paths(.deleted)
        #expect(Set(deleted) == ["a", "a/1", "a/b", "a/b/2", "a/b/c", "a/b/c/3", "a/b/c/4"])
        #expect(deleted.count == 7)
        for path in deleted {
            let parent = path.split(separator: "/").dropLast().joined(separator: "/")
            if !parent.isEmpty {
                #expect(deleted.firstIndex(of: path)! < deleted.firstIndex(of: parent)!, "\(path) after \(parent)")
            }
        }
        #expect(harness.snapshot.map(\.path).sorted() == ["", "marker"])
    }

    @Test func symlinksAreNeverReadThrough() async throws {
        let tree = TempTree()
        let outside = TempTree("outside")
        outside.write("secret", String(repeating: "s", count: 12345))
        let harness = try await WatchHarness.start(.test(tree, symlinks: .report))
        #expect(symlink(outside.at("secret"), tree.at("link")) == 0)
        #expect(symlink("/etc/shadow", tree.at("shadow")) == 0)
        #expect(await harness.waitFor(.created, "shadow"))
        #expect(await harness.waitFor(.created, "link"))
        #expect(mkfifo(tree.at("fifo"), 0o644) == 0)
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        await harness.stop()
        let events = harness.events
        #expect(events.count == 3)
        #expect(events.filter { $0.path != "marker" }.allSatisfy { $0.size == nil })
        #expect(!events.contains { $0.size == 12345 })
    }

    @Test func symlinksAreIgnoredByDefault() async throws {
        let tree = TempTree()
        let harness = try await WatchHarness.start(.test(tree))
        #expect(symlink("/etc/passwd", tree.at("link")) == 0)
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        await harness.stop()
        #expect(harness.events.map(\.path) == ["marker"])
    }
}

@Suite("Replacing, moving between watches, losing the root")
struct ReplaceAndRootTests {
    @Test func renameOverAnExistingFileIsOneCreated() async throws {
        let tree = TempTree()
        let harness = try await WatchHarness.start(.test(tree))
        tree.write("x.csv", "old")
        #expect(await harness.waitFor(.created, "x.csv"))
        tree.write("x.csv.filepart", "newer")
        #expect(rename(tree.at("x.csv.filepart"), tree.at("x.csv")) == 0)
        #expect(await harness.waitForEvents { $0.filter { $0.path == "x.csv" }.count == 2 })
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        await harness.stop()
        #expect(
            harness.events.map { "\($0.kind) \($0.path) \($0.size ?? -1)" } == [
                "created x.csv 3", "created x.csv 5", "created marker 0",
            ])
    }

    @Test func moveBetweenWatchesIsDeletedInOneCreatedInTheOther() async throws {
        let first = TempTree("first")
        let second = TempTree("second")
        var configuration = WatcherConfiguration.test(first, name: "first")
        configuration.watches.append(WatchConfiguration(name: "second", root: second.path))
        let harness = try await WatchHarness.start(configuration)
        first.write("m.csv", "m")
        #expect(await harness.waitFor(.created, "m.csv"))
        #expect(rename(first.at("m.csv"), second.at("moved.csv")) == 0)
        #expect(await harness.waitFor(.created, "moved.csv"))
        await harness.stop()
        #expect(
            harness.events.map { "\($0.kind) \($0.watch) \($0.path)" } == [
                "created first m.csv", "deleted first m.csv", "created second moved.csv",
            ])
    }

    @Test func removedRootDeletesItsTreeAndIsReported() async throws {
        let base = TempTree("base")
        base.mkdir("root/sub")
        base.write("root/sub/f", "f")
        var configuration = WatcherConfiguration.test(base)
        configuration.watches[0].root = base.at("root")
        let harness = try await WatchHarness.start(configuration)
        base.remove("root")
        #expect(await harness.waitFor(.deleted, "sub"))
        #expect(await pollUntil(within: .seconds(10)) { !harness.watcher.health.unavailableRoots.isEmpty })
        await harness.stop()
        #expect(harness.events.map { "\($0.kind) \($0.path)" } == ["deleted sub/f", "deleted sub"])
    }
}

@Suite("Directory uploads")
struct DirectoryUploadTests {
    /// A client uploads a directory under a working name and renames it when done.
    @Test func directoryRenamedAfterUploadEndsUpUnderItsFinalName() async throws {
        let tree = TempTree()
        let harness = try await WatchHarness.start(.test(tree))
        tree.mkdir("batch.tmp/part")
        tree.write("batch.tmp/part/one.csv", "1")
        tree.write("batch.tmp/two.csv", "22")
        #expect(rename(tree.at("batch.tmp"), tree.at("batch")) == 0)
        #expect(await harness.waitForEvents { Set($0.paths(.created)).isSuperset(of: ["batch/part/one.csv", "batch/two.csv"]) })
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        await harness.stop()
        // Whatever was reported under the working name is deleted again; the final tree is created once.
        let stored = Set(harness.snapshot.map(\.path))
        #expect(stored == ["", "batch", "batch/part", "batch/part/one.csv", "batch/two.csv", "marker"])
        var live = Set<String>()
        for event in harness.events {
            if event.kind == .created { #expect(live.insert(event.path).inserted, "\(event.path) created twice") }
            if event.kind == .deleted { #expect(live.remove(event.path) != nil, "\(event.path) deleted but not created") }
        }
        #expect(live == stored.subtracting([""]))
    }

    /// The client closes a file in its working directory and renames the directory before the
    /// watcher reads the close: the close is read under the old name, which is gone. The rename
    /// must still report the file, under the final name, once.
    @Test func fileClosedJustBeforeItsDirectoryIsRenamedIsReportedOnce() async throws {
        let tree = TempTree("late-directory-rename")
        let configuration = WatcherConfiguration.test(tree)
        var faults = WatcherFaults()
        let gate = faults.gateReader()
        let harness = try await WatchHarness.start(configuration, faults: faults)
        tree.mkdir("batch.tmp")
        #expect(await harness.waitFor(.created, "batch.tmp"))
        // The upload starts while the watcher keeps up: it knows the name and its writer.
        let fd = open(tree.at("batch.tmp/two.csv"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        tree.write("sync", "")
        #expect(await harness.waitFor(.created, "sync"))
        // Every record from here on is read after the directory has its final name.
        gate.close()
        #expect(write(fd, "22", 2) == 2)
        close(fd)
        #expect(rename(tree.at("batch.tmp"), tree.at("batch")) == 0)
        gate.open()
        #expect(await harness.waitFor(.created, "batch/two.csv"))
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        await harness.stop()
        let events = harness.events.filter { !["sync", "marker"].contains($0.path) }.map { "\($0.kind) \($0.path)" }
        #expect(events == ["created batch.tmp", "deleted batch.tmp", "created batch", "renamed batch", "created batch/two.csv"])
        #expect(harness.events.first { $0.path == "batch/two.csv" }?.size == 2)
        #expect(Set(harness.snapshot.map(\.path)) == ["", "batch", "batch/two.csv", "sync", "marker"])
    }

    /// A file found by the directory's listing is waiting to settle when the directory is
    /// renamed; the settle check looks at the old path before the rename is read. The rename
    /// must still report the file under the final name, once.
    @Test func settlingFileWhoseDirectoryIsRenamedIsReportedOnce() async throws {
        let tree = TempTree("settling-directory-rename")
        var configuration = WatcherConfiguration.test(tree)
        // The stability rule (no leases): files found by a scan wait for this unless their
        // mtime is already this old.
        configuration.leases = false
        configuration.scanSettle = .seconds(60)
        var faults = WatcherFaults()
        let gate = faults.gateReader()
        let harness = try await WatchHarness.start(configuration, faults: faults)
        // Both directories exist before their watches: their files are found by listings.
        gate.close()
        tree.mkdir("batch.tmp")
        tree.write("batch.tmp/two.csv", "22")
        tree.mkdir("other")
        tree.write("other/probe.csv", "p")
        gate.open()
        #expect(await harness.waitForEvents { Set($0.paths(.created)).isSuperset(of: ["batch.tmp", "other"]) })
        tree.write("sync", "")
        #expect(await harness.waitFor(.created, "sync"))
        // Every record from here on is read after the directory has its final name.
        gate.close()
        #expect(rename(tree.at("batch.tmp"), tree.at("batch")) == 0)
        let anHourAgo = timespec(tv_sec: time(nil) - 3600, tv_nsec: 0)
        for path in ["batch/two.csv", "other/probe.csv"] {
            #expect(utimensat(AT_FDCWD, tree.at(path), [anHourAgo, anHourAgo], 0) == 0)
        }
        // The probe is reported only by a settle check made after the rename, which also looked
        // for two.csv at its old path.
        #expect(await harness.waitFor(.created, "other/probe.csv"))
        gate.open()
        #expect(await harness.waitFor(.created, "batch/two.csv"))
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        await harness.stop()
        let batchEvents = harness.events.filter { $0.path.hasPrefix("batch") }.map { "\($0.kind) \($0.path)" }
        #expect(batchEvents == ["created batch.tmp", "deleted batch.tmp", "created batch", "renamed batch", "created batch/two.csv"])
        #expect(harness.events.first { $0.path == "batch/two.csv" }?.size == 2)
        #expect(Set(harness.snapshot.map(\.path)) == ["", "batch", "batch/two.csv", "other", "other/probe.csv", "sync", "marker"])
    }
}
