import DrophookEvents
import DrophookTestSupport
import Foundation
import Glibc
import Testing

@testable import DrophookWatch

/// Files that a scan finds (a new directory's listing, catch-up, rescans): the kernel is asked
/// whether a writer still has them open (a read lease), and nothing seen is forgotten.
@Suite("Files found by scans")
struct ScanCompletionTests {
    /// A configuration whose stability wait is far longer than any test: a file reported before
    /// the marker cannot have waited for it.
    static func leaseConfiguration(_ tree: TempTree) -> (WatcherConfiguration, WatcherFaults, ReaderGate) {
        var configuration = WatcherConfiguration.test(tree)
        configuration.scanSettle = .seconds(600)
        var faults = WatcherFaults()
        let gate = faults.gateReader()
        return (configuration, faults, gate)
    }

    @Test(.requires(.root))
    func finishedFileInANewDirectoryIsReportedWithoutWaiting() async throws {
        let tree = TempTree("lease-new-dir")
        let (configuration, faults, gate) = Self.leaseConfiguration(tree)
        let harness = try await WatchHarness.start(configuration, faults: faults)
        #expect(harness.watcher.health.completionModes["drop"] == .lease)
        // The directory and its file exist before the watcher reads the directory's IN_CREATE,
        // so the file is found by the listing, not by records.
        gate.close()
        tree.mkdir("in/deep")
        tree.write("in/deep/a.csv", "12345")
        #expect(chown(tree.at("in/deep/a.csv"), 4242, 4242) == 0) // a partner's file, not the agent's
        gate.open()
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        // Records are handled in order: the listing of in/deep came before the marker's create.
        let before = harness.events.map { "\($0.kind) \($0.path)" }
        #expect(before == ["created in", "created in/deep", "created in/deep/a.csv", "created marker"])
        await harness.stop()
        let file = harness.events.first { $0.path == "in/deep/a.csv" }
        #expect(file?.size == 5)
        #expect(file?.foundByScan == true)
    }

