import DrophookAgent

/// How `drophook status` reads on a terminal.
enum StatusFormat {
    static func text(_ status: AgentStatus) -> String {
        var lines = [
            "drophook \(status.version), pid \(status.pid): \(status.ready ? "watching" : "starting") \(status.watchedDirectories) directories, \(status.healthy ? "healthy" : "UNHEALTHY")"
        ]
        for root in status.unavailableRoots ?? [] {
            lines.append("NOT WATCHING \(root): the root is missing or was removed; it is watched again as soon as it is a directory")
        }
        if let error = status.outboxError {
            lines.append("OUTBOX: \(error)")
        }
        if let unreadable = status.unreadableDirectories {
            lines.append(
                "\(unreadable) \(unreadable == 1 ? "directory" : "directories") cannot be read by the agent; their files are not reported (see the log)"
            )
        }
        if status.inotifyOverflows > 0 {
            lines.append("inotify queue overflowed \(status.inotifyOverflows) times (recovered by rescans)")
        }
        if let needed = status.watchLimitNeeded {
            lines.append(
                "watch limit reached: raise fs.inotify.max_user_watches to at least \(needed) (sysctl -w fs.inotify.max_user_watches=\(needed))"
            )
        }
        for (watch, mode) in (status.completion ?? [:]).sorted(by: { $0.key < $1.key }) {
            lines.append("watch \(watch): completion by \(mode)")
        }
        for endpoint in status.endpoints {
            var flags: [String] = []
            if endpoint.paused { flags.append("paused") }
            if endpoint.disabled { flags.append("DISABLED") }
            lines.append(
                "\(endpoint.kind ?? "webhook") \(endpoint.name): \(endpoint.pending) pending, \(endpoint.failed) failed\(flags.isEmpty ? "" : " (\(flags.joined(separator: ", ")))")"
            )
        }
        return lines.joined(separator: "\n")
    }
}
