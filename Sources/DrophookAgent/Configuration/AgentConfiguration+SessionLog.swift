import DrophookSessions

extension AgentConfiguration {
    /// The keys of `session_log:`.
    static let sessionLogKeys = ["source", "sockets", "relay", "file", "journal_directory", "chroot", "start_directory", "wait"]

    /// The longest `session_log.wait` accepted: every live event of a covered watch may wait this long.
    static let longestSessionWait = Duration.seconds(5)

    /// Reads `session_log:`: where OpenSSH's SFTP session log is heard and how its paths map to the disk.
    static func readSessionLog(_ value: ConfigReader.Value, reader: ConfigReader) -> SessionLog.Configuration? {
        guard let map = reader.mapping(value, allowed: sessionLogKeys),
            let sourceValue = map.required("source", "choose socket, file or journal"),
            let sourceName = reader.string(sourceValue)
        else { return nil }
        let keysOfSource: [String: [String]] = ["socket": ["sockets", "relay"], "file": ["file"], "journal": ["journal_directory"]]
        guard keysOfSource[sourceName] != nil else {
            reader.report(.invalidValue, sourceValue, "unknown source '\(sourceName)'; use socket, file or journal")
            return nil
        }
        for (other, keys) in keysOfSource where other != sourceName {
            for key in keys {
                if let stray = map[key] {
                    reader.report(.invalidValue, stray, "\(key) applies to source: \(other) only; remove it or change the source")
                }
            }
        }
        var source: SessionLog.Configuration.Source?
        switch sourceName {
        case "socket":
            if let list = map.required(
                "sockets", "list the socket paths, e.g. [/srv/sftp/%u/dev/log] or one path bind-mounted into every chroot"),
                let paths = reader.stringList(list)
            {
                for (index, path) in paths.enumerated() {
                    if let problem = socketPathProblem(path) {
                        reader.report(.invalidValue, at: list.line, key: "\(list.key)[\(index)]", problem)
                    }
                }
                if paths.isEmpty { reader.report(.invalidValue, list, "no sockets; list at least one path") }
                source = .sockets(paths)
            }
        case "file":
            if let path = map.required("file", "set the log file, e.g. /var/log/auth.log").flatMap({ reader.absolutePath($0) }) {
                source = .file(path)
            }
        default:
            source = .journal(directory: map["journal_directory"].flatMap { reader.absolutePath($0) })
        }
        var configuration = SessionLog.Configuration(source: source ?? .journal(directory: nil))
        if let value = map["relay"], let relay = reader.absolutePath(value) {
            if case .sockets(let paths) = source, paths.contains(relay) {
                reader.report(
                    .invalidValue, value,
                    "relay \(relay) is one of the sockets drophook listens on; lines would loop. Relay to the system log, e.g. /dev/log")
            }
            configuration.relay = relay
        }
        if let value = map["chroot"], let pattern = reader.string(value) {
            if let token = ChrootLayout.unknownToken(in: pattern) {
                reader.report(
                    .invalidValue, value,
                    "chroot pattern '\(pattern)' uses \(token); drophook expands %u, %h and %% (as sshd's ChrootDirectory)")
            } else if !pattern.hasPrefix("/") && !pattern.hasPrefix("%h") {
                reader.report(
                    .invalidValue, value,
                    "chroot pattern '\(pattern)' is not absolute; write it as in sshd_config's ChrootDirectory, e.g. /srv/sftp/%u")
            }
            configuration.layout.chroot = pattern
        }
        if let value = map["start_directory"], let pattern = reader.string(value) {
            if let token = ChrootLayout.unknownToken(in: pattern) {
                reader.report(.invalidValue, value, "start_directory '\(pattern)' uses \(token); drophook expands %u, %h and %%")
            }
            configuration.layout.startDirectory = pattern
        }
        if let value = map["wait"], let wait = reader.duration(value) {
            if wait > longestSessionWait {
                reader.report(
                    .invalidValue, value,
                    "wait \(wait) would hold every event that long; use at most 5s (250ms is plenty for a local socket)")
            }
            configuration.wait = wait
        }
        return source == nil ? nil : configuration
    }

    /// Why a socket path cannot be bound as given, or nil.
    static func socketPathProblem(_ path: String) -> String? {
        guard path.hasPrefix("/") else { return "socket path '\(path)' is not absolute" }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        let patterned = segments.filter { $0.contains("%") }
        if patterned.count > 1 || (patterned.count == 1 && patterned[0] != "%u") {
            return "socket path '\(path)' may hold %u only, as one whole directory name (e.g. /srv/sftp/%u/dev/log)"
        }
        // sun_path holds 108 bytes with its NUL.
        if path.utf8.count > 100 { return "socket path '\(path)' is too long for a Unix socket (keep it under 100 bytes)" }
        return nil
    }
}
