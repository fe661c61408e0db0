/// What a test puts between a watcher and the kernel, kept apart from ``WatcherConfiguration``
/// so that nothing a user configures can reach it; the public initializers of
/// ``DropTreeWatcher`` always use ``none``. The tests' own types fill it in (their gate on the
/// reader lives in the test target); the watcher only knows the protocols.
struct WatcherFaults: Sendable {
    /// Consulted by the inotify reader before each read; nil reads at once.
    var readHold: (any InotifyReadHold)?

    static let none = WatcherFaults()
}

/// A hold on the inotify reader: while ``isHeld``, it reads nothing, so records wait in the
/// kernel's queue (which then overflows as it would behind a stalled agent) and are read late.
protocol InotifyReadHold: Sendable {
    var isHeld: Bool { get }
}
