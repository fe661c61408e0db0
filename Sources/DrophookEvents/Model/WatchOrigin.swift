/// Where a watch's events come from, as Rilavek payloads report it. Stamped on each event when
/// it is stored, so a queued event says what its watch was called then, whatever a reload changes.
public struct WatchOrigin: Sendable, Hashable, Codable {
    /// Rilavek `data.pipe_id`.
    public var pipeID: String
    /// Rilavek `data.protocol` (`sftp`, `ftps`, …).
    public var transferProtocol: String

    public init(pipeID: String, transferProtocol: String = "sftp") {
        self.pipeID = pipeID
        self.transferProtocol = transferProtocol
    }
}
