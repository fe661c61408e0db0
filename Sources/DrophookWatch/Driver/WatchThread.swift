import DrophookEvents
import Foundation
import Synchronization

/// A thread of its own that runs one actor's jobs in order: the serial executor of
/// ``WatchDriver``, as `CurlMultiLoop` has a thread for curl.
///
/// Why a thread and not the cooperative pool: the watch engine makes file-system calls
/// (`lstat`, directory listings, lease probes, opening files), each of which may block on a
/// slow disk. Swift's pool has one thread per core (two on a small drop host), so a long
/// directory walk there would hold back every delivery worker and the status reporter. Here
/// it holds back only the watcher, which is the one waiting for the disk anyway.
///
/// The thread ends once the actor it runs is gone (``stop()`` from the actor's `deinit`):
/// after that no job can be enqueued for it.
///
/// `@unchecked Sendable`: `state` is read and written only under `condition`'s lock.
final class WatchThread: SerialExecutor, @unchecked Sendable {
    private struct State {
        var jobs: [UnownedJob] = []
        var stopping = false
    }

    private let condition = NSCondition()
    private var state = State()
    /// Crossed when the thread has returned (tests wait on it).
    let finished = FinishLine()

    /// Starts the thread, named `name` in `top -H` and in debuggers.
    init(name: String) {
        let thread = Thread { [self] in
            WatchThread.markCurrent()
            run()
            finished.cross()
        }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        state.jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets the thread end once the jobs already queued have run.
    func stop() {
        condition.lock()
        state.stopping = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        let executor = asUnownedSerialExecutor()
        while true {
            condition.lock()
            while state.jobs.isEmpty, !state.stopping { condition.wait() }
            let jobs = state.jobs
            state.jobs.removeAll(keepingCapacity: true)
            let stopping = state.stopping
            condition.unlock()
            for job in jobs { job.runSynchronously(on: executor) }
            if stopping, jobs.isEmpty { return }
        }
    }

    // MARK: Which thread this is

    /// Whether the caller runs on a watch thread: the engine's entry points assert it, so work
    /// that slips onto the cooperative pool fails the tests loudly instead of slowing delivery.
    static var isCurrent: Bool { Thread.current.threadDictionary[marker] != nil }

    private static let marker = "drophook.watch-thread"

    private static func markCurrent() {
        Thread.current.threadDictionary[marker] = true
    }
}
