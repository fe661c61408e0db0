import DrophookEvents
import Glibc

/// The SHA-256 of one finished file (`sha256: true` on a watch), read a slice at a time so that
/// ``ChecksumReader`` can take turns between files: a large file never holds back a small one.
///
/// The file is opened when it is reported (``open(path:expected:limit:)``, on the watch thread),
/// so a rename right after does not lose its checksum, and read later through that descriptor.
/// The checksum is nil when the file is not the one reported: another inode, another size,
/// larger than the limit, or written to while it was read (it would describe no version of
/// the file).
final class FileChecksum {
    /// What one slice ended with.
    enum Step: Equatable {
        /// More to read.
        case more
        /// Read to the end: the lowercase hex digest, or nil when it describes no reported version.
        case done(String?)
    }

    /// How much one ``readSlice(_:)`` reads: the unit in which checksums take turns.
    static let sliceBytes = 1 << 20

    private let fd: Int32
    private let before: FileStatus
    private let limit: Int64
    private let digest = SHA256Digest()
    private var offset: Int64 = 0

    /// Opens the file at `path` for its checksum when it is still the file `expected` describes
    /// and within `limit`; nil otherwise (the event then goes without a checksum). Never
    /// follows a symlink or blocks on a FIFO.
    static func open(path: String, expected: FileStatus, limit: Int64) -> (descriptor: Int32, status: FileStatus)? {
        guard expected.size <= limit, let (fd, before) = FileStatus.openForStatus(path: path) else { return nil }
        guard before.inodeKey == expected.inodeKey, before.size == expected.size else {
            _ = close(fd)
            return nil
        }
        return (fd, before)
    }

    /// Takes over `descriptor` (closed when this checksum is freed); `before` is its status at opening.
    init(descriptor: Int32, before: FileStatus, limit: Int64) {
        self.fd = descriptor
        self.before = before
        self.limit = limit
    }

    deinit { _ = close(fd) }

    /// Reads and hashes up to one slice into `buffer` (at least ``sliceBytes`` long).
    func readSlice(_ buffer: UnsafeMutableRawBufferPointer) -> Step {
        let want = min(buffer.count, Self.sliceBytes)
        var count: Int
        repeat {
            count = pread(fd, buffer.baseAddress, want, off_t(offset))
        } while count < 0 && errno == EINTR
        guard count >= 0 else { return .done(nil) }
        if count == 0 { return .done(finish()) }
        digest.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        offset += Int64(count)
        return offset <= limit ? .more : .done(nil)
    }

    private func finish() -> String? {
        // Written to while it was read: the checksum would describe no version of the file.
        guard let after = FileStatus.of(descriptor: fd), after.size == before.size, after.mtimeNanos == before.mtimeNanos,
            offset == before.size
        else { return nil }
        return Hex.encode(digest.finish())
    }

    /// The whole checksum at once (tests, and the engine when no reader runs).
    static func sha256(path: String, expected: FileStatus, limit: Int64) -> String? {
        guard let (fd, status) = open(path: path, expected: expected, limit: limit) else { return nil }
        let checksum = FileChecksum(descriptor: fd, before: status, limit: limit)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: sliceBytes, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            if case .done(let sum) = checksum.readSlice(buffer) { return sum }
        }
    }
}
