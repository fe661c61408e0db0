import DrophookEvents
import DrophookTestSupport
import Glibc
import Logging
import Testing

@_spi(Fuzzing) @testable import DrophookWatch

/// The engine fed records in a chosen order over a real tree: races between a listing and the
/// records it overlaps, made deterministic.
@Suite("Records read after a listing")
struct RecordOrderTests {
    /// WinSCP's upload in a new directory: `x.filepart` is written and renamed to `x` before the
    /// engine lists the directory (so the listing finds `x`), and the records of the temp name and
    /// the rename are read afterwards. `x` is reported once; the temp name leaves no `failed`.
    @Test func tempNameRenamedBeforeTheListingIsReportedOnce() throws {
        let tree = TempTree("record-order")
        let (engine, inotify, rootWD) = try RecordOnlyDirectoryTests.engine(tree)
        defer { inotify.close() }

        tree.mkdir("batch")
        tree.write("batch/report.pdf.filepart", "pdf!")
        #expect(rename(tree.at("batch/report.pdf.filepart"), tree.at("batch/report.pdf")) == 0)

        engine.handle(Self.record(rootWD, IN_CREATE | IN_ISDIR, "batch"))
        let batchWD = try #require(engine.roots[0].node?[child: "batch"]?.wd)
        for (mask, name, cookie) in [
            (IN_CREATE, "report.pdf.filepart", 0), (IN_OPEN, "report.pdf.filepart", 0),
            (IN_CLOSE_WRITE, "report.pdf.filepart", 0), (IN_MOVED_FROM, "report.pdf.filepart", 7),
            (IN_MOVED_TO, "report.pdf", 7),
        ] {
            engine.handle(Self.record(batchWD, mask, name, cookie: UInt32(cookie)))
        }
        engine.tick()
        let events = engine.batch.take().events.map { "\($0.kind) \($0.path)" }
        #expect(events == ["created batch", "created batch/report.pdf"])
    }

    /// A directory made inside a new directory, whose `IN_CREATE` is read only after its parent was
    /// renamed (so its look fails): the renamed parent's listing finds it, and it is reported and
    /// recorded like any new name, not left known only from its records.
    @Test func subdirectoryReadAfterItsParentsRenameIsReportedAndRecorded() throws {
        let tree = TempTree("record-order-subdir")
        let (engine, inotify, rootWD) = try RecordOnlyDirectoryTests.engine(tree)
        defer { inotify.close() }
        tree.mkdir("batch.tmp")
        engine.handle(Self.record(rootWD, IN_CREATE | IN_ISDIR, "batch.tmp"))
        let batchWD = try #require(engine.roots[0].node?[child: "batch.tmp"]?.wd)
        tree.mkdir("batch.tmp/part")
        tree.write("batch.tmp/part/one.csv", "1")
        #expect(rename(tree.at("batch.tmp"), tree.at("batch")) == 0)
        engine.handle(Self.record(batchWD, IN_CREATE | IN_ISDIR, "part"))
        engine.handle(Self.record(rootWD, IN_MOVED_FROM | IN_ISDIR, "batch.tmp", cookie: 11))
        engine.handle(Self.record(rootWD, IN_MOVED_TO | IN_ISDIR, "batch", cookie: 11))
        engine.tick()
        let batch = engine.batch.take()
        let created = batch.events.filter { $0.kind == .created }.map(\.path)
        #expect(created.contains("batch/part") && created.contains("batch/part/one.csv"), "\(created)")
        let recorded = Set(batch.snapshot.upserts.map(\.path))
        #expect(recorded.isSuperset(of: ["batch", "batch/part", "batch/part/one.csv"]), "\(recorded)")
    }

    static func record(_ wd: Int32, _ mask: Int32, _ name: String, cookie: UInt32 = 0) -> InotifyEvent {
        InotifyEvent(wd: wd, mask: UInt32(bitPattern: mask), cookie: cookie, name: name)
    }
}

@Suite("Directories known only from their records")
struct RecordOnlyDirectoryTests {
    /// An engine started over `tree` that is fed records by the test, not by a reader.
    static func engine(
        _ tree: TempTree, snapshot stored: [SnapshotRecord] = [],
        configure: (inout WatcherConfiguration) -> Void = { _ in }
    ) throws -> (WatchEngine, InotifyDescriptor, Int32) {
        let inotify = try InotifyDescriptor.open()
        var logger = Logger(label: "drophook.watch.test")
        logger.logLevel = .error
        var configuration = WatcherConfiguration.test(tree)
        configure(&configuration)
        let engine = WatchEngine(
            configuration: configuration, disk: LocalDisk(inotify: inotify), watchedPaths: WatchedPaths(),
            logger: logger, health: HealthCell(), metrics: WatchMetrics())
        var snapshot = stored
        engine.start(snapshot: &snapshot)
        _ = engine.batch.take()
        return (engine, inotify, engine.roots[0].node!.wd)
    }

