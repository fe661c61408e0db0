import DrophookTestSupport
import Foundation
import Testing

@testable import DrophookWatch

/// An actor whose jobs run on a ``WatchThread``, as ``WatchDriver``'s do.
private actor OnWatchThread {
    let thread: WatchThread
    nonisolated var unownedExecutor: UnownedSerialExecutor { thread.asUnownedSerialExecutor() }
    private(set) var order: [Int] = []
    private(set) var offThread = 0

    init(_ thread: WatchThread) { self.thread = thread }

    deinit { thread.stop() }

    func note(_ value: Int) {
        if !WatchThread.isCurrent { offThread += 1 }
        order.append(value)
    }

    /// Suspends and resumes: the part after the `await` runs on the thread again.
    func noteAcrossSuspension(_ value: Int) async {
        await Task.yield()
        try? await Task.sleep(for: .milliseconds(1))
        note(value)
    }
}

@Suite("The watch thread")
struct WatchThreadTests {
    @Test("an actor on a watch thread runs every job there, in the order each caller sent them, and resumes there after an await")
    func jobsRunOnTheThread() async {
        let actor = OnWatchThread(WatchThread(name: "drophook-watch-test"))
        #expect(!WatchThread.isCurrent, "a test task runs on the cooperative pool")
        for value in 0..<100 { await actor.note(value) }
        await withTaskGroup(of: Void.self) { group in
            for value in 100..<150 { group.addTask { await actor.noteAcrossSuspension(value) } }
        }
        let order = await actor.order
        #expect(Array(order.prefix(100)) == Array(0..<100))
        #expect(Set(order.dropFirst(100)) == Set(100..<150))
        #expect(await actor.offThread == 0)
    }

    @Test("the thread ends once its actor is gone")
    func threadEndsWithItsActor() async {
        let thread = WatchThread(name: "drophook-watch-test")
        var actor: OnWatchThread? = OnWatchThread(thread)
        await actor?.note(1)
        actor = nil
        await thread.finished.wait()
        #expect(actor == nil)
    }
}

@Suite("Checksums read off the watch thread")
struct ChecksumReaderTests {
    private static func job(_ id: UInt64, _ path: String) throws -> ChecksumReader.Job {
        let status = try #require(FileStatus.of(path: path))
        let (fd, opened) = try #require(FileChecksum.open(path: path, expected: status, limit: 1 << 30))
        return ChecksumReader.Job(id: id, descriptor: fd, status: opened, limit: 1 << 30)
    }

    /// How many of this process's descriptors are open on `path` (other tests run meanwhile,
    /// so descriptors are counted by what they point at).
    private static func openDescriptors(on path: String) -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return entries.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0)) == path }.count
    }

    @Test("a small file submitted after a large one is finished first, and both sums are right")
    func smallFileIsNotHeldBackByALargeOne() async throws {
        let tree = TempTree("checksum-turns")
        tree.write("large.bin", String(repeating: "x", count: 48 << 20))
        tree.write("small.txt", "hello drophook\n")
        let observed = Observed<ChecksumReader.Finished>()
        let box = Box()
        let reader = ChecksumReader(ready: {
            for finished in box.reader?.takeFinished() ?? [] { observed.append(finished) }
        })
        box.reader = reader
        defer { reader.stop() }
        reader.submit(try Self.job(1, tree.at("large.bin")))
        reader.submit(try Self.job(2, tree.at("small.txt")))
        #expect(await observed.wait(within: .seconds(30)) { $0.count == 2 })
        let all = observed.items
        #expect(all.map(\.id) == [2, 1])
        // `printf 'hello drophook\n' | sha256sum`
        #expect(all.first?.sha256 == "d47b93468c67471a4c5d762d1ee9beb2eef970a2fcd6007425e70ed5ef440c21")
        #expect(
            all.last?.sha256
                == FileChecksum.sha256(
                    path: tree.at("large.bin"), expected: try #require(FileStatus.of(path: tree.at("large.bin"))), limit: 1 << 30))
        #expect(all.last?.sha256 != nil)
    }

    @Test("waiting for one checksum reads it before the others")
    func waitedForChecksumGoesFirst() throws {
        let tree = TempTree("checksum-wait")
        tree.write("first.bin", String(repeating: "a", count: 48 << 20))
        tree.write("second.bin", String(repeating: "b", count: 8 << 20))
        let reader = ChecksumReader(ready: {})
        defer { reader.stop() }
        reader.submit(try Self.job(1, tree.at("first.bin")))
        reader.submit(try Self.job(2, tree.at("second.bin")))
        let finished = reader.waitFor(2)
        #expect(finished.map(\.id) == [2], "the 48 MiB file had at most a slice or two read while the 8 MiB one was waited for")
        #expect(finished.first?.sha256 != nil)
    }

    @Test("stopping drops the checksums not finished and closes their descriptors")
    func stopClosesDescriptors() async throws {
        let tree = TempTree("checksum-stop")
        tree.write("large.bin", String(repeating: "x", count: 32 << 20))
        let path = tree.at("large.bin")
        let reader = ChecksumReader(ready: {})
        for id in 1...8 { reader.submit(try Self.job(UInt64(id), path)) }
        #expect(Self.openDescriptors(on: path) == 8)
        reader.stop()
        await reader.stopped.wait()
        #expect(Self.openDescriptors(on: path) == 0)
        reader.submit(try Self.job(9, path))
        #expect(Self.openDescriptors(on: path) == 0, "a job submitted after the stop is closed at once")
    }
}

/// Lets the reader's `ready` closure reach the reader it belongs to.
private final class Box: @unchecked Sendable {
    // Set once before the first job is submitted; read by the reader's thread after that.
    var reader: ChecksumReader?
}
