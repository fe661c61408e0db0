import Synchronization

/// The absolute path (escaped text) of each watched directory by watch descriptor, shared by
/// the engine (which keeps it current) and the reader thread (which reads it).
///
/// Why the reader needs it: when a record says a directory appeared, the reader adds that
/// directory's watch at once, before the record has gone through the queue and the engine.
/// An SFTP client's `mkdir sub`, `put sub/c.txt`, `rm sub/c.txt` take a few milliseconds in
/// all; a watch added only when the engine reaches the record can come after the file has come
/// and gone, and then inotify has nothing to say about it. The engine adds the same watch again
/// when it handles the record (the kernel returns the same descriptor), lists the directory,
/// and adopts the descriptor; one it never adopts ends with the directory (`IN_IGNORED`).
final class WatchedPaths: Sendable {
    private let paths = Mutex<[Int32: String]>([:])

    init() {}

    func path(of wd: Int32) -> String? { paths.withLock { $0[wd] } }

    func set(_ wd: Int32, _ path: String) { paths.withLock { $0[wd] = path } }

    func remove(_ wd: Int32) { _ = paths.withLock { $0.removeValue(forKey: wd) } }
}