    /// `mkdir sub` and `rmdir sub` both before the engine looked: the records prove it existed.
    @Test func directoryCreatedAndRemovedBeforeItsLookIsCreatedThenDeleted() throws {
        let tree = TempTree("record-only-dir")
        let (engine, inotify, root) = try Self.engine(tree)
        defer { inotify.close() }
        engine.handle(RecordOrderTests.record(root, IN_CREATE | IN_ISDIR, "sub"))
        engine.handle(RecordOrderTests.record(root, IN_DELETE | IN_ISDIR, "sub"))
        let events = engine.batch.take().events.map { "\($0.kind) \($0.path) \($0.isDirectory)" }
        #expect(events == ["created sub true", "deleted sub true"])
    }

    /// Created, then renamed before the engine looked: it is new under its final name, with its contents.
    @Test func directoryRenamedBeforeItsLookAppearsUnderItsNewName() throws {
        let tree = TempTree("record-only-rename")
        let (engine, inotify, root) = try Self.engine(tree)
        defer { inotify.close() }
        tree.mkdir("kept")
        tree.write("kept/f.txt", "123")
        engine.handle(RecordOrderTests.record(root, IN_CREATE | IN_ISDIR, "upload.tmp"))
        engine.handle(RecordOrderTests.record(root, IN_MOVED_FROM | IN_ISDIR, "upload.tmp", cookie: 9))
        engine.handle(RecordOrderTests.record(root, IN_MOVED_TO | IN_ISDIR, "kept", cookie: 9))
        let events = engine.batch.take().events.map { "\($0.kind) \($0.path)" }
        #expect(events == ["created kept", "created kept/f.txt"])
    }
}

/// A file's own events keep their order while its checksum is read off the watch thread: its
/// rename and its delete wait for that checksum (and only for it).
@Suite("Checksums in flight")
struct ChecksumInFlightTests {
    @Test("a file renamed and then deleted while its checksum is read: created with its checksum, the rename, then the delete")
    func ownEventsWaitForTheChecksum() throws {
        let tree = TempTree("checksum-order")
        let (engine, inotify, root) = try RecordOnlyDirectoryTests.engine(tree) { $0.watches[0].checksumLimit = 256 << 20 }
        defer { inotify.close() }
        let reader = ChecksumReader(ready: {})
        defer { reader.stop() }
        engine.checksumReader = reader
        tree.write("large.bin", String(repeating: "y", count: 32 << 20))
        let expected = FileChecksum.sha256(
            path: tree.at("large.bin"), expected: try #require(FileStatus.of(path: tree.at("large.bin"))), limit: 256 << 20)
        for mask in [IN_CREATE, IN_OPEN, IN_CLOSE_WRITE] {
            engine.handle(RecordOrderTests.record(root, mask, "large.bin"))
        }
        #expect(engine.batch.isEmpty, "the created event and its record wait for the checksum")
        #expect(rename(tree.at("large.bin"), tree.at("moved.bin")) == 0)
        engine.handle(RecordOrderTests.record(root, IN_MOVED_FROM, "large.bin", cookie: 5))
        engine.handle(RecordOrderTests.record(root, IN_MOVED_TO, "moved.bin", cookie: 5))
        tree.remove("moved.bin")
        engine.handle(RecordOrderTests.record(root, IN_DELETE, "moved.bin"))
        engine.applyFinishedChecksums()
        let batch = engine.batch.take()
        let events = batch.events.map { "\($0.kind) \($0.path)\($0.partOfRename ? " (rename)" : "")" }
        #expect(
            events == [
                "created large.bin", "deleted large.bin (rename)", "created moved.bin (rename)", "renamed moved.bin",
                "deleted moved.bin",
            ])
        #expect(expected != nil)
        #expect(batch.events.first?.sha256 == expected)
        #expect(batch.events[2].sha256 == expected, "read through the descriptor opened at the rename, after the name was gone")
        #expect(batch.snapshot.upserts.isEmpty, "both names are gone: nothing stays recorded")
    }

    @Test("a checksummed file's created and its snapshot record are committed together, once the checksum is read")
    func recordWaitsWithTheEvent() async throws {
        let tree = TempTree("checksum-record")
        let (engine, inotify, root) = try RecordOnlyDirectoryTests.engine(tree) { $0.watches[0].checksumLimit = 256 << 20 }
        defer { inotify.close() }
        let finished = Observed<Bool>()
        let reader = ChecksumReader(ready: { finished.append(true) })
        defer { reader.stop() }
        engine.checksumReader = reader
        tree.write("a.csv", "1,2,3\n")
        for mask in [IN_CREATE, IN_OPEN, IN_CLOSE_WRITE] {
            engine.handle(RecordOrderTests.record(root, mask, "a.csv"))
        }
        #expect(engine.batch.isEmpty)
        #expect(await finished.wait(within: .seconds(10)) { !$0.isEmpty })
        engine.applyFinishedChecksums()
        let batch = engine.batch.take()
        #expect(batch.events.map(\.path) == ["a.csv"])
        #expect(batch.events.first?.sha256 != nil)
        #expect(batch.snapshot.upserts.map(\.path) == ["a.csv"])
    }
}
