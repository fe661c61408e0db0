import DrophookEvents
import Glibc
import Testing

@_spi(Fuzzing) @testable import DrophookWatch

/// The races the real-inotify suites play, played on a tree in memory: the disk is changed
/// first, then the engine reads the records the kernel queued meanwhile, in order, and the
/// clock moves only when the test moves it. Each mirrors a real-inotify test (named in its
/// comment), which stays as the end-to-end proof.
@Suite("Races without a disk")
struct DisklessRaceTests {
    /// An upload the engine follows as it happens: created once, at its close, with its size.
    @Test func anUploadIsCreatedAtItsClose() {
        let drop = DisklessEngine()
        drop.disk.write(drop.at("a.csv"), size: 0)
        drop.feed([drop.record("", IN_CREATE, "a.csv"), drop.record("", IN_OPEN, "a.csv")])
        #expect(drop.said() == [])
        drop.disk.write(drop.at("a.csv"), size: 42)
        drop.feed([drop.record("", IN_CLOSE_WRITE, "a.csv")])
        let events = drop.engine.batch.take().events
        #expect(events.map { "\($0.kind) \($0.path) \($0.size ?? -1)" } == ["created a.csv 42"])
    }

    /// `RenameAndTreeTests.renameIsDeletedAndCreated`: rename(2) of a reported file.
    @Test func aRenameIsDeletedCreatedAndRenamed() {
        let drop = DisklessEngine()
        drop.disk.write(drop.at("c.txt"), size: 1)
        drop.feed([drop.record("", IN_CREATE, "c.txt"), drop.record("", IN_OPEN, "c.txt"), drop.record("", IN_CLOSE_WRITE, "c.txt")])
        #expect(drop.said() == ["created c.txt"])
        drop.disk.rename(drop.at("c.txt"), drop.at("d.txt"))
        drop.feed([drop.record("", IN_MOVED_FROM, "c.txt", cookie: 3), drop.record("", IN_MOVED_TO, "d.txt", cookie: 3)])
        #expect(drop.said() == ["deleted c.txt", "created d.txt", "renamed d.txt"])
    }

    /// `RenameAndTreeTests.linkThenUnlinkOfTempNameIsOneCreated`, with every record read after
    /// the link and the unlink: the final name is the closed temp file's inode, so it is
    /// reported at once with the temp name's size, and the temp name leaves nothing behind.
    @Test func aTempNameLinkedAndUnlinkedIsOneCreated() {
        let drop = DisklessEngine()
        drop.disk.write(drop.at("z.csv.filepart"), size: 7)
        drop.disk.link(drop.at("z.csv.filepart"), drop.at("z.csv"))
        drop.disk.remove(drop.at("z.csv.filepart"))
        drop.feed([
            drop.record("", IN_CREATE, "z.csv.filepart"), drop.record("", IN_OPEN, "z.csv.filepart"),
            drop.record("", IN_CLOSE_WRITE, "z.csv.filepart"), drop.record("", IN_CREATE, "z.csv"),
            drop.record("", IN_DELETE, "z.csv.filepart"),
        ])
        let events = drop.engine.batch.take().events
        #expect(events.map { "\($0.kind) \($0.path) \($0.size ?? -1)" } == ["created z.csv 7"])
        drop.pass(.seconds(5))
        #expect(drop.said() == [])
    }

    /// A name whose `IN_CREATE` is read with no `IN_OPEN` after it, and one link: a link whose
    /// source is gone already (`ln /elsewhere/x b.txt; rm /elsewhere/x`), or a writer's open
    /// still on its way. It is finished once the link timeout passes on the test's clock, not
    /// before; an `IN_OPEN` meanwhile would make it a write.
    @Test func aNameNoWriterOpensIsCreatedAfterTheLinkTimeout() {
        let drop = DisklessEngine()
        drop.disk.write(drop.at("b.txt"), size: 3)
        drop.feed([drop.record("", IN_CREATE, "b.txt")])
        drop.pass(drop.engine.configuration.linkTimeout / 2)
        #expect(drop.said() == [], "a writer may still open it")
        drop.pass(drop.engine.configuration.linkTimeout)
        let events = drop.engine.batch.take().events
        #expect(events.map { "\($0.kind) \($0.path) \($0.size ?? -1)" } == ["created b.txt 3"])
    }

