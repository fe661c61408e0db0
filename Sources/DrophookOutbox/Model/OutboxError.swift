/// Why the outbox could not open or answer: a stable ``Code`` to match on and one line naming
/// the database file and what to do (ServiceLifecycle's error shape).
public struct OutboxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is; compare with the static members.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case cannotOpen = "outbox_cannot_open"
            case corruptRow = "outbox_corrupt_row"
            case invalidEvent = "outbox_invalid_event"
            case damaged = "outbox_damaged"
            case durabilityLost = "outbox_durability_lost"
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The stable name, as logs show it.
        public var description: String { value.rawValue }

        /// The database file cannot be opened or migrated.
        public static let cannotOpen = Code(.cannotOpen)
        /// A stored row cannot be read back (written by a newer drophook).
        public static let corruptRow = Code(.corruptRow)
        /// The database file fails SQLite's integrity check (`drophook recover-outbox` rebuilds it).
        public static let damaged = Code(.damaged)
        /// A connection could not be set back to `synchronous = FULL` after a write that may
        /// skip the fsync; that write is failed so that no event commit runs without it.
        public static let durabilityLost = Code(.durabilityLost)
        /// An event handed in has no id or no watch; its batch was not stored.
        public static let invalidEvent = Code(.invalidEvent)
    }

    public let code: Code
    public let description: String

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
