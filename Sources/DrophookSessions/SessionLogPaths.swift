import Foundation

/// What the agent's `check` needs to show the session log's layout on this host.
public enum SessionLogPaths {
    /// The socket paths a `sockets:` entry stands for now (a `%u` segment: one per directory).
    public static func socketPaths(_ pattern: String) -> [String] { SocketPattern.paths(pattern) }

    /// Users whose chroot exists under a `%u` chroot pattern (`/srv/sftp/%u`: the directories
    /// in `/srv/sftp` that sshd would take as a chroot); empty when the pattern has no `%u` segment.
    public static func chrootUsers(_ pattern: String) -> [String] {
        let base = pattern.components(separatedBy: "%u").first ?? ""
        guard pattern.contains("%u"), base.hasSuffix("/") else { return [] }
        return SocketPattern.chroots(in: String(base.dropLast()).isEmpty ? "/" : String(base.dropLast())).map(\.name)
    }

    /// One socket a `sockets:` entry stands for now.
    public struct SocketPlace: Sendable, Hashable {
        /// Where the socket is bound.
        public var path: String
        /// The directory it is bound in (a chroot's `dev`).
        public var directory: String
        /// The chroot's name (its user) for a `%u` entry; nil for a fixed path.
        public var user: String?
    }

    /// The sockets a `sockets:` entry stands for now, with their directories and chroot users.
    public static func socketPlaces(_ pattern: String) -> [SocketPlace] {
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let index = segments.firstIndex(of: "%u")
        return SocketPattern.paths(pattern).map { path in
            let user = index.map { path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)[$0] }
            return SocketPlace(path: path, directory: (path as NSString).deletingLastPathComponent, user: user)
        }
    }

    /// A user's home directory, for `%h`.
    public static func home(of user: String) -> String? { SessionSender.home(of: user) }
}
