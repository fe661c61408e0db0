import DrophookEvents
import Glibc

/// One record read from an inotify descriptor. (`Fuzzing` SPI: the fuzz target reads it.)
@_spi(Fuzzing) public struct InotifyEvent: Sendable, Hashable {
    public var wd: Int32
    public var mask: UInt32
    public var cookie: UInt32
    /// Name of the entry inside the watched directory; nil for events about the directory itself.
    public var name: String?

    func has(_ flag: Int32) -> Bool { mask & UInt32(bitPattern: flag) != 0 }
}

/// An inotify instance: the C edge for `inotify_init1`, `inotify_add_watch`, `inotify_rm_watch`.
/// The descriptor is only an integer; the calls are thread-safe in the kernel.
struct InotifyDescriptor: Sendable {
    let fd: Int32

    /// Events a directory watch asks for. `IN_OPEN` tells a writer's `open(O_CREAT)` from a
    /// `link()`; `IN_ATTRIB` keeps the snapshot's mtime current when a client sets it after upload.
    static let directoryMask: UInt32 = UInt32(
        bitPattern:
            IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_OPEN | IN_ATTRIB
            | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

    static func open() throws(WatchError) -> InotifyDescriptor {
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else {
            let code = errno
            throw WatchError(
                .inotifyUnavailable,
                "inotify_init1 failed (\(String(cString: strerror(code)))); "
                    + "raise fs.inotify.max_user_instances if it is exhausted")
        }
        return InotifyDescriptor(fd: fd)
    }

    /// Adds (or refreshes) the watch of a directory without following symlinks.
    /// Returns the watch descriptor, or the errno of the failure.
    func addDirectoryWatch(path: String) -> Result<Int32, WatchErrno> {
        let wd = PathBytes.withCString(path) { inotify_add_watch(fd, $0, Self.directoryMask) }
        return wd >= 0 ? .success(wd) : .failure(WatchErrno(code: errno))
    }

    func removeWatch(_ wd: Int32) {
        _ = inotify_rm_watch(fd, wd)
    }

    func close() {
        _ = Glibc.close(fd)
    }
}

/// An errno value from a failed system call.
struct WatchErrno: Error, Sendable, Hashable, CustomStringConvertible {
    var code: Int32
    var description: String { String(cString: strerror(code)) }
}

/// Parses the packed `struct inotify_event` records of one `read(2)`. (`Fuzzing` SPI: the
/// fuzz target hands it arbitrary bytes; release builds have no `@testable`.)
@_spi(Fuzzing) public enum InotifyRecordParser {
    /// Size of the fixed part of `struct inotify_event` (wd, mask, cookie, len).
    static let headerSize = 16

    public static func parse(_ bytes: UnsafeRawBufferPointer, into events: inout [InotifyEvent]) {
        var offset = 0
        while offset + headerSize <= bytes.count {
            let wd = bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)
            let mask = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            let cookie = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            let nameStart = offset + headerSize
            guard nameStart + length <= bytes.count else { break }
            var name: String?
            if length > 0 {
                // The name is NUL-padded to an alignment boundary; bytes that are not UTF-8 are
                // kept as escaped text so the name can be found again on disk.
                let raw = UnsafeRawBufferPointer(rebasing: bytes[nameStart..<(nameStart + length)])
                let end = raw.firstIndex(of: 0) ?? length
                name = PathBytes.string(from: raw[0..<end])
            }
            events.append(InotifyEvent(wd: wd, mask: mask, cookie: cookie, name: name))
            offset = nameStart + length
        }
    }
}
