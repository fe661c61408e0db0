import DrophookEvents
import DrophookTestSupport
import Glibc
import Logging

@_spi(Fuzzing) @testable import DrophookWatch

/// A drop tree kept in memory, answering the engine's looks, listings, probes and watches as
/// the machine would at that moment: a test changes it, then hands the engine the records the
/// kernel would have queued, in whatever order the race it plays needs. No file is touched.
final class MemoryDisk: DropTreeDisk {
    /// Every entry by absolute path.
    private(set) var entries: [String: FileStatus] = [:]
    /// Files a writer has open: a probe finds a writer.
    var openForWriting: Set<String> = []
    /// Every file's latest status by inode, kept after its last name is gone, as the kernel
    /// keeps an open file.
    private var byInode: [UInt64: FileStatus] = [:]
    /// The inode each descriptor handed out by ``openForStatus(path:)`` holds.
    private var held: [Int32: UInt64] = [:]
    /// False: no descriptor can be opened to hold a file (out of descriptors, say).
    var descriptorsAvailable = true
    private var nextInode: UInt64 = 100
    /// inotify numbers a watch per inode, and hands the same number back for the same inode.
    private var watchByInode: [UInt64: Int32] = [:]
    private var nextWD: Int32 = 1
    /// The mtime every new or written file gets: an hour ago by the wall clock, unless a test
    /// says otherwise.
    var mtimeNanos = WallClock.nanoseconds() - 3_600_000_000_000

    init(root: String) {
        entries[root] = status(.directory, size: 0)
    }

    private func status(_ kind: FileStatus.Kind, size: Int64) -> FileStatus {
        nextInode += 1
        return FileStatus(kind: kind, device: 1, inode: nextInode, size: size, mtimeNanos: mtimeNanos, uid: 1000, linkCount: 1)
    }

    func mkdir(_ path: String) { entries[path] = status(.directory, size: 0) }

    /// Creates the file, or writes `size` bytes to the one there (its inode kept).
    func write(_ path: String, size: Int64) {
        var entry = entries[path] ?? status(.file, size: size)
        entry.size = size
        entry.mtimeNanos = mtimeNanos
        for (other, status) in entries where status.inode == entry.inode { entries[other] = entry }
        entries[path] = entry
        byInode[entry.inode] = entry
    }

    /// `rename(2)`: the entry and everything under it move, inodes kept.
    func rename(_ from: String, _ to: String) {
        for (path, entry) in entries where path == from || path.hasPrefix(from + "/") {
            entries[path] = nil
            entries[to + path.dropFirst(from.count)] = entry
        }
    }

    /// `link(2)`: a second name for the same inode.
    func link(_ from: String, _ to: String) {
        guard var entry = entries[from] else { return }
        entry.linkCount += 1
        entries[from] = entry
        entries[to] = entry
    }

    /// `unlink(2)` or `rmdir(2)` of an entry and what is under it.
    func remove(_ path: String) {
        for key in entries.keys where key == path || key.hasPrefix(path + "/") { entries[key] = nil }
    }

    // MARK: DropTreeDisk

    func resolve(root path: String) -> String? { entries[path] == nil ? nil : path }

    /// Leases work here, as on a local file system with `CAP_LEASE`, unless a test says not.
    var leases = true

    func leaseSupport(root path: String) -> LeaseSupport {
        leases ? LeaseSupport(mode: .lease, reason: nil) : LeaseSupport(mode: .stability, reason: "no leases on this tree")
    }

    func remoteWritesWarning(watch: String, root path: String) -> String? { nil }

    func mayEnter(directory path: String) -> Bool { entries[path]?.kind == .directory }

    func status(of path: String) -> FileStatus? { entries[path] }

    func list(directory path: String) -> Result<[(name: String, status: FileStatus)], WatchErrno> {
        guard entries[path]?.kind == .directory else { return .failure(WatchErrno(code: ENOENT)) }
        let prefix = path + "/"
        return .success(
            entries.compactMap { key, status in
                guard key.hasPrefix(prefix), !key.dropFirst(prefix.count).contains("/") else { return nil }
                return (String(key.dropFirst(prefix.count)), status)
            }.sorted { $0.name < $1.name })
    }

    /// A real descriptor (on /dev/null, which the engine may close) standing for the file.
    func openForStatus(path: String) -> (Int32, FileStatus)? {
        guard descriptorsAvailable, let status = entries[path], status.kind == .file else { return nil }
        let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        held[fd] = status.inode
        return (fd, status)
    }

