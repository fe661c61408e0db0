import DrophookTestSupport
import Foundation
import Glibc
import Testing

@_spi(Fuzzing) @testable import DrophookWatch

/// The parts of the watch engine's state, each driven by its inputs alone: no disk, no clock.
@Suite("Watch engine parts")
struct EnginePartsTests {
    private static func directory(_ name: String) -> TreeNode {
        TreeNode(name: name, kind: .directory, status: .unknown, now: .zero)
    }

    private static func record(_ wd: Int32, _ mask: Int32) -> InotifyEvent {
        InotifyEvent(wd: wd, mask: UInt32(bitPattern: mask), cookie: 0, name: "x")
    }

    @Test("a descriptor number given up and handed out again skips the old directory's records until its IN_IGNORED")
    func retiredDescriptorReusedSkipsOldRecords() {
        let paths = WatchedPaths()
        var descriptors = WatchDescriptors(paths: paths)
        let old = Self.directory("old")
        descriptors.watch(old, wd: 7, path: "/d/old")
        #expect(descriptors[7] === old && old.wd == 7 && paths.path(of: 7) == "/d/old")
        let released = descriptors.release(old)
        #expect(released == 7, "the caller asks the kernel to drop it")
        #expect(old.wd == -1 && descriptors[7] == nil && paths.path(of: 7) == nil)
        let again = descriptors.release(old)
        #expect(again == nil, "released once")
        let new = Self.directory("new")
        descriptors.watch(new, wd: 7, path: "/d/new")
        let skipped = [IN_CREATE, IN_IGNORED, IN_CREATE].map { descriptors.isStale(Self.record(7, $0)) }
        #expect(
            skipped == [true, true, false], "the old directory's late record and its IN_IGNORED are skipped; then the new one's are not")
        #expect(descriptors[7] === new)
        let dropped = descriptors.ignored(7)
        #expect(dropped === new, "the kernel drops the new one")
        #expect(new.wd == -1 && descriptors.count == 0)
    }

    @Test("a directory found under a new name before its move records takes its descriptor over")
    func sameDirectoryUnderANewName() {
        var descriptors = WatchDescriptors(paths: WatchedPaths())
        let before = Self.directory("a")
        let after = Self.directory("b")
        descriptors.watch(before, wd: 3, path: "/d/a")
        descriptors.watch(after, wd: 3, path: "/d/b")
        #expect(before.wd == -1 && after.wd == 3 && descriptors[3] === after)
        let released = descriptors.release(before)
        let unknown = descriptors.ignored(99)
        #expect(released == nil, "the old node no longer holds it")
        #expect(unknown == nil)
    }

    @Test("deadlines hold exactly the nodes whose phase has one")
    func deadlinesFollowPhases() {
        var deadlines = Deadlines()
        let node = TreeNode(name: "f", kind: .file, status: .unknown, now: .zero)
        deadlines.enter(node, .awaitingOpen(deadline: .seconds(1)))
        #expect(deadlines.nodes.count == 1)
        deadlines.enter(node, .writing)
        #expect(deadlines.isEmpty && node.phase == .writing)
        deadlines.enter(node, .settling(window: .seconds(2), foundByScan: true, since: .zero, acceptOldMtime: false))
        #expect(deadlines.nodes.count == 1)
        deadlines.remove(node)
        #expect(deadlines.isEmpty)
    }

    @Test("a rescan is due at once; overflows within a minute back off, doubling up to the bound; a quiet minute resets")
    func rescanBacksOffInAStorm() {
        var schedule = RescanSchedule(maxBackoff: .seconds(2))
        var log: [String] = []
        func overflow(_ at: Duration) { log.append("overflow \(at) → \(schedule.overflowed(at: at))") }
        func tick(_ at: Duration) { log.append("tick \(at) \(schedule.takeDue(at: at) ? "rescan" : "-")") }
        overflow(.seconds(10))
        tick(.seconds(9))
        tick(.seconds(10))
        tick(.seconds(10))
        // Within a minute of the last: 0.5 s after the last rescan, then 1 s, 2 s, and 2 s (the bound).
        overflow(.milliseconds(10_100))
        tick(.milliseconds(10_400))
        tick(.milliseconds(10_500))
        overflow(.milliseconds(10_600))
        tick(.milliseconds(11_500))
        overflow(.milliseconds(11_600))
        tick(.milliseconds(13_500))
        overflow(.milliseconds(13_600))
        tick(.milliseconds(15_500))
        // A minute without overflows: at once again; a second one never moves the rescan later.
        overflow(.seconds(100))
        overflow(.seconds(101))
        #expect(
            log == [
                "overflow 10.0 seconds → 10.0 seconds", "tick 9.0 seconds -", "tick 10.0 seconds rescan", "tick 10.0 seconds -",
                "overflow 10.1 seconds → 10.5 seconds", "tick 10.4 seconds -", "tick 10.5 seconds rescan",
                "overflow 10.6 seconds → 11.5 seconds", "tick 11.5 seconds rescan",
                "overflow 11.6 seconds → 13.5 seconds", "tick 13.5 seconds rescan",
                "overflow 13.6 seconds → 15.5 seconds", "tick 15.5 seconds rescan",
                "overflow 100.0 seconds → 100.0 seconds", "overflow 101.0 seconds → 101.0 seconds",
            ])
        #expect(schedule.due == .seconds(100))
    }

    @Test("unwatched directories are retried after the interval; the first one says the limit was reached")
    func unwatchedAreRetried() {
        var unwatched = UnwatchedDirectories(retryInterval: .seconds(5))
        let a = Self.directory("a")
        let b = Self.directory("b")
        let first = [unwatched.add(a, at: .seconds(1)), unwatched.add(b, at: .seconds(2))]
        #expect(first == [true, false])
        let early = unwatched.takeDue(at: .seconds(5))
        let due = unwatched.takeDue(at: .seconds(6))
        let again = unwatched.takeDue(at: .seconds(7))
        #expect(early == nil && due?.count == 2)
        #expect(again == nil, "not again until scheduled")
        let removed = [unwatched.remove(a), unwatched.remove(a)]
        #expect(removed == [true, false])
        unwatched.scheduleRetry(at: .seconds(7))
        let retried = unwatched.takeDue(at: .seconds(12))
        #expect(retried?.count == 1 && retried?.first === b)
    }

    @Test("held files are bounded and each descriptor is closed once")
    func heldFilesAreBounded() throws {
        let tree = TempTree("held")
        tree.write("held.bin", "x")
        let path = tree.at("held.bin")
        func openOnFile() -> Int {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
            return entries.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0)) == path }.count
        }
        var held = HeldFiles()
        var nodes: [TreeNode] = []
        for index in 0...HeldFiles.limit {
            let node = TreeNode(name: "f\(index)", kind: .file, status: .unknown, now: .zero)
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            try #require(fd >= 0)
            held.hold(node, descriptor: fd)
            nodes.append(node)
        }
        #expect(held.count == HeldFiles.limit && held.isFull)
        #expect(!held.holds(nodes[HeldFiles.limit]))
        #expect(openOnFile() == HeldFiles.limit, "the one over the bound was closed at once")
        let taken = held.takeStatus(nodes[0], status: FileStatus.of(descriptor:))
        #expect(taken?.size == 1, "read through the descriptor")
        #expect(openOnFile() == HeldFiles.limit - 1)
        let twice = held.takeStatus(nodes[0], status: FileStatus.of(descriptor:))
        #expect(twice == nil, "taken once")
        held.releaseAll()
        #expect(held.count == 0 && openOnFile() == 0)
    }
}
