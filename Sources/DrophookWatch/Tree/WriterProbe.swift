import CLinux
import DrophookEvents
import Foundation
import Glibc

/// Asks the kernel whether any process still has a file open for writing, instead of waiting
/// for the file to look stable.
///
/// Linux grants a read lease (`F_SETLEASE`, `F_RDLCK`, on an `O_RDONLY` descriptor) only while no
/// descriptor anywhere on the system holds the file open for writing, and refuses it with
/// `EAGAIN` otherwise. Granted, the lease is released at once: it was only a question. A lease
/// that a writer breaks in the instant it is held sends the holder `SIGIO`, whose default action
/// ends the process; ``ignoreLeaseBreakSignal()`` makes that harmless.
///
/// The probe's own `open` shows up on the directory's watch as `IN_OPEN` (and
/// `IN_CLOSE_NOWRITE`, which the watcher does not ask for); the engine never takes an `IN_OPEN`
/// for a writer unless a name is waiting for its first writer.
enum WriterProbe {
    /// What the kernel said about one path.
    enum Answer: Equatable {
        /// Nobody has it open for writing: the file is finished, with this status (taken while
        /// the lease was held, so no write can have slipped in after it).
        case noWriter(FileStatus)
        /// Some process has it open for writing: its `IN_CLOSE_WRITE` will come. The probe's
        /// read-only descriptor is handed over (the caller closes it), so the size it was closed
        /// with can be read even if the name is gone by the time the close is handled.
        case writerPresent(descriptor: Int32)
        /// The path is gone, or is no longer a regular file.
        case gone
        /// The agent cannot open the file (mode 000 without `CAP_DAC_READ_SEARCH`, …): this file
        /// waits for stability.
        case unreadable(errno: Int32)
        /// Leases cannot answer for this file (no `CAP_LEASE` and not the owner, leases
        /// disabled, a file system that refuses them): fall back to the stability rule.
        case unavailable(errno: Int32)
    }

    /// Asks whether `path` (escaped text, ``PathBytes``) has a writer.
    static func probe(path: String) -> Answer {
        // O_NONBLOCK: a FIFO that replaced the file never blocks the watcher; O_NOFOLLOW: a
        // symlink is never followed out of the tree.
        let fd = PathBytes.withCString(path) { open($0, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY) }
        guard fd >= 0 else {
            let code = errno
            return code == ENOENT || code == ELOOP || code == ENOTDIR ? .gone : .unreadable(errno: code)
        }
        var keep = false
        defer { if !keep { _ = close(fd) } }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return .gone }
        guard drophook_set_lease(fd, Int32(F_RDLCK)) == 0 else {
            let code = errno
            guard code == EAGAIN else { return .unavailable(errno: code) }
            keep = true
            return .writerPresent(descriptor: fd)
        }
        let held = fstat(fd, &st) == 0
        _ = drophook_set_lease(fd, Int32(F_UNLCK))
        return held ? .noWriter(FileStatus(st)) : .gone
    }

    /// Sets `SIGIO` (the lease-break signal) to be ignored, process-wide and once. The agent
    /// uses no other `SIGIO`; the probe releases its lease right away, so the break needs no answer.
    static func ignoreLeaseBreakSignal() {
        _ = ignoreOnce
    }

    private static let ignoreOnce: Void = {
        _ = signal(SIGIO, SIG_IGN)
    }()
}

/// How a watch decides that a file found by a scan (a new directory's listing, an overflow
/// rescan, catch-up at start) has finished arriving.
public enum CompletionMode: String, Sendable, Hashable {
    /// Ask the kernel (a read lease): reported at once when nobody is writing, at its
    /// `IN_CLOSE_WRITE` otherwise.
    case lease
    /// Wait until size and mtime have been stable for `scanSettle` (or its `IN_CLOSE_WRITE`).
    case stability
}

/// Whether read leases can answer for a watch's files, and why not.
public struct LeaseSupport: Sendable, Hashable {
    public var mode: CompletionMode
    /// Why leases are not used; nil in ``CompletionMode/lease``.
    public var reason: String?

    /// Checks what the agent may do here: the `fs.leases-enable` sysctl, root or `CAP_LEASE` in
    /// the effective set (without it, leases work only on files the agent owns, and partners'
    /// files are theirs), and a local file system under `root`.
    public static func assess(root: String) -> LeaseSupport {
        if let enabled = WatchPreflight.readProcInteger("/proc/sys/fs/leases-enable"), enabled == 0 {
            return LeaseSupport(mode: .stability, reason: "fs.leases-enable is 0 (sysctl -w fs.leases-enable=1 turns leases on)")
        }
        if geteuid() != 0, !hasEffectiveCapability(bit: 28) {
            return LeaseSupport(mode: .stability, reason: "the agent has no CAP_LEASE (grant it with AmbientCapabilities=CAP_LEASE)")
        }
        if let type = FileSystemType.of(path: root), let name = type.remoteName {
            return LeaseSupport(mode: .stability, reason: "\(root) is on \(name), where leases do not see other hosts' writers")
        }
        return LeaseSupport(mode: .lease, reason: nil)
    }

    /// Reads `CapEff` from `/proc/self/status`.
    static func hasEffectiveCapability(bit: Int) -> Bool {
        guard let file = fopen("/proc/self/status", "r") else { return false }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("CapEff:") else { continue }
            let hex = text.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let mask = UInt64(hex, radix: 16) else { return false }
            return mask & (1 << UInt64(bit)) != 0
        }
        return false
    }
}

/// The file system a path is on, from `statfs`.
struct FileSystemType: Sendable, Hashable {
    var magic: Int

    static func of(path: String) -> FileSystemType? {
        var type = 0
        guard PathBytes.withCString(path, { drophook_filesystem_type($0, &type) }) == 0 else { return nil }
        return FileSystemType(magic: type)
    }

    /// Network and FUSE file systems, whose other clients' writers leases (and inotify) cannot see.
    var remoteName: String? {
        switch magic {
        case 0x6969: "NFS"
        case 0xFF53_4D42, 0xFE53_4D42: "CIFS/SMB"
        case 0x517B: "SMB"
        case 0x6573_5546: "FUSE"
        case 0x0102_1997: "9p"
        default: nil
        }
    }
}
