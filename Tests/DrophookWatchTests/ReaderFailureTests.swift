import DrophookEvents
import Foundation
import Glibc
import Testing

@testable import DrophookWatch

/// A watcher that can no longer hear the kernel stops with an error instead of looking healthy.
@Suite("Inotify reader failure")
struct ReaderFailureTests {
    @Test(.timeLimit(.minutes(1)))
    func aReadErrorStopsTheWatcherWithAnError() async throws {
        let tree = TempTree("reader-failure")
        let before = Self.inotifyDescriptors()
        let harness = try await WatchHarness.start(.test(tree))
        let added = Self.inotifyDescriptors().subtracting(before)
        let fd = try #require(added.count == 1 ? added.first : nil, "the watcher's inotify descriptor is not found")
        // Replace the descriptor with a directory: poll says readable, read(2) fails with EISDIR,
        // as an inotify descriptor in a broken state would.
        let directory = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        #expect(dup2(directory, fd) == fd)
        close(directory)
        // The reader's poll still sleeps on the old instance: a record wakes it, and its read
        // then meets the directory.
        tree.write("wake", "")
        let error = await harness.endError()
        let failure = try #require(error as? WatchError, "the watcher must end with a WatchError, got \(String(describing: error))")
        #expect(failure.code == .readerFailed)
        #expect(failure.description.contains("Is a directory"))
        #expect(!harness.watcher.health.isWatching)
    }

    /// This process's inotify descriptors, from /proc/self/fd.
    static func inotifyDescriptors() -> Set<Int32> {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return Set(
            entries.compactMap { entry -> Int32? in
                let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + entry)
                return target == "anon_inode:inotify" ? Int32(entry) : nil
            })
    }
}
