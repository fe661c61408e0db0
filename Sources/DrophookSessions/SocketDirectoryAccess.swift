import Foundation
import Glibc

/// Whether the agent, as its service runs it, can bind a session-log socket in a directory (a
/// chroot's `dev`), and what the operator does when it cannot.
///
/// Binding needs write and search permission on the directory, and a file system the service
/// may write. Under the shipped unit the agent is the `drophook` user with no capability that
/// grants writes, and `ProtectSystem=strict` leaves only the unit's writable paths writable, so
/// `drophook check` run by hand as root must judge as that user and those paths, not as root.
public struct SocketDirectoryAccess: Sendable, Equatable {
    /// An account the service runs as.
    public struct Account: Sendable, Equatable {
        public var name: String
        public var uid: uid_t
        /// Primary group first.
        public var groups: [gid_t]
        public var groupName: String

        public init(name: String, uid: uid_t, groups: [gid_t], groupName: String) {
            self.name = name
            self.uid = uid
            self.groups = groups
            self.groupName = groupName
        }

        /// The passwd entry and every group of `name`, or nil when there is no such account.
        public static func named(_ name: String) -> Account? {
            guard let (uid, gid, _) = SessionSender.account(named: name) else { return nil }
            var count: Int32 = 64
            var groups = [gid_t](repeating: 0, count: Int(count))
            if getgrouplist(name, gid, &groups, &count) < 0 {
                groups = [gid_t](repeating: 0, count: Int(count))
                _ = getgrouplist(name, gid, &groups, &count)
            }
            let others = groups.prefix(Int(max(count, 0))).filter { $0 != gid }
            return Account(name: name, uid: uid, groups: [gid] + others, groupName: groupName(gid) ?? "\(gid)")
        }

        /// This process's user, as the fix text names it.
        public static var current: Account {
            let uid = geteuid()
            return Account(
                name: userName(uid) ?? "\(uid)", uid: uid, groups: [getegid()], groupName: groupName(getegid()) ?? "\(getegid())")
        }

        static func groupName(_ gid: gid_t) -> String? {
            var entry = group()
            var result: UnsafeMutablePointer<group>?
            var buffer = [CChar](repeating: 0, count: 16384)
            guard getgrgid_r(gid, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
            return String(cString: entry.gr_name)
        }
    }

    /// Why the service cannot bind a socket in a directory.
    public enum Problem: Sendable, Equatable {
        /// The directory does not exist (and the service could not make it).
        case missing
        /// The service's view of the file system is read-only there.
        case readOnly
        /// The directory's owner and mode let the service user neither write nor search it.
        case denied(owner: String, mode: mode_t)
        /// Anything else a bind said.
        case other(String)

        /// The problem a failed bind's `errno` stands for.
        public init(errno: Int32, directory: String) {
            switch errno {
            case ENOENT: self = .missing
            case EROFS: self = .readOnly
            case EACCES, EPERM: self = .denied(owner: Self.owner(of: directory), mode: Self.mode(of: directory))
            default: self = .other(String(cString: strerror(errno)))
            }
        }

        /// What the operator does about it, for the service user `account`.
        public func fix(for directory: String, account: Account) -> String {
            let prepare = "`systemctl reload drophook` (its prepare step, run as root, hands the directory to the service)"
            switch self {
            case .missing:
                return "\(directory) does not exist; \(prepare), or `install -d -o root -g \(account.groupName) -m 0775 \(directory)`"
            case .readOnly:
                return
                    "the service sees \(directory) read-only (the unit's ProtectSystem=strict); allow it with `systemctl edit drophook`: [Service] ReadWritePaths=\(directory)"
            case .denied(let owner, let mode):
                return
                    "\(account.name) may not create a socket in \(directory) (\(owner) \(String(mode & 0o7777, radix: 8))); \(prepare), or `chgrp \(account.groupName) \(directory) && chmod g+rwx \(directory)`"
            case .other(let reason):
                return "\(reason) in \(directory)"
            }
        }

        static func owner(of directory: String) -> String {
            var status = stat()
            guard stat(directory, &status) == 0 else { return "?" }
            let user = SocketDirectoryAccess.userName(status.st_uid) ?? "\(status.st_uid)"
            return user + ":" + (Account.groupName(status.st_gid) ?? "\(status.st_gid)")
        }

        static func mode(of directory: String) -> mode_t {
            var status = stat()
            return stat(directory, &status) == 0 ? status.st_mode : 0
        }
    }

    /// Who is judged: nil is this process as it runs (its own uid, groups and mounts, so
    /// `access(2)` answers exactly); otherwise the service's account, judged from owner and mode.
    public var account: Account?
    /// Under `ProtectSystem=strict`, the paths the unit may write (`ReadWritePaths=`, its state
    /// and runtime directories); nil when the file system is not made read-only or not known.
    public var writablePaths: [String]?
    /// Whether the service holds `CAP_DAC_READ_SEARCH` (the shipped unit gives it): then no
    /// directory's missing search (x) bit stops it, and binding needs only write permission.
    public var searchesEverywhere: Bool

    public init(account: Account?, writablePaths: [String]?, searchesEverywhere: Bool = false) {
        self.account = account
        self.writablePaths = writablePaths
        self.searchesEverywhere = searchesEverywhere
    }

    /// The account named in fix texts.
    public var subject: Account { account ?? .current }

    /// Why the service could not bind a socket in `directory`, or nil when it can.
    public func problem(bindingIn directory: String) -> Problem? {
        guard let account else {
            guard access(directory, W_OK | X_OK) != 0 else { return nil }
            return Problem(errno: errno, directory: directory)
        }
        var status = stat()
        guard stat(directory, &status) == 0 else { return .missing }
        if let writablePaths, !writablePaths.contains(where: { directory == $0 || directory.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") })
        {
            return .readOnly
        }
        guard account.uid != 0 else { return nil }
        let bits: mode_t
        if status.st_uid == account.uid {
            bits = (status.st_mode >> 6) & 0o7
        } else if account.groups.contains(status.st_gid) {
            bits = (status.st_mode >> 3) & 0o7
        } else {
            bits = status.st_mode & 0o7
        }
        // Write and search (w and x) make a new entry, search unless a capability bypasses it;
        // ACLs are not read.
        let needed: mode_t = searchesEverywhere ? 0o2 : 0o3
        return bits & needed == needed ? nil : .denied(owner: Problem.owner(of: directory), mode: status.st_mode)
    }

    /// The fix for a bind that failed with `errno` in `directory`, for this process's user.
    public static func fix(for directory: String, errno: Int32) -> String {
        Problem(errno: errno, directory: directory).fix(for: directory, account: .current)
    }

    /// The owner of `path`, or nil when it cannot be read.
    public static func ownerUID(of path: String) -> uid_t? {
        var status = stat()
        return stat(path, &status) == 0 ? status.st_uid : nil
    }

    static func userName(_ uid: uid_t) -> String? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return String(cString: entry.pw_name)
    }
}
