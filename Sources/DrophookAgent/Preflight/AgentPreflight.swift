import Foundation

/// Checks that go beyond the config's syntax: can the agent actually run with it on this host?
public enum AgentPreflight {
    /// One finding of `drophook check`.
    public struct Finding: Sendable, Hashable, CustomStringConvertible {
        public enum Severity: String, Sendable { case warning, error }
        public var severity: Severity
        /// What it is about: a path, a key.
        public var subject: String
        public var message: String

        public init(severity: Severity, subject: String, message: String) {
            self.severity = severity
            self.subject = subject
            self.message = message
        }

        public var description: String { "\(severity.rawValue): \(subject): \(message)" }
    }

    /// Everything `drophook check` reports about a loaded config.
    public static func check(_ configuration: AgentConfiguration) -> [Finding] {
        var findings = stateDirectoryFindings(configuration)
        findings += secretFindings(configuration)
        findings += watchFindings(configuration)
        findings += sessionLogFindings(configuration)
        return findings
    }

    /// The problems `run` must not start with (a state directory it cannot use, a secret every
    /// user can read): the same one-line findings `check` prints.
    public static func startupErrors(_ configuration: AgentConfiguration) -> [Finding] {
        (stateDirectoryFindings(configuration) + secretFindings(configuration)).filter { $0.severity == .error }
    }

    /// What `run` logs as warnings at start: the short secrets `check` warns about.
    public static func startupWarnings(_ configuration: AgentConfiguration) -> [Finding] {
        secretFindings(configuration).filter { $0.severity == .warning }
    }

    private static func stateDirectoryFindings(_ configuration: AgentConfiguration) -> [Finding] {
        let path = configuration.stateDirectory
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                return [Finding(severity: .error, subject: path, message: "state_dir is not a directory; point state_dir at a directory")]
            }
            guard FileManager.default.isWritableFile(atPath: path) else {
                var volume = statvfs()
                if statvfs(path, &volume) == 0, volume.f_flag & UInt(ST_RDONLY) != 0 {
                    return [
                        Finding(
                            severity: .error, subject: path,
                            message: "state_dir is on a read-only file system; remount it read-write or point state_dir elsewhere")
                    ]
                }
                return [Finding(severity: .error, subject: path, message: "state_dir is not writable; give the agent's user write access")]
            }
            return []
        }
        let parent = (path as NSString).deletingLastPathComponent
        guard FileManager.default.isWritableFile(atPath: parent.isEmpty ? "/" : parent) else {
            return [
                Finding(
                    severity: .error, subject: path,
                    message: "state_dir does not exist and cannot be created; create it for the agent's user")
            ]
        }
        return []
    }
}
