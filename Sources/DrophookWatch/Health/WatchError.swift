/// A failure of the watcher: a stable ``Code`` to match on and a one-line description that says
/// what went wrong and what to do (ServiceLifecycle's error shape).
public struct WatchError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is; compare with the static members.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case inotifyUnavailable = "inotify_unavailable"
            case alreadyRunning = "watcher_already_running"
            case readerFailed = "inotify_reader_failed"
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The stable name, as logs and status show it.
        public var description: String { value.rawValue }

        /// `inotify_init1` failed (usually `fs.inotify.max_user_instances`).
        public static let inotifyUnavailable = Code(.inotifyUnavailable)
        /// ``DropTreeWatcher/run(sink:)`` was called a second time.
        public static let alreadyRunning = Code(.alreadyRunning)
        /// The inotify descriptor can no longer be read: nothing more would be heard.
        public static let readerFailed = Code(.readerFailed)
    }

    public let code: Code
    public let description: String

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
