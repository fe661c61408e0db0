/// Faults a test injects into a watcher: a stalled reader (so the kernel queue overflows; a
/// real watch limit is made with the sysctl itself). Kept apart from
/// ``WatcherConfiguration`` so that nothing a user configures can reach them; the public
/// initializers of ``DropTreeWatcher`` always use ``none``.
struct WatcherFaults: Sendable {
    /// While closed, the inotify reader reads nothing.
    var readerGate: ReaderGate?

    static let none = WatcherFaults()

    /// Puts a gate on the reader and returns it, so a test can hold records back and have them read late.
    mutating func gateReader() -> ReaderGate {
        let gate = ReaderGate()
        readerGate = gate
        return gate
    }
}
