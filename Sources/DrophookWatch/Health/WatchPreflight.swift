import Foundation
import Glibc

/// Something `drophook check` reports about the watched trees.
public struct WatchProblem: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        case warning, error
    }

    public var severity: Severity
    /// Name of the watch concerned (empty for problems of the whole configuration).
    public var watch: String
    public var path: String
    /// One line naming the path and what to do.
    public var message: String

    public var description: String { "\(severity.rawValue): \(message)" }
}

/// Checks, before starting, that every root can be watched and that the inotify watch limit is enough.
public enum WatchPreflight {
    /// Counts the directories under each root (each needs one watch) and compares the total with
    /// `fs.inotify.max_user_watches`: a warning above 80 %, an error above 100 %.
    public static func check(
        _ configuration: WatcherConfiguration,
        maxUserWatches limit: Int? = WatchPreflight.maxUserWatches()
    ) -> [WatchProblem] {
        var problems: [WatchProblem] = []
        var names = Set<String>()
        var rootPaths: [String: String] = [:]
        for watch in configuration.watches {
            if !names.insert(watch.name).inserted {
                problems.append(
                    WatchProblem(
                        severity: .error, watch: watch.name, path: watch.root,
                        message: "watch name '\(watch.name)' is used twice; give each watch its own name"))
            }
            guard let status = FileStatus.of(path: watch.root) else {
                // Not an error: the agent watches it as soon as it appears (a mount, a later mkdir).
                problems.append(
                    WatchProblem(
                        severity: .warning, watch: watch.name, path: watch.root,
                        message:
                            "watch \(watch.name): root \(watch.root) does not exist yet; it is watched when it appears (create it, or fix the path if it is wrong)"
                    ))
                continue
            }
            guard let resolved = realpath(watch.root, nil) else { continue }
            let path = String(cString: resolved)
            free(resolved)
            guard FileStatus.of(path: path)?.kind == .directory, status.kind != .special else {
                problems.append(
                    WatchProblem(
                        severity: .error, watch: watch.name, path: watch.root,
                        message: "watch \(watch.name): root \(watch.root) is not a directory"))
                continue
            }
            guard access(path, R_OK | X_OK) == 0 else {
                problems.append(
                    WatchProblem(
                        severity: .error, watch: watch.name, path: watch.root,
                        message:
                            "watch \(watch.name): root \(watch.root) is not readable by this user; run the agent as a user that can list it"
                    ))
                continue
            }
            rootPaths[path] = watch.name
        }
        for (path, name) in rootPaths.sorted(by: { $0.key < $1.key }) {
            if let warning = remoteWritesWarning(watch: name, root: path) {
                problems.append(WatchProblem(severity: .warning, watch: name, path: path, message: warning))
            }
            let support = completion(root: path, configuration: configuration)
            if let reason = support.reason {
                problems.append(
                    WatchProblem(
                        severity: .warning, watch: name, path: path,
                        message:
                            "watch \(name): files found by a scan (new directories, catch-up) wait \(configuration.scanSettle) until they look stable, because \(reason)"
                    ))
            }
        }
        var total = 0
        for (root, name) in rootPaths {
            total += countDirectories(root: root, otherRoots: rootPaths, watch: name, problems: &problems)
        }
        if let limit {
            let suggestion = max(total * 2, limit * 2)
            if total > limit {
                problems.append(
                    WatchProblem(
                        severity: .error, watch: "", path: "/proc/sys/fs/inotify/max_user_watches",
                        message:
                            "\(total) directories need inotify watches but fs.inotify.max_user_watches is \(limit); raise it: sysctl -w fs.inotify.max_user_watches=\(suggestion)"
                    ))
            } else if total * 5 > limit * 4 {
                problems.append(
                    WatchProblem(
                        severity: .warning, watch: "", path: "/proc/sys/fs/inotify/max_user_watches",
                        message:
                            "\(total) directories need inotify watches, over 80 % of fs.inotify.max_user_watches (\(limit)); raise it: sysctl -w fs.inotify.max_user_watches=\(suggestion)"
                    ))
            }
        }
        return problems
    }

    /// How the watch rooted at `root` will decide that a file found by a scan is finished.
    public static func completion(root: String, configuration: WatcherConfiguration) -> LeaseSupport {
        completion(root: root, configuration: configuration, assess: LeaseSupport.assess(root:))
    }

    /// The same, with leases assessed by `assess` (the engine's ``DropTreeDisk``).
    static func completion(root: String, configuration: WatcherConfiguration, assess: (String) -> LeaseSupport) -> LeaseSupport {
        configuration.leases ? assess(root) : LeaseSupport(mode: .stability, reason: "leases are turned off for this agent")
    }

    /// For a root on NFS, CIFS/SMB, FUSE or 9p (`statfs`): inotify sees only what is written
    /// through this host's kernel, so files other hosts (or a FUSE daemon's back end) write are
    /// not reported. Nil on a local file system.
    public static func remoteWritesWarning(watch: String, root: String) -> String? {
        guard let kind = FileSystemType.of(path: root)?.remoteName else { return nil }
        return """
            watch \(watch): root \(root) is on \(kind); inotify sees only writes made through this host, \
            so files other hosts write there are not reported (run drophook on the host that receives the uploads)
            """
    }

    /// Directories under a root, the root included, not descending into deeper roots (counted on their own).
    static func countDirectories(root: String, otherRoots: [String: String], watch: String, problems: inout [WatchProblem]) -> Int {
        var count = 0
        var work = [root]
        while let directory = work.popLast() {
            count += 1
            switch FileStatus.list(directory: directory) {
            case .failure(let error):
                problems.append(
                    WatchProblem(
                        severity: .warning, watch: watch, path: directory,
                        message:
                            "watch \(watch): cannot list \(directory) (\(error)); files under it will not be reported until it is readable")
                )
            case .success(let entries):
                for (name, status) in entries where status.kind == .directory {
                    let path = directory + "/" + name
                    if otherRoots[path] == nil { work.append(path) }
                }
            }
        }
        return count
    }

    /// `fs.inotify.max_user_watches`, nil when unreadable.
    public static func maxUserWatches() -> Int? {
        readProcInteger("/proc/sys/fs/inotify/max_user_watches")
    }

    static func readProcInteger(_ path: String) -> Int? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { _ = close(fd) }
        var bytes = [UInt8](repeating: 0, count: 64)
        let count = read(fd, &bytes, bytes.count)
        guard count > 0 else { return nil }
        let text = String(decoding: bytes[0..<count], as: UTF8.self)
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