    /// The same name with its writer's `IN_OPEN` read in time: a write, finished at its close,
    /// however long the clock runs meanwhile.
    @Test func aNameWhoseWriterOpensItWaitsForTheClose() {
        let drop = DisklessEngine()
        drop.disk.write(drop.at("b.txt"), size: 0)
        drop.feed([drop.record("", IN_CREATE, "b.txt"), drop.record("", IN_OPEN, "b.txt")])
        drop.pass(.seconds(3600))
        #expect(drop.said() == [])
        drop.disk.write(drop.at("b.txt"), size: 9)
        drop.feed([drop.record("", IN_CLOSE_WRITE, "b.txt")])
        let events = drop.engine.batch.take().events
        #expect(events.map { "\($0.kind) \($0.path) \($0.size ?? -1)" } == ["created b.txt 9"])
    }

    /// `RecordOrderTests.tempNameRenamedBeforeTheListingIsReportedOnce`: WinSCP's upload in a
    /// new directory, written and renamed before the engine lists the directory.
    @Test func aTempNameRenamedBeforeTheListingIsReportedOnce() {
        let drop = DisklessEngine()
        drop.disk.mkdir(drop.at("batch"))
        drop.disk.write(drop.at("batch/report.pdf.filepart"), size: 4)
        drop.disk.rename(drop.at("batch/report.pdf.filepart"), drop.at("batch/report.pdf"))
        drop.feed([drop.record("", IN_CREATE | IN_ISDIR, "batch")])
        drop.feed([
            drop.record("batch", IN_CREATE, "report.pdf.filepart"), drop.record("batch", IN_OPEN, "report.pdf.filepart"),
            drop.record("batch", IN_CLOSE_WRITE, "report.pdf.filepart"),
            drop.record("batch", IN_MOVED_FROM, "report.pdf.filepart", cookie: 7),
            drop.record("batch", IN_MOVED_TO, "report.pdf", cookie: 7),
        ])
        drop.engine.tick()
        #expect(drop.said() == ["created batch", "created batch/report.pdf"])
    }

    /// `RecordOnlyDirectoryTests.directoryCreatedAndRemovedBeforeItsLookIsCreatedThenDeleted`.
    @Test func aDirectoryMadeAndRemovedBeforeItsLookIsCreatedThenDeleted() {
        let drop = DisklessEngine()
        drop.feed([drop.record("", IN_CREATE | IN_ISDIR, "sub"), drop.record("", IN_DELETE | IN_ISDIR, "sub")])
        let events = drop.engine.batch.take().events
        #expect(events.map { "\($0.kind) \($0.path) \($0.isDirectory)" } == ["created sub true", "deleted sub true"])
    }

    /// `RecordOnlyDirectoryTests.directoryRenamedBeforeItsLookAppearsUnderItsNewName`.
    @Test func aDirectoryRenamedBeforeItsLookAppearsUnderItsNewName() {
        let drop = DisklessEngine()
        drop.disk.mkdir(drop.at("kept"))
        drop.disk.write(drop.at("kept/f.txt"), size: 3)
        drop.feed([
            drop.record("", IN_CREATE | IN_ISDIR, "upload.tmp"), drop.record("", IN_MOVED_FROM | IN_ISDIR, "upload.tmp", cookie: 9),
            drop.record("", IN_MOVED_TO | IN_ISDIR, "kept", cookie: 9),
        ])
        #expect(drop.said() == ["created kept", "created kept/f.txt"])
    }

