import DrophookSessions
import Foundation
import Glibc

extension AgentPreflight {
    /// What `drophook prepare` did, or could not do.
    public struct Preparation: Sendable {
        /// One line per directory made or handed over.
        public var changes: [String] = []
        /// Directories it left alone that the service still cannot use (`check` says the same).
        public var problems: [Finding] = []
    }

    /// Run as root before the service starts (the unit's `ExecStartPre=+`) and at each reload:
    /// gives the service's account every directory a session-log socket is bound in, which only
    /// root can, since a chroot and its `dev` belong to root.
    ///
    /// - A chroot's `dev` (a `%u` entry) that `account` may not write becomes group `account`'s,
    ///   group-writable (`root:drophook 0775`); its owner stays root and sshd's rule for the
    ///   chroot itself is untouched. A missing one is made so, for a chroot named after an
    ///   existing account (a directory that is no one's chroot gets nothing).
    /// - A fixed path's missing directory is made, owned by `account`. An existing directory is
    ///   never changed: it is a system directory the operator chose.
    public static func prepareSocketDirectories(
        _ configuration: AgentConfiguration, for account: SocketDirectoryAccess.Account
    ) -> Preparation {
        guard case .sockets(let patterns)? = configuration.sessionLog?.source else { return Preparation() }
        var preparation = Preparation()
        let judge = SocketDirectoryAccess(account: account, writablePaths: nil)
        let group = account.groups[0]
        for place in patterns.flatMap(SessionLogPaths.socketPlaces) {
            let directory = place.directory
            let problem = judge.problem(bindingIn: directory)
            switch (problem, place.user) {
            case (nil, _):
                continue
            case (.missing?, let user?):
                guard SocketDirectoryAccess.Account.named(user) != nil else { continue }
                if mkdir(directory, 0o775) == 0, chown(directory, 0, group) == 0, chmod(directory, 0o775) == 0 {
                    preparation.changes.append("made \(directory) (root:\(account.groupName) 0775) for \(user)'s session-log socket")
                } else {
                    preparation.problems.append(
                        Finding(severity: .warning, subject: directory, message: "cannot make it: \(String(cString: strerror(errno)))"))
                }
            case (.missing?, nil):
                if mkdir(directory, 0o755) == 0, chown(directory, account.uid, group) == 0, chmod(directory, 0o755) == 0 {
                    preparation.changes.append("made \(directory) (\(account.name):\(account.groupName) 0755) for the session-log socket")
                } else {
                    preparation.problems.append(
                        Finding(severity: .warning, subject: directory, message: "cannot make it: \(String(cString: strerror(errno)))"))
                }
            case (.denied?, _?):
                var status = stat()
                guard stat(directory, &status) == 0, status.st_uid == 0 else {
                    preparation.problems.append(
                        Finding(
                            severity: .warning, subject: directory,
                            message: "is not root's; left as it is: \(problem!.fix(for: directory, account: account))"))
                    continue
                }
                let mode = (status.st_mode & 0o7777) | 0o070
                if chown(directory, 0, group) == 0, chmod(directory, mode) == 0 {
                    preparation.changes.append(
                        "gave \(directory) to \(account.name)'s group (root:\(account.groupName) \(String(mode, radix: 8))) for the session-log socket"
                    )
                } else {
                    preparation.problems.append(
                        Finding(severity: .warning, subject: directory, message: "cannot hand it over: \(String(cString: strerror(errno)))")
                    )
                }
            case (let other?, _):
                preparation.problems.append(
                    Finding(severity: .warning, subject: place.path, message: other.fix(for: directory, account: account)))
            }
        }
        return preparation
    }
}
