/// Faults a test injects into a watcher: a stalled reader (so the kernel queue overflows) and
/// a lower watch limit (without lowering the system-wide sysctl). Kept apart from
/// ``WatcherConfiguration`` so that nothing a user configures can reach them; the public
/// initializers of ``DropTreeWatcher`` always use ``none``.
struct WatcherFaults: Sendable {
    /// While closed, the inotify reader reads nothing.
    var readerGate: ReaderGate?
    /// `inotify_add_watch` fails with ENOSPC once this many directories are watched.
    var watchLimit: Int?

    static let none = WatcherFaults()

    /// Puts a gate on the reader and returns it, so a test can hold records back and have them read late.
    mutating func gateReader() -> ReaderGate {
        let gate = ReaderGate()
        readerGate = gate
        return gate
    }
}
