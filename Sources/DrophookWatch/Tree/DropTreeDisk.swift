import DrophookEvents
import Glibc

/// Every question the watch engine asks the file system and the kernel, in one place: a look
/// (`lstat`), a listing, a descriptor held while a writer writes, a writer probe, and adding or
/// dropping a directory's inotify watch.
///
/// The agent's engine asks the machine (``LocalDisk``); a test's engine asks a tree it keeps in
/// memory, so the races between records and what the disk says now can be played in any order
/// without a disk. Checksums are read elsewhere (``ChecksumReader``).
protocol DropTreeDisk {
    /// A watch root's real path, symlinks resolved; nil when it does not exist.
    func resolve(root path: String) -> String?
    /// Whether the agent may take read leases on files under a root (``LeaseSupport``).
    func leaseSupport(root path: String) -> LeaseSupport
    /// A warning when a root is on a file system whose remote writes inotify cannot see.
    func remoteWritesWarning(watch: String, root path: String) -> String?
    /// Whether the agent may list and enter the directory at `path` now.
    func mayEnter(directory path: String) -> Bool
    /// The entry at `path`, not following a symlink; nil when it is gone.
    func status(of path: String) -> FileStatus?
    /// The entries of a directory, each looked at.
    func list(directory path: String) -> Result<[(name: String, status: FileStatus)], WatchErrno>
    /// A read-only descriptor on the file at `path` and its status through it; nil when it
    /// cannot be opened (then no final size is kept for a file gone before its close is read).
    func openForStatus(path: String) -> (Int32, FileStatus)?
    /// The status of the file a descriptor from ``openForStatus(path:)`` holds, names or not.
    func status(ofHeld descriptor: Int32) -> FileStatus?
    /// Whether a writer has the file open (``WriterProbe``).
    func probeWriter(path: String) -> WriterProbe.Answer
    /// Adds the inotify watch of a directory.
    func addDirectoryWatch(path: String) -> Result<Int32, WatchErrno>
    /// Drops a watch the engine gave up.
    func removeWatch(_ wd: Int32)
}

/// The machine's file system and inotify descriptor.
struct LocalDisk: DropTreeDisk {
    let inotify: InotifyDescriptor

    func resolve(root path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return PathBytes.string(cString: resolved)
    }

    func leaseSupport(root path: String) -> LeaseSupport { LeaseSupport.assess(root: path) }

    func remoteWritesWarning(watch: String, root path: String) -> String? {
        WatchPreflight.remoteWritesWarning(watch: watch, root: path)
    }

    func mayEnter(directory path: String) -> Bool { access(path, R_OK | X_OK) == 0 }

    func status(of path: String) -> FileStatus? { FileStatus.of(path: path) }

    func list(directory path: String) -> Result<[(name: String, status: FileStatus)], WatchErrno> {
        FileStatus.list(directory: path)
    }

    func openForStatus(path: String) -> (Int32, FileStatus)? { FileStatus.openForStatus(path: path) }

    func status(ofHeld descriptor: Int32) -> FileStatus? { FileStatus.of(descriptor: descriptor) }

    func probeWriter(path: String) -> WriterProbe.Answer { WriterProbe.probe(path: path) }

    func addDirectoryWatch(path: String) -> Result<Int32, WatchErrno> { inotify.addDirectoryWatch(path: path) }

    func removeWatch(_ wd: Int32) { inotify.removeWatch(wd) }
}
