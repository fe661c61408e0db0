import DrophookEvents
import Foundation

/// Reads the checksums of finished files (``FileChecksum``) on a thread of its own, one slice
/// of each file in turn, and hands them back to the watch engine.
///
/// Why a thread: a 250 MiB file takes a fifth of a second to hash from the page cache and
/// the disk's read time from a cold one. Hashed on the watch thread, every file closed after it
/// would wait that long for its event. Why turns: a 1-byte file submitted while a large one is
/// read is done within one slice of it, not after it.
///
/// Jobs are identified by the engine's numbers; ``waitFor(_:)`` is how the engine keeps a
/// file's events in order (a delete or rename of a file whose checksum is still being read
/// waits for that checksum, and only for it).
///
/// `@unchecked Sendable`: `state` is read and written only under `condition`'s lock; `active`
/// and `buffer` belong to the reading thread alone.
final class ChecksumReader: @unchecked Sendable {
    /// A file opened for its checksum, handed over by the engine with its descriptor.
    struct Job: Sendable {
        var id: UInt64
        var descriptor: Int32
        var status: FileStatus
        var limit: Int64
    }

    /// A finished checksum: nil when it describes no reported version of the file.
    struct Finished: Sendable, Equatable {
        var id: UInt64
        var sha256: String?
    }

    private struct State {
        var submitted: [Job] = []
        var finished: [Finished] = []
        var urgent: Set<UInt64> = []
        var stopping = false
    }

    private let condition = NSCondition()
    private var state = State()
    private var active: [(id: UInt64, checksum: FileChecksum)] = []
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: FileChecksum.sliceBytes, alignment: 16)
    private let ready: @Sendable () -> Void
    /// Crossed when the thread has returned and closed every descriptor.
    let stopped = FinishLine()

    /// - Parameter ready: called (on the reading thread) after checksums finish, so the engine
    ///   takes them (``takeFinished()``).
    init(ready: @escaping @Sendable () -> Void) {
        self.ready = ready
        let thread = Thread { [self] in
            run()
            stopped.cross()
        }
        thread.name = "drophook-sha256"
        thread.start()
    }

    deinit { buffer.deallocate() }

    /// Queues a checksum; the reader owns `job.descriptor` from now on.
    func submit(_ job: Job) {
        condition.lock()
        if state.stopping {
            _ = close(job.descriptor)
        } else {
            state.submitted.append(job)
        }
        condition.broadcast()
        condition.unlock()
    }

    /// Checksums finished since the last call, in the order they finished.
    func takeFinished() -> [Finished] {
        condition.lock()
        defer { condition.unlock() }
        let finished = state.finished
        state.finished.removeAll()
        return finished
    }

    /// Blocks until checksum `id` is done, reading it before any other, and returns every
    /// checksum finished by then (the one waited for among them).
    func waitFor(_ id: UInt64) -> [Finished] {
        condition.lock()
        defer { condition.unlock() }
        state.urgent.insert(id)
        condition.broadcast()
        while !state.finished.contains(where: { $0.id == id }), !state.stopping { condition.wait() }
        let finished = state.finished
        state.finished.removeAll()
        return finished
    }

    /// Stops reading: checksums not finished are dropped (their files were never committed, so
    /// the next start's scan reports them again) and their descriptors closed.
    func stop() {
        condition.lock()
        state.stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while state.submitted.isEmpty, active.isEmpty, !state.stopping { condition.wait() }
            if state.stopping {
                for job in state.submitted { _ = close(job.descriptor) }
                state.submitted = []
                condition.unlock()
                active = []
                return
            }
            for job in state.submitted {
                active.append((job.id, FileChecksum(descriptor: job.descriptor, before: job.status, limit: job.limit)))
            }
            state.submitted.removeAll()
            let urgent = state.urgent
            condition.unlock()
            readRound(only: urgent)
        }
    }

    /// One slice of every active checksum, or, while the engine waits for some, of those alone.
    private func readRound(only urgent: Set<UInt64>) {
        let waitedFor = active.contains { urgent.contains($0.id) }
        var done: [Finished] = []
        var index = 0
        while index < active.count {
            let (id, checksum) = active[index]
            guard !waitedFor || urgent.contains(id) else {
                index += 1
                continue
            }
            if case .done(let sum) = checksum.readSlice(buffer) {
                done.append(Finished(id: id, sha256: sum))
                active.remove(at: index)
            } else {
                index += 1
            }
        }
        guard !done.isEmpty else { return }
        condition.lock()
        state.finished.append(contentsOf: done)
        for item in done { state.urgent.remove(item.id) }
        condition.broadcast()
        condition.unlock()
        ready()
    }
}
