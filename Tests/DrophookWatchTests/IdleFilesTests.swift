import DrophookEvents
import Glibc
import Testing

@testable import DrophookWatch

/// The compact table of a directory's idle files, against a plain dictionary doing the same.
@Suite("Idle files kept compact")
struct IdleFilesTests {
    func file(_ inode: UInt64, size: Int64 = 1) -> IdleFiles.File {
        IdleFiles.File(isSymlink: inode % 7 == 0, inode: inode, size: size, mtimeNanos: Int64(inode) * 3, uid: UInt32(inode % 5))
    }

    @Test("keeping, finding and taking agree with a dictionary through merges and compactions")
    func agreesWithADictionary() {
        var table = IdleFiles()
        // Keyed by bytes: `String` keys would merge the two spellings of é.
        var reference: [ExactText: IdleFiles.File] = [:]
        // Names that sort differently as bytes and as Unicode, escaped non-UTF-8 names
        // (``PathBytes``), long ones, and a prefix of another.
        let odd = [
            "Z", "a", "é", "e\u{301}", "\u{FFFD}FF.csv", "ab", "abc", String(repeating: "n", count: 255),
            PathBytes.string(from: [0x72, 0xFF, 0x2E, 0x63]), "😀", "tab\t.csv",
        ]
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            // xorshift: the same sequence every run, so a failure can be replayed.
            seed ^= seed << 13
            seed ^= seed >> 7
            seed ^= seed << 17
            return Int(seed % UInt64(bound))
        }
        for step in 0..<20_000 {
            let name = next(10) == 0 ? odd[next(odd.count)] : "f\(next(3_000)).csv"
            switch next(10) {
            case 0..<6:
                let kept = file(UInt64(step + 1), size: Int64(next(1_000)))
                table.keep(name, kept)
                reference[ExactText(name)] = kept
            case 6..<9:
                #expect(table.take(name) == reference.removeValue(forKey: ExactText(name)), "take \(name) at step \(step)")
            default:
                #expect(table.file(named: name) == reference[ExactText(name)], "look up \(name) at step \(step)")
                #expect(table.contains(name) == (reference[ExactText(name)] != nil))
            }
            if step % 1_000 == 0 { #expect(table.count == reference.count) }
        }
        #expect(Set(table.allNames.map(ExactText.init)) == Set(reference.keys))
        #expect(table.allNames.count == reference.count)
        let all = table.takeAll()
        #expect(all.map { Array($0.name.utf8) } == reference.keys.map { Array($0.text.utf8) }.sorted { $0.lexicographicallyPrecedes($1) })
        #expect(all.allSatisfy { reference[ExactText($0.name)] == $0.file })
        #expect(table.isEmpty && table.file(named: all.first?.name ?? "") == nil)
    }

    @Test("names equal as Unicode but not as bytes are two files")
    func namesAreBytes() {
        var table = IdleFiles()
        for index in 0..<100 { table.keep("f\(index)", file(UInt64(index + 1))) }
        table.keep("é", file(500))
        table.keep("e\u{301}", file(501))
        // Past the merge threshold, so both sit in the sorted part.
        for index in 100..<200 { table.keep("f\(index)", file(UInt64(index + 1))) }
        #expect(table.file(named: "é")?.inode == 500)
        #expect(table.file(named: "e\u{301}")?.inode == 501)
        #expect(table.take("é")?.inode == 500)
        #expect(table.file(named: "é") == nil && table.file(named: "e\u{301}")?.inode == 501)
    }
}

