import DrophookEvents
import Glibc

/// What `lstat` says about one path; symlinks are never followed.
struct FileStatus: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        case directory, file, symlink
        /// FIFOs, sockets and devices: never files.
        case special
    }

    var kind: Kind
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var mtimeNanos: Int64
    var uid: UInt32
    var linkCount: UInt64

    var inodeKey: InodeKey { InodeKey(device: device, inode: inode) }

    init(_ st: stat) {
        switch st.st_mode & S_IFMT {
        case S_IFDIR: kind = .directory
        case S_IFREG: kind = .file
        case S_IFLNK: kind = .symlink
        default: kind = .special
        }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        mtimeNanos = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        uid = st.st_uid
        linkCount = UInt64(st.st_nlink)
    }

    /// `lstat(path)`, nil when the path is gone or unreadable. `path` is escaped text (``PathBytes``).
    static func of(path: String) -> FileStatus? {
        var st = stat()
        guard PathBytes.withCString(path, { lstat($0, &st) }) == 0 else { return nil }
        return FileStatus(st)
    }

    /// Opens a regular file read-only (never following a symlink, never blocking on a FIFO) and
    /// returns the descriptor with its status; nil when it is gone or not a regular file.
    static func openForStatus(path: String) -> (Int32, FileStatus)? {
        let fd = PathBytes.withCString(path) { open($0, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY) }
        guard fd >= 0 else { return nil }
        guard let status = of(descriptor: fd), status.kind == .file else {
            _ = close(fd)
            return nil
        }
        return (fd, status)
    }

    /// `fstat` of an open descriptor.
    static func of(descriptor fd: Int32) -> FileStatus? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return FileStatus(st)
    }

    /// Lists a directory: opens it with `O_NOFOLLOW` and stats each entry relative to the open
    /// directory (`fstatat`, `AT_SYMLINK_NOFOLLOW`), so a symlink is never traversed.
    /// Names are escaped text (``PathBytes``), so a name that is not UTF-8 is kept, not lost.
    static func list(directory path: String) -> Result<[(name: String, status: FileStatus)], WatchErrno> {
        let fd = PathBytes.withCString(path) { open($0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { return .failure(WatchErrno(code: errno)) }
        guard let dir = fdopendir(fd) else {
            let code = errno
            _ = close(fd)
            return .failure(WatchErrno(code: code))
        }
        defer { closedir(dir) }
        var entries: [(name: String, status: FileStatus)] = []
        while let entry = readdir(dir) {
            var st = stat()
            let name: String? = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { raw in
                    let dot = CChar(UInt8(ascii: "."))
                    if raw[0] == dot, raw[1] == 0 || (raw[1] == dot && raw[2] == 0) { return nil }
                    // Stat by the raw bytes; only the kept name is escaped.
                    guard fstatat(fd, raw, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
                    return PathBytes.string(cString: raw)
                }
            }
            guard let name else { continue }
            entries.append((name, FileStatus(st)))
        }
        return .success(entries)
    }
}

/// Identifies a file independent of its names.
struct InodeKey: Sendable, Hashable {
    var device: UInt64
    var inode: UInt64
}
