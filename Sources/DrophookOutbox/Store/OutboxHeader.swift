import Glibc

/// The 100-byte header of an SQLite file, as far as salvaging a damaged outbox needs it
/// (<https://www.sqlite.org/fileformat.html#the_database_header>).
enum OutboxHeader {
    /// Cuts the file to whole pages and writes its real page count into the header (bytes
    /// 28–31), so SQLite reads what is left of a file that was cut short instead of refusing
    /// every page. Leaves a file alone whose header cannot be read.
    static func agreeWithLength(_ path: String) throws {
        let descriptor = open(path, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var header = [UInt8](repeating: 0, count: 100)
        guard pread(descriptor, &header, 100, 0) == 100, header.starts(with: Array("SQLite format 3\0".utf8)) else { return }
        let stored = Int(header[16]) << 8 | Int(header[17])
        let pageSize = stored == 1 ? 65_536 : stored
        var status = stat()
        guard pageSize >= 512, fstat(descriptor, &status) == 0 else { return }
        let pages = Int(status.st_size) / pageSize
        guard pages > 0 else { return }
        _ = ftruncate(descriptor, off_t(pages * pageSize))
        let count: [UInt8] = [
            UInt8(truncatingIfNeeded: pages >> 24), UInt8(truncatingIfNeeded: pages >> 16),
            UInt8(truncatingIfNeeded: pages >> 8), UInt8(truncatingIfNeeded: pages),
        ]
        _ = pwrite(descriptor, count, 4, 28)
    }
}