/// The engine moves quiet files out of its tree of nodes and wakes them for any record or scan
/// that needs them. (Every watch test also runs with compaction at once: ``WatcherConfiguration/test(_:name:actor:ignore:settle:symlinks:catchUp:)``.)
@Suite("Quiet files leave the tree")
struct QuietFileTests {
    @Test("reported files become compact records; an overflow rescan of unchanged files wakes none")
    func reportedFilesBecomeCompact() throws {
        let tree = TempTree("quiet-compact")
        let (engine, inotify, root) = try RecordOnlyDirectoryTests.engine(tree)
        defer { inotify.close() }
        for index in 0..<50 {
            tree.write("f\(index).csv", "\(index)")
            engine.handle(RecordOrderTests.record(root, IN_CREATE, "f\(index).csv"))
            engine.handle(RecordOrderTests.record(root, IN_CLOSE_WRITE, "f\(index).csv"))
        }
        let top = try #require(engine.roots[0].node)
        #expect(top.children.count == 50, "reported moments ago: still nodes")
        engine.tick()
        #expect(top.children.isEmpty && top.idleFiles.count == 50)
        #expect(engine.inodes.isEmpty)
        #expect(engine.batch.take().events.count == 50)
        // A reader opening an old file wakes nothing.
        engine.handle(RecordOrderTests.record(root, IN_OPEN, "f3.csv"))
        #expect(top.children.isEmpty)
        // A rescan with nothing changed: no event, no node.
        engine.rescanAll()
        #expect(engine.batch.take().events.isEmpty)
        #expect(top.children.isEmpty && top.idleFiles.count == 50)
        // One changed and one gone: exactly those two are woken and reported.
        tree.write("f7.csv", "changed")
        #expect(unlink(tree.at("f8.csv")) == 0)
        engine.rescanAll()
        engine.tick()
        let events = engine.batch.take().events.map { "\($0.kind) \($0.path)" }.sorted()
        #expect(events == ["created f7.csv", "deleted f8.csv"])
        #expect(top.idleFiles.count == 49)
    }

    @Test("a restart keeps unchanged files compact without making a node for them")
    func restartMakesNoNodes() throws {
        let tree = TempTree("quiet-restart")
        tree.mkdir("kept")
        for index in 0..<30 { tree.write("kept/f\(index).csv", "\(index)") }
        let (first, firstInotify, _) = try RecordOnlyDirectoryTests.engine(tree)
        firstInotify.close()
        let kept = try #require(first.roots[0].node?[child: "kept"])
        #expect(kept.children.isEmpty && kept.idleFiles.count == 30, "a first start records files compact at once")
        var stored = [SnapshotRecord]()
        for index in 0..<30 {
            var st = stat()
            #expect(lstat(tree.at("kept/f\(index).csv"), &st) == 0)
            stored.append(
                SnapshotRecord(
                    watch: "drop", path: "kept/f\(index).csv", isDirectory: false,
                    inode: UInt64(st.st_ino), size: Int64(st.st_size),
                    mtimeNanos: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)))
        }
        stored.append(SnapshotRecord(watch: "drop", path: "", isDirectory: true, inode: 0, size: 0, mtimeNanos: 0))
        stored.append(SnapshotRecord(watch: "drop", path: "kept", isDirectory: true, inode: 0, size: 0, mtimeNanos: 0))
        tree.write("kept/f0.csv", "changed while down")
        let (engine, inotify, _) = try RecordOnlyDirectoryTests.engine(tree, snapshot: stored)
        defer { inotify.close() }
        let restarted = try #require(engine.roots[0].node?[child: "kept"])
        // Only the changed file is a node (reported, quiet from now on).
        #expect(restarted.children.keys.map(\.text).sorted() == ["f0.csv"])
        #expect(restarted.idleFiles.count == 29)
    }

    @Test("the old name of an idle file renamed by link and unlink is reported after the new one, at once")
    func linkRenameOfAnIdleFile() throws {
        let tree = TempTree("quiet-link")
        let (engine, inotify, root) = try RecordOnlyDirectoryTests.engine(tree)
        defer { inotify.close() }
        tree.write("a.txt", "abc")
        engine.handle(RecordOrderTests.record(root, IN_CREATE, "a.txt"))
        engine.handle(RecordOrderTests.record(root, IN_CLOSE_WRITE, "a.txt"))
        engine.tick()
        _ = engine.batch.take()
        #expect(engine.roots[0].node?.idleFiles.count == 1)
        // Both done before the records are read: the new name's lstat shows one link.
        #expect(link(tree.at("a.txt"), tree.at("b.txt")) == 0)
        #expect(unlink(tree.at("a.txt")) == 0)
        engine.handle(RecordOrderTests.record(root, IN_CREATE, "b.txt"))
        engine.handle(RecordOrderTests.record(root, IN_DELETE, "a.txt"))
        let events = engine.batch.take().events.map { "\($0.kind) \($0.path) \($0.size.map(String.init) ?? "-")" }
        #expect(events == ["created b.txt 3", "deleted a.txt -"])
    }
}
