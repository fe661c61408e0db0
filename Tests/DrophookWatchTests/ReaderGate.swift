import Synchronization

@testable import DrophookWatch

/// A gate on a watcher's inotify reader: closed, the reader reads nothing, so records wait in
/// the kernel's queue (and overflow it) and are read late, after what the test did meanwhile.
final class ReaderGate: InotifyReadHold {
    private let closed = Mutex(false)
    var isHeld: Bool { closed.withLock { $0 } }
    func close() { closed.withLock { $0 = true } }
    func open() { closed.withLock { $0 = false } }
}

extension WatcherFaults {
    /// Puts a gate on the reader and returns it, so a test can hold records back and have them read late.
    mutating func gateReader() -> ReaderGate {
        let gate = ReaderGate()
        readHold = gate
        return gate
    }
}
