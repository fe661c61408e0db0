/// A stream's answer to a publish, as it gave it: which stream stored the message and at
/// which sequence. It is what an attempt into a stream records in place of an HTTP status.
public struct StreamAcknowledgement: Sendable, Hashable, CustomStringConvertible {
    /// The stream that stored the message.
    public var stream: String
    /// The message's sequence number in that stream.
    public var sequence: UInt64
    /// The stream already held a message with this id (a retry within its duplicate window):
    /// nothing new was stored.
    public var duplicate: Bool

    public init(stream: String, sequence: UInt64, duplicate: Bool = false) {
        self.stream = stream
        self.sequence = sequence
        self.duplicate = duplicate
    }

    /// How the delivery log words it: `stream SFTP, sequence 42` (`, a duplicate`).
    public var description: String {
        "stream \(stream), sequence \(sequence)\(duplicate ? ", a duplicate of one already stored" : "")"
    }
}