    /// `RenameAndTreeTests.fileClosedJustBeforeItsDirectoryIsRenamedIsReportedOnce`: the close
    /// is read after the directory has its final name, so the look at the old path fails; the
    /// rename's records report the file under the final name, once, with its size.
    @Test func aFileClosedJustBeforeItsDirectoryIsRenamedIsReportedOnce() {
        let drop = DisklessEngine()
        drop.disk.mkdir(drop.at("batch.tmp"))
        drop.feed([drop.record("", IN_CREATE | IN_ISDIR, "batch.tmp")])
        #expect(drop.said() == ["created batch.tmp"])
        drop.disk.write(drop.at("batch.tmp/two.csv"), size: 0)
        drop.feed([drop.record("batch.tmp", IN_CREATE, "two.csv"), drop.record("batch.tmp", IN_OPEN, "two.csv")])
        // The records made before the rename carry the directory's descriptor, whatever its name now.
        let close = drop.record("batch.tmp", IN_CLOSE_WRITE, "two.csv")
        drop.disk.write(drop.at("batch.tmp/two.csv"), size: 2)
        drop.disk.rename(drop.at("batch.tmp"), drop.at("batch"))
        drop.feed([
            close, drop.record("", IN_MOVED_FROM | IN_ISDIR, "batch.tmp", cookie: 5),
            drop.record("", IN_MOVED_TO | IN_ISDIR, "batch", cookie: 5),
        ])
        drop.engine.tick()
        let events = drop.engine.batch.take().events
        #expect(events.map { "\($0.kind) \($0.path)" } == ["deleted batch.tmp", "created batch", "renamed batch", "created batch/two.csv"])
        #expect(events.last?.size == 2)
    }

    /// `RenameAndTreeTests.directoryMovedOutIsDeletedChildrenFirst`: an `IN_MOVED_FROM` with no
    /// `IN_MOVED_TO` is a move out of the tree, known once the pairing window passes.
    @Test func aDirectoryMovedOutIsDeletedChildrenFirstOnceThePairingWindowPasses() {
        let drop = DisklessEngine()
        drop.disk.mkdir(drop.at("out"))
        drop.disk.write(drop.at("out/a.csv"), size: 1)
        drop.feed([drop.record("", IN_CREATE | IN_ISDIR, "out")])
        #expect(drop.said() == ["created out", "created out/a.csv"])
        drop.disk.remove(drop.at("out"))
        drop.feed([drop.record("", IN_MOVED_FROM | IN_ISDIR, "out", cookie: 4)])
        #expect(drop.said() == [], "its pair may still come")
        drop.pass(drop.engine.configuration.moveCookieTimeout + .milliseconds(1))
        #expect(drop.said() == ["deleted out/a.csv", "deleted out"])
    }

    /// `RenameAndTreeTests.renameOverAnExistingFileIsOneCreated`: a newer version written under
    /// a temp name and renamed over the reported file is one more `created`, nothing else.
    @Test func aRenameOverAReportedFileIsOneMoreCreated() {
        let drop = DisklessEngine()
        drop.disk.write(drop.at("x.csv"), size: 3)
        drop.feed([drop.record("", IN_CREATE, "x.csv"), drop.record("", IN_OPEN, "x.csv"), drop.record("", IN_CLOSE_WRITE, "x.csv")])
        drop.disk.write(drop.at("x.csv.filepart"), size: 5)
        drop.disk.rename(drop.at("x.csv.filepart"), drop.at("x.csv"))
        drop.feed([
            drop.record("", IN_CREATE, "x.csv.filepart"), drop.record("", IN_OPEN, "x.csv.filepart"),
            drop.record("", IN_CLOSE_WRITE, "x.csv.filepart"), drop.record("", IN_MOVED_FROM, "x.csv.filepart", cookie: 2),
            drop.record("", IN_MOVED_TO, "x.csv", cookie: 2),
        ])
        drop.engine.tick()
        let events = drop.engine.batch.take().events
        #expect(events.map { "\($0.kind) \($0.path) \($0.size ?? -1)" } == ["created x.csv 3", "created x.csv 5"])
    }