    @Test(.requires(.root))
    func fileStillOpenForWritingWaitsForItsClose() async throws {
        let tree = TempTree("lease-writer")
        let (configuration, faults, gate) = Self.leaseConfiguration(tree)
        let harness = try await WatchHarness.start(configuration, faults: faults)
        gate.close()
        tree.mkdir("in")
        let fd = open(tree.at("in/big.bin"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        #expect(write(fd, "abc", 3) == 3)
        gate.open()
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        #expect(!harness.events.contains { $0.path == "in/big.bin" }, "reported while a writer had it open")
        #expect(write(fd, "defg", 4) == 4)
        #expect(close(fd) == 0)
        #expect(await harness.waitFor(.created, "in/big.bin"))
        tree.write("marker2", "")
        #expect(await harness.waitFor(.created, "marker2"))
        await harness.stop()
        let reports = harness.events.filter { $0.path == "in/big.bin" }
        #expect(reports.count == 1)
        #expect(reports.first?.size == 7)
    }

    @Test func stabilityModeIsUsedWhenLeasesAreOff() async throws {
        let tree = TempTree("stability-mode")
        var configuration = WatcherConfiguration.test(tree)
        configuration.leases = false
        let harness = try await WatchHarness.start(configuration)
        #expect(harness.watcher.health.completionModes["drop"] == .stability)
        #expect(harness.watcher.health.completionReasons["drop"]?.contains("turned off") == true)
        await harness.stop()
    }

    @Test func leaseSupportNamesWhatIsMissing() {
        let support = LeaseSupport.assess(root: "/tmp")
        if getuid() == 0 {
            #expect(support.mode == .lease)
            #expect(support.reason == nil)
        } else {
            #expect(support.mode == .stability)
            #expect(support.reason?.contains("CAP_LEASE") == true)
        }
    }

    @Test func probeAnswersFromTheKernel() throws {
        let tree = TempTree("probe")
        tree.write("closed.txt", "done")
        let path = tree.at("closed.txt")
        if getuid() == 0 {
            guard case .noWriter(let status) = WriterProbe.probe(path: path) else {
                Issue.record("a closed file has no writer")
                return
            }
            #expect(status.size == 4)
            let fd = open(path, O_WRONLY | O_APPEND)
            defer { close(fd) }
            guard case .writerPresent(let descriptor) = WriterProbe.probe(path: path) else {
                Issue.record("a file open for writing has a writer")
                return
            }
            close(descriptor)
        }
        #expect(WriterProbe.probe(path: tree.at("missing")) == .gone)
        #expect(mkfifo(tree.at("fifo"), 0o644) == 0)
        #expect(WriterProbe.probe(path: tree.at("fifo")) == .gone, "a FIFO is never opened for reading as a file")
        #expect(symlink(path, tree.at("link")) == 0)
        #expect(WriterProbe.probe(path: tree.at("link")) == .gone, "a symlink is never followed")
    }

    /// The user story: `mkdir sub`, `put sub/c.txt`, `rm sub/c.txt`, `rmdir sub` all happen
    /// before the watcher reads a record. With the stability rule the file is still waiting when
    /// it disappears; it was seen finished on disk, so it is reported, then deleted.
    @Test func fileSeenThenRemovedBeforeItWasReportedIsCreatedThenDeleted() async throws {
        let tree = TempTree("never-forgotten")
        var (configuration, faults, gate) = Self.leaseConfiguration(tree)
        configuration.leases = false
        let harness = try await WatchHarness.start(configuration, faults: faults)
        gate.close()
        tree.mkdir("sub")
        tree.write("sub/c.txt", "seven!!")
        gate.open()
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        #expect(!harness.events.contains { $0.path == "sub/c.txt" }, "still waiting for stability")
        #expect(unlink(tree.at("sub/c.txt")) == 0)
        #expect(rmdir(tree.at("sub")) == 0)
        #expect(await harness.waitFor(.deleted, "sub"))
        await harness.stop()
        let events = harness.events.filter { $0.path != "marker" }.map { "\($0.kind) \($0.path)" }
        #expect(events == ["created sub", "created sub/c.txt", "deleted sub/c.txt", "deleted sub"])
        #expect(harness.events.first { $0.kind == .created && $0.path == "sub/c.txt" }?.size == 7)
        #expect(!harness.snapshot.contains { $0.path.hasPrefix("sub") })
    }

    /// A hard link's name waits briefly for a writer's `IN_OPEN`; removed meanwhile, it was a
    /// finished file all the same.
    @Test func linkedNameRemovedBeforeItsDeadlineIsCreatedThenDeleted() async throws {
        let tree = TempTree("link-removed")
        var configuration = WatcherConfiguration.test(tree)
        configuration.linkTimeout = .seconds(600)
        let harness = try await WatchHarness.start(configuration)
        let outside = TempTree("link-source")
        outside.write("source", "linked")
        #expect(link(outside.at("source"), tree.at("l.txt")) == 0)
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        #expect(unlink(tree.at("l.txt")) == 0)
        #expect(await harness.waitFor(.deleted, "l.txt"))
        await harness.stop()
        let events = harness.events.filter { $0.path == "l.txt" }.map { "\($0.kind) \($0.size.map(String.init) ?? "-")" }
        #expect(events == ["created 6", "deleted -"])
    }

    /// A file deleted while its writer still had it open never finished arriving: nothing is invented.
    @Test func fileRemovedWhileStillBeingWrittenIsNotReported() async throws {
        let tree = TempTree("removed-while-writing")
        let harness = try await WatchHarness.start(.test(tree))
        let fd = open(tree.at("partial.bin"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(write(fd, "abc", 3) == 3)
        tree.write("seen", "")
        #expect(await harness.waitFor(.created, "seen"))
        #expect(unlink(tree.at("partial.bin")) == 0)
        close(fd)
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        await harness.stop()
        #expect(!harness.events.contains { $0.path == "partial.bin" })
    }
}

/// `put` then `rm` before the watcher reads the close: the file was finished, and its size is
/// still known from the descriptor held while its writer wrote.
@Suite("Files gone before their close is read")
struct GoneBeforeCloseTests {
    @Test func closedThenRemovedBeforeTheCloseIsReadKeepsItsFinalSize() async throws {
        let tree = TempTree("gone-before-close")
        let configuration = WatcherConfiguration.test(tree)
        var faults = WatcherFaults()
        let gate = faults.gateReader()
        let harness = try await WatchHarness.start(configuration, faults: faults)
        let fd = open(tree.at("c.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(write(fd, "abc", 3) == 3)
        // Records are handled in order: once "seen" is reported, the writer's IN_OPEN has been.
        tree.write("seen", "")
        #expect(await harness.waitFor(.created, "seen"))
        gate.close()
        #expect(write(fd, "defg", 4) == 4)
        #expect(close(fd) == 0)
        #expect(unlink(tree.at("c.txt")) == 0)
        gate.open()
        #expect(await harness.waitFor(.deleted, "c.txt"))
        await harness.stop()
        let events = harness.events.filter { $0.path == "c.txt" }.map { "\($0.kind) \($0.size.map(String.init) ?? "-")" }
        #expect(events == ["created 7", "deleted -"])
    }
}
