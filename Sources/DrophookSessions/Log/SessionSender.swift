import Foundation
import Glibc

/// Who may speak for an SFTP session on a socket anyone in a chroot can write to: the kernel
/// names each datagram's sender (`SCM_CREDENTIALS`), and a session is accepted only from an
/// OpenSSH process (`sshd`, `sshd-session`, `sftp-server`) running as the user it says logged in.
/// Later lines count only for the session their sending process opened, so a forged line can
/// never touch another process's session.
enum SessionSender {
    /// Process names (`/proc/PID/comm`) of OpenSSH's SFTP servers: `internal-sftp` runs inside
    /// the session's `sshd` (`sshd-session` from OpenSSH 9.8), `sftp-server` on its own.
    static let programs: Set<String> = ["sshd", "sshd-session", "sftp-server"]

    /// Why a `session opened` line from this sender is refused, or nil to accept it.
    /// - Parameter comm: the sender's process name as the kernel has it (`/proc/PID/comm`, or
    ///   the journal's trusted `_COMM`); nil when it cannot be read (then the uid alone decides).
    static func refusal(pid: Int32, comm: String?, uid: UInt32, user: String) -> String? {
        guard pid > 0 else { return "no sender credentials" }
        // Under load, /proc/PID of an sshd session process has been seen missing (ENOENT) for
        // tens of milliseconds while the process went on logging. Its uid (checked below) is
        // still the kernel's word, and a process that is really gone can send no later line.
        if let name = comm, !programs.contains(name) { return "sender pid \(pid) is \(name), not an OpenSSH SFTP server" }
        guard let account = account(named: user) else { return "no account \(user)" }
        guard account.uid == uid else { return "sender uid \(uid) is not \(user)'s" }
        return nil
    }

    /// A live process's name (`/proc/PID/comm`), or nil when there is no such process. Read
    /// with plain `open`/`read` (retried on EINTR): this runs on the socket thread for every
    /// session that opens, and must not fail for a process that is there.
    static func processName(_ pid: Int32) -> String? {
        guard pid > 0 else { return nil }
        let fd = "/proc/\(pid)/comm".withCString { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        var count = -1
        repeat { count = read(fd, &buffer, buffer.count) } while count < 0 && errno == EINTR
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .newlines)
    }

    /// A user's home directory from the passwd database (for `%h`).
    static func home(of user: String) -> String? { account(named: user)?.home }

    /// uid, primary group and home of an account; `getpwnam_r`, since the watcher looks up names
    /// on another thread.
    static func account(named user: String) -> (uid: UInt32, gid: UInt32, home: String)? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getpwnam_r(user, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return (entry.pw_uid, entry.pw_gid, entry.pw_dir.map { String(cString: $0) } ?? "/")
    }
}
