import DrophookEvents
import Glibc

/// The SHA-256 of a finished file, read at the moment it is reported (`sha256: true` on a watch).
enum FileChecksum {
    /// Lowercase hex SHA-256 of the file at `path` when it is still the file `expected` describes
    /// (same inode, size and mtime before and after reading) and no larger than `limit`; nil
    /// otherwise. Reads in 1 MiB chunks through a descriptor that never follows a symlink or
    /// blocks on a FIFO.
    static func sha256(path: String, expected: FileStatus, limit: Int64) -> String? {
        guard expected.size <= limit, let (fd, before) = FileStatus.openForStatus(path: path) else { return nil }
        defer { _ = close(fd) }
        guard before.inodeKey == expected.inodeKey, before.size == expected.size else { return nil }
        let digest = SHA256Digest()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total: Int64 = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { break }
            buffer.withUnsafeBytes { digest.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            total += Int64(count)
            guard total <= limit else { return nil }
        }
        // Written to while it was read: the checksum would describe no version of the file.
        guard let after = FileStatus.of(descriptor: fd), after.size == before.size, after.mtimeNanos == before.mtimeNanos,
              total == before.size
        else { return nil }
        return Hex.encode(digest.finish())
    }
}
