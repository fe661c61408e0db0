import CLinux
import DrophookEvents
import Foundation
import Glibc
import Synchronization

/// Reads the inotify descriptor on its own thread with a large buffer and hands the raw records
/// to the processing task through a ``RawEventQueue``: nothing slow happens on this thread, so
/// the kernel queue drains as fast as the kernel fills it.
final class InotifyReader: Sendable {
    private let descriptor: InotifyDescriptor
    /// Pipe whose read end wakes the reader's `poll` when it must stop.
    private let stopFD: Int32
    private let stopWriteFD: Int32
    private let queue: RawEventQueue
    private let bufferSize: Int
    private let hold: (any InotifyReadHold)?
    private let watchedPaths: WatchedPaths
    /// Crossed when the thread has left its loop.
    private let stopped = FinishLine()

    init(
        descriptor: InotifyDescriptor, queue: RawEventQueue, watchedPaths: WatchedPaths, bufferSize: Int, hold: (any InotifyReadHold)?
    ) throws(WatchError) {
        self.descriptor = descriptor
        self.watchedPaths = watchedPaths
        self.queue = queue
        self.bufferSize = max(bufferSize, 4096)
        self.hold = hold
        var ends: [Int32] = [-1, -1]
        guard drophook_pipe_cloexec(&ends) == 0 else {
            throw WatchError(
                .readerFailed,
                "cannot create the inotify reader's wake-up pipe: \(WatchErrno(code: errno)); raise the open-file limit (LimitNOFILE)")
        }
        self.stopFD = ends[0]
        self.stopWriteFD = ends[1]
    }

    func start() {
        let thread = Thread { [self] in
            if let failure = self.readLoop() {
                // Nothing more will be heard: the processing task must stop the watcher, loudly.
                self.queue.fail(failure)
            }
            self.stopped.cross()
        }
        thread.name = "drophook-inotify"
        thread.start()
    }

    /// Asks the thread to stop; safe to call from any thread, more than once.
    func stop() {
        var one: UInt8 = 1
        _ = write(stopWriteFD, &one, 1)
    }

    /// Returns once the thread has left its loop (after ``stop()``); then the descriptor may be closed.
    func waitUntilStopped() async {
        await stopped.wait()
        _ = close(stopFD)
        _ = close(stopWriteFD)
    }

    /// Adds the watch of every directory these records say appeared (see ``WatchedPaths``), so
    /// that what happens inside it from now on is recorded even before the engine gets there.
    private func watchNewDirectories(_ events: [InotifyEvent]) {
        for event in events where event.has(IN_ISDIR) && (event.has(IN_CREATE) || event.has(IN_MOVED_TO)) {
            guard let name = event.name, let parent = watchedPaths.path(of: event.wd) else { continue }
            let path = parent + "/" + name
            if case .success(let wd) = descriptor.addDirectoryWatch(path: path) {
                watchedPaths.set(wd, path)
            }
        }
    }

    /// Reads until asked to stop (nil) or until the descriptor fails (the error).
    private func readLoop() -> WatchError? {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 8)
        defer { buffer.deallocate() }
        var fds = [
            pollfd(fd: descriptor.fd, events: Int16(POLLIN), revents: 0),
            pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            fds[0].revents = 0
            fds[1].revents = 0
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return WatchError(.readerFailed, "polling the inotify descriptor failed: \(WatchErrno(code: errno)); the watcher stops")
            }
            if fds[1].revents != 0 { return nil }
            guard fds[0].revents != 0 else { continue }
            if fds[0].revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0, fds[0].revents & Int16(POLLIN) == 0 {
                return WatchError(
                    .readerFailed, "the inotify descriptor reported an error (poll revents \(fds[0].revents)); the watcher stops")
            }
            while let hold, hold.isHeld {
                // A test's hold (``WatcherFaults``); the short nap is the stall itself.
                if fds.withUnsafeMutableBufferPointer({ poll(&$0[1], 1, 5) }) > 0 { return nil }
            }
            let count = read(descriptor.fd, buffer.baseAddress, bufferSize)
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return WatchError(.readerFailed, "reading the inotify descriptor failed: \(WatchErrno(code: errno)); the watcher stops")
            }
            if count == 0 {
                return WatchError(.readerFailed, "the inotify descriptor returned end of file; the watcher stops")
            }
            var events: [InotifyEvent] = []
            events.reserveCapacity(count / 32)
            InotifyRecordParser.parse(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), into: &events)
            watchNewDirectories(events)
            queue.push(events)
        }
    }
}

/// Raw inotify records waiting for the processing task, with a doorbell that wakes it, and the
/// reader's failure once it can read no more.
final class RawEventQueue: Sendable {
    private struct Held {
        var chunks: [[InotifyEvent]] = []
        var count = 0
        /// Records were dropped since the last drain: a rescan is owed.
        var dropped = 0
    }

    /// The `wd` of the overflow record the queue adds itself when it dropped records at its
    /// bound, to tell it from the kernel's own `IN_Q_OVERFLOW` (wd -1).
    static let boundWD: Int32 = -2

    private let held = Mutex(Held())
    private let failure = Mutex<WatchError?>(nil)
    /// Most records held (``WatcherConfiguration/maxQueuedRecords``).
    let limit: Int
    let doorbell: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    /// Told each time records are dropped, on the reader's thread, while the processing task
    /// may still be held up: the metric and the status count drops as they happen, which is
    /// when an operator looks (the disk is full now), not once the outbox takes batches again.
    private let dropped: @Sendable (Int) -> Void

    init(limit: Int = .max, dropped: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.limit = max(limit, 1)
        self.dropped = dropped
        // Rings coalesce: the processing task drains everything on each wake.
        (doorbell, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Holds the records for the processing task. Past the bound (the processing task is held
    /// up, e.g. by an outbox that cannot be written) records are dropped and counted: the
    /// reader keeps draining the kernel queue, memory stays bounded, and the drain ends with an
    /// overflow record, so the tree is rescanned and nothing is lost track of.
    func push(_ events: [InotifyEvent]) {
        guard !events.isEmpty else { return }
        let isDropped = held.withLock { held in
            if held.dropped > 0 || held.count + events.count > limit {
                held.dropped += events.count
                return true
            }
            held.chunks.append(events)
            held.count += events.count
            return false
        }
        if isDropped { dropped(events.count) }
        continuation.yield()
    }

    func ring() { continuation.yield() }

    /// The reader stopped on an error: the next drain throws it.
    func fail(_ error: WatchError) {
        failure.withLock { $0 = error }
        continuation.yield()
    }

    /// The reader's failure, if it has failed.
    var readerFailure: WatchError? { failure.withLock { $0 } }

    func finish() { continuation.finish() }

    /// Everything held, oldest first; when records were dropped, ends with an overflow record
    /// (wd ``boundWD``) and says how many were dropped.
    func takeAll() -> (chunks: [[InotifyEvent]], dropped: Int) {
        held.withLock { held in
            defer { held = Held() }
            var chunks = held.chunks
            if held.dropped > 0 {
                chunks.append([InotifyEvent(wd: Self.boundWD, mask: UInt32(bitPattern: IN_Q_OVERFLOW), cookie: 0, name: nil)])
            }
            return (chunks, held.dropped)
        }
    }

    var isEmpty: Bool { held.withLock { $0.chunks.isEmpty && $0.dropped == 0 } }
}
