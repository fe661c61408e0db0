import Foundation
import Glibc
import Logging

/// Follows a log file the system's syslog daemon writes (rsyslog's `/var/log/auth.log`), from
/// its end at start, through rotation: when the path names a new file (rename rotation) the
/// old one is read to its end first, and a file cut shorter (copytruncate) is read from its start.
///
/// Lines are trusted as the file has them: only the syslog daemon writes there.
final class LogFileSource: Sendable {
    /// Longest line kept; a longer one is skipped (OpenSSH's lines are at most 1 KiB).
    static let lineLimit = 8192
    /// How often the file is looked at when nothing new was read: the bound on how late a line
    /// is heard, well inside the pipeline's wait for it.
    static let pollInterval: Int32 = 25

    private let path: String
    private let logger: Logger
    private let thread: SourceThread

    init(path: String, logger: Logger) throws(SessionLogError) {
        self.path = path
        self.logger = logger
        self.thread = try SourceThread(for: .fileFailed)
    }

    func start(receive: @escaping @Sendable ([UInt8]) -> Void) {
        thread.start(name: "drophook-logfile") { [self] in self.loop(receive: receive) }
    }

    func stop() { thread.stop() }

    func waitUntilStopped() async { await thread.waitUntilStopped() }

    private func loop(receive: ([UInt8]) -> Void) {
        var fd: Int32 = -1
        var pending: [UInt8] = []
        var skipping = false
        var reported = false
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 8)
        defer {
            buffer.deallocate()
            if fd >= 0 { _ = close(fd) }
        }
        func readAvailable() -> Bool {
            var readAny = false
            while true {
                let count = read(fd, buffer.baseAddress, buffer.count)
                guard count > 0 else { return readAny }
                readAny = true
                for byte in UnsafeRawBufferPointer(rebasing: buffer[0..<count]) {
                    if byte == 0x0A {
                        if !skipping { receive(pending) }
                        pending.removeAll(keepingCapacity: true)
                        skipping = false
                    } else if pending.count < Self.lineLimit {
                        pending.append(byte)
                    } else {
                        skipping = true
                    }
                }
            }
        }
        var startAtEnd = true
        while true {
            if fd < 0 {
                fd = open(path, O_RDONLY | O_CLOEXEC)
                if fd >= 0 {
                    if startAtEnd { lseek(fd, 0, SEEK_END) }
                    reported = false
                } else if !reported, startAtEnd {
                    // Only at start: between a rotation's rename and the new file, the path is briefly missing.
                    logger.warning("session log: cannot open \(path): \(String(cString: strerror(errno))); waiting for it")
                    reported = true
                }
                // Lines written before drophook started are history; a file that appears later is read whole.
                startAtEnd = false
            }
            if fd >= 0, !readAvailable() {
                var current = stat()
                var opened = stat()
                let replaced =
                    stat(path, &current) != 0 || fstat(fd, &opened) != 0
                    || current.st_ino != opened.st_ino || current.st_dev != opened.st_dev
                if replaced {
                    _ = readAvailable()
                    _ = close(fd)
                    fd = -1
                    pending.removeAll()
                    continue
                }
                if current.st_size < lseek(fd, 0, SEEK_CUR) {
                    lseek(fd, 0, SEEK_SET)
                    pending.removeAll()
                    continue
                }
            }
            if thread.stopRequested(within: Self.pollInterval) { return }
        }
    }
}
