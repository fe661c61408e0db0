import CLinux
import DrophookEvents
import Foundation
import Glibc
import Logging
import Synchronization

/// Syslog datagram sockets drophook binds itself, where chrooted SFTP servers send their log:
/// one path the admin bind-mounts as each chroot's `dev/log`, or a `%u` pattern such as
/// `/srv/sftp/%u/dev/log` bound in every chroot (new chroots are picked up every
/// ``rescanInterval``). Each datagram comes with the kernel's word on its sender
/// (`SCM_CREDENTIALS`), and may be relayed unchanged to the system log.
///
/// One thread polls every socket; nothing slow happens on it beyond handing lines over.
final class SyslogSocketSource: Sendable {
    /// One received datagram and its sender.
    struct Datagram: Sendable {
        var bytes: [UInt8]
        var pid: Int32
        var uid: UInt32
    }

    /// Longest datagram read; OpenSSH's messages are at most 1 KiB, so longer ones are not its.
    static let datagramLimit = 8192
    static let rescanInterval = Duration.seconds(10)

    private let patterns: [String]
    private let relay: String?
    private let logger: Logger
    private let thread: SourceThread
    /// Socket paths and descriptors bound so far, and whether the thread is between reading
    /// datagrams and handing their lines over. The thread owns the descriptors; ``hasBacklog``
    /// only polls them.
    private let bound = Mutex<Backlog>(Backlog())

    private struct Backlog {
        var sockets: [String: Int32] = [:]
        var draining = false
    }

    init(patterns: [String], relay: String?, logger: Logger) throws(SessionLogError) {
        self.patterns = patterns
        self.relay = relay
        self.logger = logger
        self.thread = try SourceThread(for: .socketFailed)
    }

    /// The paths a socket is bound at now.
    var boundPaths: Set<String> { bound.withLock { Set($0.sockets.keys) } }

    /// Whether a datagram sent before now may not have been handed over yet: one is waiting in
    /// a socket, or the thread is handing some over. OpenSSH logs a `close` before it closes the
    /// file, so when this is false every line about a file inotify has seen closed is in.
    var hasBacklog: Bool {
        bound.withLock { state in
            if state.draining { return true }
            var fds = state.sockets.values.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            return !fds.isEmpty && poll(&fds, nfds_t(fds.count), 0) > 0
        }
    }

    /// Binds the sockets whose directories exist now, then starts the thread; `receive` gets
    /// every datagram, on that thread.
    /// - Parameter drained: called on the thread after each round of reading, once
    ///   ``hasBacklog`` may have turned false.
    func start(receive: @escaping @Sendable (Datagram) -> Void, drained: @escaping @Sendable () -> Void) {
        var initial: [String: Int32] = [:]
        var reported: Set<String> = []
        bindMissing(&initial, reported: &reported)
        let handover = BoundSockets(sockets: initial, reported: reported)
        thread.start(name: "drophook-syslog") { [self] in self.loop(handover, receive: receive, drained: drained) }
    }

    func stop() { thread.stop() }

    func waitUntilStopped() async { await thread.waitUntilStopped() }

