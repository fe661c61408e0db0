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
    ///   the journal's trusted `_COMM`); nil when the process is gone.
    static func refusal(pid: Int32, comm: String?, uid: UInt32, user: String) -> String? {
        guard pid > 0 else { return "no sender credentials" }
        guard let name = comm else { return "sender pid \(pid) is gone" }
        guard programs.contains(name) else { return "sender pid \(pid) is \(name), not an OpenSSH SFTP server" }
        guard let account = account(named: user) else { return "no account \(user)" }
        guard account.uid == uid else { return "sender uid \(uid) is not \(user)'s" }
        return nil
    }

    /// A live process's name (`/proc/PID/comm`), or nil.
    static func processName(_ pid: Int32) -> String? {
        guard pid > 0, let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8) else { return nil }
        return comm.trimmingCharacters(in: .newlines)
    }

    /// A user's home directory from the passwd database (for `%h`).
    static func home(of user: String) -> String? { account(named: user)?.home }

    /// uid and home of an account; `getpwnam_r`, since the watcher looks up names on another thread.
    static func account(named user: String) -> (uid: UInt32, home: String)? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getpwnam_r(user, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return (entry.pw_uid, entry.pw_dir.map { String(cString: $0) } ?? "/")
    }
}
