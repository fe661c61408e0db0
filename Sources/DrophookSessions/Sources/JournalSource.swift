import CSystemd
import Foundation
import Glibc
import Logging

/// Follows the systemd journal for the SFTP server's lines (`SYSLOG_IDENTIFIER=internal-sftp`
/// or `sftp-server`), from its end at start, through libsystemd's `sd_journal` reader. Where
/// sshd runs under systemd and each chroot's `dev/log` is bound to journald's socket, journald
/// records every line with trusted fields (`_PID`, `_UID`, `_COMM`) taken from the kernel.
///
/// The reader handle is used only on the source's own thread.
final class JournalSource: Sendable {
    /// One journal entry of an SFTP server.
    struct Entry: Sendable {
        /// `PROGRAM[PID]: MESSAGE`, the shape ``SyslogLine`` reads.
        var line: [UInt8]
        var pid: Int32
        var uid: UInt32?
        var comm: String?
    }

    private let directory: String?
    private let logger: Logger
    private let thread: SourceThread

    /// - Parameter directory: a journal directory to read instead of the system's (tests, and
    ///   journals kept elsewhere, e.g. by `systemd-journal-remote`).
    init(directory: String?, logger: Logger) throws(SessionLogError) {
        self.directory = directory
        self.logger = logger
        self.thread = try SourceThread(for: .journalFailed)
    }

    func start(receive: @escaping @Sendable (Entry) -> Void) throws(SessionLogError) {
        var handle: OpaquePointer?
        let opened =
            directory.map { path in path.withCString { sd_journal_open_directory(&handle, $0, 0) } }
            ?? sd_journal_open(&handle, Int32(SD_JOURNAL_LOCAL_ONLY))
        guard opened >= 0, let handle else {
            throw SessionLogError(
                .journalFailed,
                "cannot open the systemd journal\(directory.map { " in \($0)" } ?? ""): \(String(cString: strerror(-opened))); run drophook in the systemd-journal group or pick another session_log source"
            )
        }
        // The moment from which lines are heard, taken now; the reader is positioned on its own
        // thread (reading journal files is no work for the caller's, the cooperative pool's).
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let anchor = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        let reader = JournalHandle(handle)
        thread.start(name: "drophook-journal") { [self] in
            Self.position(reader.handle, from: anchor)
            self.loop(reader, receive: receive)
            sd_journal_close(reader.handle)
        }
    }

    func stop() { thread.stop() }

    func waitUntilStopped() async { await thread.waitUntilStopped() }

    /// The SFTP servers' entries from `anchor` (the wall-clock time `start` was called, in µs):
    /// what was logged before belongs to sessions drophook never saw open.
    ///
    /// After the last SFTP line there is, when it is older than `anchor`. Otherwise from
    /// `anchor` itself:
    /// - a line logged between `start` and this moment is the last line, and seeking past it
    ///   would skip a session that opened right after the agent started;
    /// - with no SFTP line in the journal (a new system, or the first start of the journal
    ///   source), from the tail libsystemd 252 misses the entries that then arrive in a journal
    ///   file created later, as journald creates one per uid at its first line: the new login's
    ///   first session went out under the owner's name (11 of 12 runs of the test that writes it
    ///   so); from a time it hears them all (12 of 12).
    ///
    /// The time is the wall clock's, which journald stamps entries with; a clock stepped back
    /// before the first SFTP line is written delays hearing it until the clock is past `anchor`.
    static func position(_ journal: OpaquePointer, from anchor: UInt64) {
        for (index, program) in SyslogLine.programs.enumerated() {
            if index > 0 { sd_journal_add_disjunction(journal) }
            let match = "SYSLOG_IDENTIFIER=\(program)"
            _ = match.withCString { sd_journal_add_match(journal, $0, 0) }
        }
        sd_journal_seek_tail(journal)
        var last: UInt64 = 0
        if sd_journal_previous(journal) > 0, sd_journal_get_realtime_usec(journal, &last) >= 0, last < anchor { return }
        sd_journal_seek_realtime_usec(journal, anchor)
    }

    private func loop(_ reader: JournalHandle, receive: (Entry) -> Void) {
        let journal = reader.handle
        let fd = sd_journal_get_fd(journal)
        while true {
            while sd_journal_next(journal) > 0 {
                if let entry = Self.entry(journal) { receive(entry) }
            }
            var fds = [pollfd(fd: thread.stopFD, events: Int16(POLLIN), revents: 0)]
            if fd >= 0 { fds.append(pollfd(fd: fd, events: Int16(sd_journal_get_events(journal)), revents: 0)) }
            // journald may not signal every append on every file system: look again at least every 250 ms.
            _ = poll(&fds, nfds_t(fds.count), 250)
            if fds[0].revents != 0 { return }
            sd_journal_process(journal)
        }
    }

    private static func entry(_ journal: OpaquePointer) -> Entry? {
        guard let message = field(journal, "MESSAGE"), let program = field(journal, "SYSLOG_IDENTIFIER"),
            let pidText = field(journal, "_PID").map({ String(decoding: $0, as: UTF8.self) }), let pid = Int32(pidText)
        else { return nil }
        let uid = field(journal, "_UID").flatMap { UInt32(String(decoding: $0, as: UTF8.self)) }
        let comm = field(journal, "_COMM").map { String(decoding: $0, as: UTF8.self) }
        return Entry(line: program + Array("[\(pid)]: ".utf8) + message, pid: pid, uid: uid, comm: comm)
    }

    /// A field's value bytes (after `NAME=`), or nil.
    private static func field(_ journal: OpaquePointer, _ name: String) -> [UInt8]? {
        var data: UnsafeRawPointer?
        var length = 0
        guard name.withCString({ sd_journal_get_data(journal, $0, &data, &length) }) >= 0, let data else { return nil }
        let bytes = UnsafeRawBufferPointer(start: data, count: length)
        let prefix = name.utf8.count + 1
        guard bytes.count >= prefix else { return nil }
        return Array(bytes[prefix...])
    }
}

/// The `sd_journal` handle, moved once to the reader thread, which alone uses and closes it.
private struct JournalHandle: @unchecked Sendable {
    let handle: OpaquePointer
    init(_ handle: OpaquePointer) { self.handle = handle }
}
