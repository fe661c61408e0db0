/// Why a JetStream publish (or the connection under it) failed: a stable ``Code`` and one line
/// that says what to do (ServiceLifecycle's error shape).
public struct JetStreamError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is; compare with the static members.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case connect = "nats_connect"
            case noStream = "nats_no_stream"
            case noLeader = "nats_no_leader"
            case timeout = "nats_timeout"
            case rejected = "nats_rejected"
            case closed = "nats_closed"
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        public var description: String { value.rawValue }

        /// No server in the list could be reached (or the credentials were refused).
        public static let connect = Code(.connect)
        /// No stream captures the subject: the message would go nowhere.
        public static let noStream = Code(.noStream)
        /// A stream captures the subject but cannot store it now: it has no leader (an election
        /// after its leader was lost, or too few of its servers up), or JetStream itself has none.
        public static let noLeader = Code(.noLeader)
        /// The stream's acknowledgement did not come in time (a leader election, a lost server).
        public static let timeout = Code(.timeout)
        /// The stream refused the message (full, too large, a wrong expected stream).
        public static let rejected = Code(.rejected)
        /// The publisher was closed.
        public static let closed = Code(.closed)
    }

    public let code: Code
    public let description: String

    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
