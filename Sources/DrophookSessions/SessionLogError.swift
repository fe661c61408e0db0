/// A session log source could not be set up. ServiceLifecycle's error shape: a stable
/// ``Code`` and a one-line description that says what to do.
public struct SessionLogError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is; compare with the static members.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case socketFailed = "session_log_socket_failed"
            case fileFailed = "session_log_file_failed"
            case journalFailed = "session_log_journal_failed"
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The stable name, as logs show it.
        public var description: String { value.rawValue }

        /// The syslog socket source could not start.
        public static let socketFailed = Code(.socketFailed)
        /// The log file source could not start.
        public static let fileFailed = Code(.fileFailed)
        /// The systemd journal could not be opened.
        public static let journalFailed = Code(.journalFailed)
    }

    public let code: Code
    public let description: String

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
