/// Why the outbox could not open or answer: one line naming the database file and what to do.
public struct OutboxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Coarse reason, stable for callers that branch on it.
    public enum Code: String, Sendable, Hashable {
        case cannotOpen
        case notFound
        case corruptRow
        case invalidEvent
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