    /// `RenameAndTreeTests.recursiveDeleteIsOneDeletePerPathChildrenFirst`: `rm -r` of a tree
    /// the engine recorded at start, its records in the order the kernel queues them.
    @Test func aRecursiveDeleteIsOneDeletePerPathChildrenFirst() {
        let drop = DisklessEngine(configure: { $0.catchUp = false }) { disk in
            for directory in ["a", "a/b", "a/b/c"] { disk.mkdir(DisklessEngine.root + "/" + directory) }
            for file in ["a/1", "a/b/2", "a/b/c/3", "a/b/c/4"] { disk.write(DisklessEngine.root + "/" + file, size: 1) }
        }
        #expect(drop.said() == [])
        let (a, b, c) = (drop.disk.wd(drop.at("a"))!, drop.disk.wd(drop.at("a/b"))!, drop.disk.wd(drop.at("a/b/c"))!)
        var records = [drop.record("a/b/c", IN_DELETE, "3"), drop.record("a/b/c", IN_DELETE, "4")]
        records += [drop.selfRecord(c, IN_DELETE_SELF), drop.selfRecord(c, IN_IGNORED), drop.record("a/b", IN_DELETE | IN_ISDIR, "c")]
        records += [drop.record("a/b", IN_DELETE, "2"), drop.selfRecord(b, IN_DELETE_SELF), drop.selfRecord(b, IN_IGNORED)]
        records += [drop.record("a", IN_DELETE | IN_ISDIR, "b"), drop.record("a", IN_DELETE, "1")]
        records += [drop.selfRecord(a, IN_DELETE_SELF), drop.selfRecord(a, IN_IGNORED), drop.record("", IN_DELETE | IN_ISDIR, "a")]
        drop.disk.remove(drop.at("a"))
        drop.feed(records)
        drop.engine.tick()
        let batch = drop.engine.batch.take()
        let deleted = batch.events.filter { $0.kind == .deleted }.map(\.path)
        #expect(Set(deleted) == ["a", "a/1", "a/b", "a/b/2", "a/b/c", "a/b/c/3", "a/b/c/4"] && deleted.count == 7)
        #expect(batch.events.count == 7)
        for path in deleted {
            let parent = path.split(separator: "/").dropLast().joined(separator: "/")
            if !parent.isEmpty { #expect(deleted.firstIndex(of: path)! < deleted.firstIndex(of: parent)!, "\(path) after \(parent)") }
        }
    }

    /// `BurstAndOverflowTests`' overflow, reduced to its race: the kernel's queue overflowed
    /// while files arrived, so their records are lost; the rescan the overflow schedules finds
    /// them (no writer has them open) and reports each once, and what was known stays quiet.
    @Test func anOverflowsRescanReportsWhatItsLostRecordsWouldHave() {
        let drop = DisklessEngine()
        drop.disk.write(drop.at("known.csv"), size: 1)
        drop.feed([
            drop.record("", IN_CREATE, "known.csv"), drop.record("", IN_OPEN, "known.csv"), drop.record("", IN_CLOSE_WRITE, "known.csv"),
        ])
        #expect(drop.said() == ["created known.csv"])
        drop.disk.mkdir(drop.at("late"))
        drop.disk.write(drop.at("late/one.csv"), size: 1)
        drop.disk.write(drop.at("two.csv"), size: 2)
        drop.feed([InotifyEvent(wd: -1, mask: UInt32(bitPattern: IN_Q_OVERFLOW), cookie: 0, name: nil)])
        drop.pass(.seconds(1))
        let events = drop.engine.batch.take().events.map { "\($0.kind) \($0.path)" }
        #expect(Set(events) == ["created late", "created late/one.csv", "created two.csv"] && events.count == 3, "\(events)")
    }

    /// `RenameAndTreeTests.settlingFileWhoseDirectoryIsRenamedIsReportedOnce`' rule, without
    /// leases: a file a listing finds, written a moment ago, waits until its size and mtime
    /// have held for the window on the test's clock; one that grows meanwhile waits again.
    @Test func aFileFoundByAListingWaitsUntilItHasBeenStableForTheWindow() {
        let drop = DisklessEngine { $0.leases = false }
        drop.disk.mtimeNanos = WallClock.nanoseconds()
        drop.disk.mkdir(drop.at("in"))
        drop.disk.write(drop.at("in/steady.csv"), size: 4)
        drop.disk.write(drop.at("in/growing.csv"), size: 1)
        drop.feed([drop.record("", IN_CREATE | IN_ISDIR, "in")])
        #expect(drop.said() == ["created in"])
        let window = drop.engine.configuration.scanSettle
        drop.pass(window / 2)
        drop.disk.write(drop.at("in/growing.csv"), size: 2)
        drop.pass(window / 2 + .milliseconds(1))
        #expect(drop.said() == ["created in/steady.csv"], "the file that grew waits a new window")
        drop.pass(window + .milliseconds(1))
        let events = drop.engine.batch.take().events
        #expect(events.map { "\($0.kind) \($0.path) \($0.size ?? -1)" } == ["created in/growing.csv 2"])
    }

    /// `RenameAndTreeTests.moveBetweenWatchesIsDeletedInOneCreatedInTheOther`: a rename from
    /// one watch's tree into another's is gone from the first and new in the second.
    @Test func aMoveBetweenWatchesIsDeletedInOneAndCreatedInTheOther() {
        let drop = DisklessEngine(configure: { $0.watches.append(WatchConfiguration(name: "second", root: "/second")) }) { disk in
            disk.mkdir("/second")
        }
        drop.disk.write(drop.at("m.csv"), size: 1)
        drop.feed([drop.record("", IN_CREATE, "m.csv"), drop.record("", IN_OPEN, "m.csv"), drop.record("", IN_CLOSE_WRITE, "m.csv")])
        drop.disk.rename(drop.at("m.csv"), "/second/moved.csv")
        drop.feed([
            drop.record("", IN_MOVED_FROM, "m.csv", cookie: 8), drop.record(absolute: "/second", IN_MOVED_TO, "moved.csv", cookie: 8),
        ])
        #expect(drop.saidWithWatches() == ["created drop m.csv", "deleted drop m.csv", "created second moved.csv"])
    }

    /// `RenameAndTreeTests.removedRootDeletesItsTreeAndIsReported`, and the root's return: its
    /// tree is deleted children first, the watch is unavailable, and when the directory comes
    /// back the next look at the roots takes it up again and reports what it holds.
    @Test func aRemovedRootDeletesItsTreeAndIsTakenUpAgainWhenItReturns() {
        let drop = DisklessEngine(prepare: { disk in
            disk.mkdir(DisklessEngine.root + "/sub")
            disk.write(DisklessEngine.root + "/sub/f", size: 1)
        })
        let (root, sub) = (drop.disk.wd(DisklessEngine.root)!, drop.disk.wd(drop.at("sub"))!)
        drop.disk.remove(DisklessEngine.root)
        drop.feed([
            drop.record("sub", IN_DELETE, "f"), drop.selfRecord(sub, IN_DELETE_SELF), drop.selfRecord(sub, IN_IGNORED),
            drop.record("", IN_DELETE | IN_ISDIR, "sub"), drop.selfRecord(root, IN_DELETE_SELF), drop.selfRecord(root, IN_IGNORED),
        ])
        drop.engine.tick()
        #expect(drop.said() == ["deleted sub/f", "deleted sub"])
        #expect(!drop.engine.health.value.unavailableRoots.isEmpty)
        drop.disk.mkdir(DisklessEngine.root)
        drop.disk.write(drop.at("back.csv"), size: 2)
        drop.pass(.seconds(60))
        #expect(drop.said() == ["created back.csv"])
        #expect(drop.engine.health.value.unavailableRoots.isEmpty)
    }

    /// `GoneBeforeCloseTests.closedThenRemovedBeforeTheCloseIsReadKeepsItsFinalSize`: `put`
    /// then `rm` before the engine reads the close. The descriptor held since the writer's
    /// open still tells the size the file was closed with, so it is created with that size and
    /// then deleted.
    @Test func aFileClosedAndRemovedBeforeItsCloseIsReadKeepsItsFinalSize() {
        let drop = DisklessEngine()
        drop.disk.write(drop.at("c.txt"), size: 3)
        drop.feed([drop.record("", IN_CREATE, "c.txt"), drop.record("", IN_OPEN, "c.txt")])
        drop.disk.write(drop.at("c.txt"), size: 7)
        drop.disk.remove(drop.at("c.txt"))
        drop.feed([drop.record("", IN_MODIFY, "c.txt"), drop.record("", IN_CLOSE_WRITE, "c.txt"), drop.record("", IN_DELETE, "c.txt")])
        drop.engine.tick()
        let events = drop.engine.batch.take().events
        #expect(events.map { "\($0.kind) \($0.path) \($0.size.map(String.init) ?? "-")" } == ["created c.txt 7", "deleted c.txt -"])
    }

    /// The same race with no descriptor to hold (none could be opened): the file is still
    /// created and deleted, without a size, since its final size was never seen: none is invented.
    @Test func aFileClosedAndRemovedWithNoDescriptorHeldIsCreatedWithoutASize() {
        let drop = DisklessEngine()
        drop.disk.descriptorsAvailable = false
        drop.disk.write(drop.at("c.txt"), size: 3)
        drop.feed([drop.record("", IN_CREATE, "c.txt"), drop.record("", IN_OPEN, "c.txt")])
        drop.disk.write(drop.at("c.txt"), size: 7)
        drop.disk.remove(drop.at("c.txt"))
        drop.feed([drop.record("", IN_CLOSE_WRITE, "c.txt"), drop.record("", IN_DELETE, "c.txt")])
        drop.engine.tick()
        let events = drop.engine.batch.take().events
        #expect(events.map { "\($0.kind) \($0.path) \($0.size.map(String.init) ?? "-")" } == ["created c.txt -", "deleted c.txt -"])
    }

    /// `ScanCompletionTests.finishedFileInANewDirectoryIsReportedWithoutWaiting` and
    /// `fileStillOpenForWritingWaitsForItsClose`: files a listing finds, written a moment ago.
    /// The lease says nobody writes the first, so it is reported at once; the second's writer
    /// still has it open, so it waits for its close, however long the clock runs.
    @Test func aListingsFilesAreReportedByWhatTheLeaseSays() {
        let drop = DisklessEngine()
        #expect(drop.engine.roots[0].completionMode == .lease)
        drop.disk.mtimeNanos = WallClock.nanoseconds()
        drop.disk.mkdir(drop.at("in"))
        drop.disk.write(drop.at("in/done.csv"), size: 5)
        drop.disk.write(drop.at("in/open.csv"), size: 1)
        drop.disk.openForWriting = [drop.at("in/open.csv")]
        drop.feed([drop.record("", IN_CREATE | IN_ISDIR, "in")])
        let found = drop.engine.batch.take().events
        #expect(
            found.map { "\($0.kind) \($0.path) \($0.size ?? -1)" } == ["created in -1", "created in/done.csv 5"], "a directory has no size")
        #expect(found.last?.foundByScan == true)
        drop.pass(.seconds(3600))
        #expect(drop.said() == [])
        drop.disk.write(drop.at("in/open.csv"), size: 6)
        drop.disk.openForWriting = []
        drop.feed([drop.record("in", IN_CLOSE_WRITE, "open.csv")])
        let closed = drop.engine.batch.take().events
        #expect(closed.map { "\($0.kind) \($0.path) \($0.size ?? -1)" } == ["created in/open.csv 6"])
    }
}