    private func loop(_ handover: BoundSockets, receive: @Sendable (Datagram) -> Void, drained: @Sendable () -> Void) {
        var sockets = handover.sockets
        var reported = handover.reported
        let sender = relay == nil ? -1 : drophook_datagram_sender()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.datagramLimit, alignment: 8)
        defer {
            buffer.deallocate()
            if sender >= 0 { _ = close(sender) }
            for (path, fd) in sockets {
                _ = close(fd)
                _ = unlink(path)
            }
            bound.withLock { $0 = Backlog() }
        }
        var nextScan = ContinuousClock.now + Self.rescanInterval
        var relayReported = false
        while true {
            if ContinuousClock.now >= nextScan {
                bindMissing(&sockets, reported: &reported)
                nextScan = ContinuousClock.now + Self.rescanInterval
            }
            let paths = Array(sockets.keys)
            var fds = paths.map { pollfd(fd: sockets[$0]!, events: Int16(POLLIN), revents: 0) }
            fds.append(pollfd(fd: thread.stopFD, events: Int16(POLLIN), revents: 0))
            let ready = poll(&fds, nfds_t(fds.count), 1000)
            if ready < 0, errno != EINTR { return }
            if fds.last!.revents != 0 { return }
            bound.withLock { $0.draining = true }
            for index in paths.indices where fds[index].revents != 0 {
                if let failure = drain(fds[index].fd, buffer: buffer, relayFD: sender, receive: receive), !relayReported {
                    relayReported = true
                    logger.warning(
                        "session log: cannot relay to \(relay ?? ""): \(failure); the system log misses the SFTP lines until it is back")
                }
            }
            bound.withLock { $0.draining = false }
            drained()
        }
    }

    /// Reads every queued datagram of one socket; returns why a relay failed, if one did.
    private func drain(_ fd: Int32, buffer: UnsafeMutableRawBufferPointer, relayFD: Int32, receive: (Datagram) -> Void) -> String? {
        var relayFailure: String?
        while true {
            var pid: Int32 = 0
            var uid: UInt32 = 0
            var truncated: Int32 = 0
            let length = drophook_receive_datagram(fd, buffer.baseAddress, buffer.count, &pid, &uid, &truncated)
            guard length >= 0 else { return relayFailure }
            if let relay, relayFD >= 0, relay.withCString({ drophook_send_datagram(relayFD, $0, buffer.baseAddress, length) }) != 0 {
                relayFailure = String(cString: strerror(errno))
            }
            // A datagram past the limit is not an OpenSSH line; its cut-off text is not trusted.
            guard truncated == 0 else { continue }
            receive(Datagram(bytes: Array(UnsafeRawBufferPointer(rebasing: buffer[0..<length])), pid: pid, uid: uid))
        }
    }

    private func bindMissing(_ sockets: inout [String: Int32], reported: inout Set<String>) {
        for path in patterns.flatMap(SocketPattern.paths) where sockets[path] == nil {
            let parent = (path as NSString).deletingLastPathComponent
            // A chroot's `dev` may not exist yet: sshd needs only the chroot itself. Made here
            // when the agent may (as root); otherwise `drophook prepare` makes it, and until then
            // there is no socket to bind and nothing to say at every start: `check` names it.
            if access(parent, F_OK) != 0 {
                guard access((parent as NSString).deletingLastPathComponent, F_OK) == 0, mkdir(parent, 0o755) == 0 else {
                    if reported.insert(path).inserted {
                        logger.debug("session log: no \(parent) to bind a socket in yet")
                    }
                    continue
                }
            }
            let fd = drophook_bind_datagram_socket(path)
            guard fd >= 0 else {
                let reason = errno
                if reported.insert(path).inserted {
                    logger.error(
                        "session log: cannot bind a syslog socket at \(path): \(String(cString: strerror(reason))); SFTP sessions logging there are not heard; \(SocketDirectoryAccess.fix(for: parent, errno: reason))"
                    )
                }
                continue
            }
            // The SFTP server runs as the logged-in user: everyone must be able to send.
            _ = chmod(path, 0o666)
            sockets[path] = fd
            reported.remove(path)
            bound.withLock { $0.sockets[path] = fd }
            logger.info("session log: listening on \(path)")
        }
    }
}

/// Sockets bound before the thread starts, handed to it once; from then on only it uses them.
private struct BoundSockets: Sendable {
    var sockets: [String: Int32]
    var reported: Set<String>
}

/// A socket path, or a pattern whose one `%u` segment stands for every chroot there
/// (`/srv/sftp/%u/dev/log`: each user's chroot).
enum SocketPattern {
    /// The pattern's paths as the disk is now. A `%u` directory counts only when sshd would
    /// take it as a chroot (owned by root, writable by no one else): a partner's own directory
    /// beside the chroots (`/srv/sftp/dave`, owned by dave) is no place for a session's socket.
    static func paths(_ pattern: String) -> [String] {
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let index = segments.firstIndex(of: "%u") else { return [pattern] }
        let base = segments[..<index].joined(separator: "/")
        let rest = segments[(index + 1)...].joined(separator: "/")
        return chroots(in: base.isEmpty ? "/" : base).map { $0.directory + "/" + rest }
    }

    /// The chroot-shaped directories in `base`, sorted by name.
    static func chroots(in base: String) -> [(name: String, directory: String)] {
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: base)
        } catch {
            // No base yet (not mounted, not made): no chroots, which check reports.
            return []
        }
        let prefix = base.hasSuffix("/") ? base : base + "/"
        return entries.sorted().compactMap { entry in
            let directory = prefix + entry
            guard !entry.hasPrefix("."), isChroot(directory) else { return nil }
            return (entry, directory)
        }
    }

    /// sshd's rule for `ChrootDirectory`: a directory owned by root that neither its group nor
    /// others may write.
    static func isChroot(_ directory: String) -> Bool {
        var status = stat()
        guard stat(directory, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else { return false }
        return status.st_uid == 0 && status.st_mode & 0o022 == 0
    }
}
