import DrophookSessions
import Foundation

extension AgentPreflight {
    /// Problems with `session_log:`: a socket that cannot be bound, a log file or journal that
    /// cannot be read, a chroot pattern whose paths lie in no watch.
    /// - Parameter judgement: who binds the sockets, under which writable paths (by default, the
    ///   service as this process finds it: ``ServiceUnit``).
    static func sessionLogFindings(
        _ configuration: AgentConfiguration, judgement: @autoclosure () -> ServiceUnit.SocketJudgement = ServiceUnit.socketJudgement()
    ) -> [Finding] {
        guard let sessionLog = configuration.sessionLog else { return [] }
        var findings: [Finding] = []
        switch sessionLog.source {
        case .sockets(let patterns):
            let judgement = judgement()
            for pattern in patterns {
                let places = SessionLogPaths.socketPlaces(pattern)
                if pattern.contains("%u"), places.isEmpty {
                    findings.append(
                        Finding(
                            severity: .warning, subject: pattern,
                            message: "no chroot directory matches yet; sockets are bound as chroots appear (checked every 10 s)"))
                }
                for place in places {
                    findings += socketFindings(place, judgement: judgement)
                }
            }
        case .file(let path):
            if !FileManager.default.isReadableFile(atPath: path) {
                findings.append(
                    Finding(
                        severity: .warning, subject: path,
                        message:
                            "cannot read the session log file yet; give the agent read access (group adm on Debian) or check rsyslog writes it"
                    ))
            }
        case .journal(let directory):
            if let directory, !FileManager.default.fileExists(atPath: directory) {
                findings.append(Finding(severity: .error, subject: directory, message: "journal_directory does not exist"))
            }
        }
        if sessionLogLines(configuration).contains(where: { $0.hasSuffix("in no watch") }) {
            findings.append(
                Finding(
                    severity: .warning, subject: "session_log.chroot",
                    message:
                        "the session log's paths lie in no watch, so no event gets its SFTP user; make chroot match sshd_config's ChrootDirectory"
                ))
        }
        return findings
    }

    /// Whether the service can bind one socket: judged as the service user under the unit's
    /// writable paths (``ServiceUnit``), with the fix for each way it cannot.
    private static func socketFindings(_ place: SessionLogPaths.SocketPlace, judgement: ServiceUnit.SocketJudgement) -> [Finding] {
        let path = place.path
        let access = judgement.access
        var status = stat()
        if lstat(path, &status) == 0, status.st_mode & S_IFMT != S_IFSOCK {
            return [
                Finding(
                    severity: .error, subject: path, message: "is not a socket and would not be replaced; remove it or pick another path")
            ]
        }
        let directory = place.directory
        let chroot = (directory as NSString).deletingLastPathComponent
        if !FileManager.default.fileExists(atPath: directory) {
            if let user = place.user {
                // A directory named after no account is no one's chroot: nothing to say.
                guard SocketDirectoryAccess.Account.named(user) != nil, !judgement.preparesChroots else { return [] }
                return [
                    Finding(
                        severity: .warning, subject: path,
                        message: "\(user)'s chroot has no \((directory as NSString).lastPathComponent), so its SFTP sessions log nothing; "
                            + SocketDirectoryAccess.Problem.missing.fix(for: directory, account: access.subject))
                ]
            }
            if !FileManager.default.fileExists(atPath: chroot) {
                return [
                    Finding(
                        severity: .error, subject: path,
                        message: "neither \(directory) nor \(chroot) exists; create the directory the socket goes in")
                ]
            }
            return []
        }
        guard let problem = access.problem(bindingIn: directory) else { return [] }
        // The unit's prepare step hands a root-owned chroot `dev` over before the agent binds.
        if judgement.preparesChroots, place.user != nil, case .denied = problem, SocketDirectoryAccess.ownerUID(of: directory) == 0 {
            return []
        }
        return [
            Finding(
                severity: .warning, subject: path,
                message: "cannot be bound, so SFTP sessions logging there are not heard: "
                    + problem.fix(for: directory, account: access.subject))
        ]
    }

    /// How the session log's client paths map to watches, one line per chroot found (or the
    /// pattern, when none exists yet): what `drophook check` prints so the mapping can be seen.
    public static func sessionLogLines(_ configuration: AgentConfiguration) -> [String] {
        guard let sessionLog = configuration.sessionLog else { return [] }
        let layout = sessionLog.layout
        guard layout.chroot != nil else {
            return ["session log: paths are logged as they are on disk (no chroot); every watch can be matched"]
        }
        let roots = configuration.watchRoots
        let users = layout.chroot.map(SessionLogPaths.chrootUsers) ?? []
        let samples: [(label: String, user: String)] = users.isEmpty ? [("<user>", "<user>")] : users.map { ($0, $0) }
        return samples.map { sample in
            let real = layout.realPath(Array("/".utf8), user: sample.user, home: SessionLogPaths.home(of: sample.user))
            let watch = roots.sorted { $0.key < $1.key }.first {
                real == $0.value || real.hasPrefix($0.value + "/") || $0.value.hasPrefix(real + "/")
            }
            let target = watch.map { "watch \($0.key) (\($0.value.isEmpty ? "/" : $0.value))" } ?? "in no watch"
            return "session log: \(sample.label)'s \"/\" is \(real), \(target.hasPrefix("in no") ? target : "which lies in " + target)"
        }
    }
}
