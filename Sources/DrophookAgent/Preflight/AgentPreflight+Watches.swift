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
}
