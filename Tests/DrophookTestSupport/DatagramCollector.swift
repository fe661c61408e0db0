import Foundation
import Glibc
import Synchronization

/// A Unix datagram socket that keeps what it receives (a stand-in for the system log), and a
/// sender for datagrams from the test process itself (a forger, in the session log tests).
public final class DatagramCollector: Sendable {
    public let path: String
    private let fd: Int32
    private let lines = Mutex<[String]>([])
    private let done = Mutex(false)

    public init(path: String) throws {
        self.path = path
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0, Self.withAddress(path, { bind(fd, $0, $1) }) == 0 else { throw ChildProcessFailure("cannot bind \(path)") }
        // Polls with a timeout so close() is seen; reading is all this thread does.
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 8192)
            while !self.done.withLock({ $0 }) {
                let count = recv(self.fd, &buffer, buffer.count, 0)
                if count > 0 { self.lines.withLock { $0.append(String(decoding: buffer[0..<count], as: UTF8.self)) } }
            }
            Glibc.close(self.fd)
        }
        thread.start()
    }

    /// Everything received so far.
    public var received: [String] { lines.withLock { $0 } }

    public func close() {
        done.withLock { $0 = true }
        unlink(path)
    }

    /// Sends each text as one datagram to the socket at `path`; returns how many went.
    public static func send(_ texts: [String], to path: String) throws -> Int {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw ChildProcessFailure("socket failed") }
        defer { Glibc.close(fd) }
        var sent = 0
        for text in texts {
            let bytes = Array(text.utf8)
            let result = withAddress(path) { address, length in
                bytes.withUnsafeBytes { Int32(sendto(fd, $0.baseAddress, $0.count, 0, address, length) >= 0 ? 0 : -1) }
            }
            if result == 0 { sent += 1 }
        }
        return sent
    }

    private static func withAddress(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes + [0])
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}