    func status(ofHeld descriptor: Int32) -> FileStatus? { held[descriptor].flatMap { byInode[$0] } }

    func probeWriter(path: String) -> WriterProbe.Answer {
        guard let status = entries[path], status.kind == .file else { return .gone }
        // The engine closes the descriptor handed over; /dev/null is one it may close.
        if openForWriting.contains(path) {
            let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
            held[fd] = status.inode
            return .writerPresent(descriptor: fd)
        }
        return .noWriter(status)
    }

    func addDirectoryWatch(path: String) -> Result<Int32, WatchErrno> {
        guard let status = entries[path] else { return .failure(WatchErrno(code: ENOENT)) }
        guard status.kind == .directory else { return .failure(WatchErrno(code: ENOTDIR)) }
        if let wd = watchByInode[status.inode] { return .success(wd) }
        nextWD += 1
        watchByInode[status.inode] = nextWD
        return .success(nextWD)
    }

    func removeWatch(_ wd: Int32) {
        watchByInode = watchByInode.filter { $0.value != wd }
    }

    /// The watch the kernel gave the directory at `path`.
    func wd(_ path: String) -> Int32? { entries[path].flatMap { watchByInode[$0.inode] } }
}

/// An engine over a ``MemoryDisk`` at `/drop`, on a clock the test moves, fed records by the test.
struct DisklessEngine {
    static let root = "/drop"
    let disk: MemoryDisk
    let engine: WatchEngine
    let clock: MockClock

    /// `prepare` lays out what is on disk before the engine starts (and scans it).
    init(configure: (inout WatcherConfiguration) -> Void = { _ in }, prepare: (MemoryDisk) -> Void = { _ in }) {
        disk = MemoryDisk(root: Self.root)
        prepare(disk)
        clock = MockClock()
        var configuration = WatcherConfiguration(
            watches: [WatchConfiguration(name: "drop", root: Self.root)], catchUp: true, scanSettle: .milliseconds(300))
        configuration.idleFileCompaction = .zero
        configure(&configuration)
        var logger = Logger(label: "drophook.watch.diskless")
        logger.logLevel = .critical
        engine = WatchEngine(
            configuration: configuration, disk: disk, watchedPaths: WatchedPaths(), timeline: WatchTimeline(clock),
            logger: logger, health: HealthCell(), metrics: WatchMetrics())
        var snapshot: [SnapshotRecord] = []
        engine.start(snapshot: &snapshot)
        _ = engine.batch.take()
    }

    /// The record the kernel would queue for `name` in the directory at `directory` (relative to the root).
    func record(_ directory: String, _ mask: Int32, _ name: String, cookie: UInt32 = 0) -> InotifyEvent {
        let path = directory.isEmpty ? Self.root : Self.root + "/" + directory
        let wd = disk.wd(path) ?? engine.roots[0].node?.wd ?? -1
        return InotifyEvent(wd: wd, mask: UInt32(bitPattern: mask), cookie: cookie, name: name)
    }

    /// The same, for a directory named by its absolute path (another watch's).
    func record(absolute directory: String, _ mask: Int32, _ name: String, cookie: UInt32 = 0) -> InotifyEvent {
        InotifyEvent(wd: disk.wd(directory) ?? -1, mask: UInt32(bitPattern: mask), cookie: cookie, name: name)
    }

    /// A record about the directory at `directory` itself (`IN_DELETE_SELF`, `IN_IGNORED`), on
    /// its own descriptor; `wd` names it when it is gone from the disk already.
    func selfRecord(_ wd: Int32, _ mask: Int32) -> InotifyEvent {
        InotifyEvent(wd: wd, mask: UInt32(bitPattern: mask), cookie: 0, name: nil)
    }

    /// Hands the engine these records in order.
    func feed(_ records: [InotifyEvent]) {
        for record in records { engine.handle(record) }
    }

    /// Moves the clock on and lets the engine's timers run.
    func pass(_ duration: Duration) {
        clock.advance(by: duration)
        engine.tick()
    }

    /// What the engine said since the last call, as `kind path` lines.
    func said() -> [String] {
        engine.batch.take().events.map { "\($0.kind) \($0.path)" }
    }

    /// The same, as `kind watch path` lines.
    func saidWithWatches() -> [String] {
        engine.batch.take().events.map { "\($0.kind) \($0.watch) \($0.path)" }
    }

    func at(_ relative: String) -> String { Self.root + "/" + relative }
}
