import Synchronization

/// A one-time signal that a thread or loop has ended: ``cross()`` once, and every
/// ``wait()``, before or after, returns. Shared by the inotify reader and the curl loop, whose
/// owners must not close descriptors or handles until their thread has let go of them.
public final class FinishLine: Sendable {
    private struct State {
        var crossed = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Marks the end and wakes everyone waiting; later calls do nothing more.
    public func cross() {
        let waiters = state.withLock { state in
            state.crossed = true
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns once ``cross()`` has been called.
    public func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let crossed = state.withLock { state in
                if !state.crossed { state.waiters.append(continuation) }
                return state.crossed
            }
            if crossed { continuation.resume() }
        }
    }
}
