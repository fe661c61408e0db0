/// What the agent's `check` needs to show the session log's layout on this host.
public enum SessionLogPaths {
    /// The socket paths a `sockets:` entry stands for now (a `%u` segment: one per directory).
    public static func socketPaths(_ pattern: String) -> [String] { SocketPattern.paths(pattern) }

    /// Users whose chroot exists under a `%u` chroot pattern (`/srv/sftp/%u`: the directories
    /// in `/srv/sftp`); empty when the pattern has no `%u` segment.
    public static func chrootUsers(_ pattern: String) -> [String] {
        let base = pattern.components(separatedBy: "%u").first ?? ""
        guard pattern.contains("%u"), base.hasSuffix("/") else { return [] }
        return SocketPattern.paths(base + "%u").map { ($0 as String).split(separator: "/").last.map(String.init) ?? "" }.filter { !$0.isEmpty }
    }

    /// A user's home directory, for `%h`.
    public static func home(of user: String) -> String? { SessionSender.home(of: user) }
}
