import DrophookWatch

extension AgentPreflight {
    /// Roots that cannot be watched, and the inotify watch limit (warned above 80 %).
    static func watchFindings(_ configuration: AgentConfiguration) -> [Finding] {
        WatchPreflight.check(configuration.watcherConfiguration).map { problem in
            Finding(
                severity: problem.severity == .error ? .error : .warning,
                subject: problem.path,
                message: problem.message
            )
        }
    }

    /// One line per watch saying how it decides that a file found by a scan has finished.
    public static func completionLines(_ configuration: AgentConfiguration) -> [String] {
        let watcher = configuration.watcherConfiguration
        return watcher.watches.map { watch in
            let support = WatchPreflight.completion(root: watch.root, configuration: watcher)
            switch support.mode {
            case .lease:
                return "watch \(watch.name): completion by lease (the kernel says when no writer has a file open)"
            case .stability:
                return "watch \(watch.name): completion by stability (\(watcher.scanSettle) unchanged): \(support.reason ?? "")"
            }
        }
    }
}
