/// What the SFTP server's log says about one file event: who did it, from where, and, for an
/// upload, how many bytes the session wrote and whether it was cut off.
public struct SessionAttribution: Sendable, Hashable {
    /// The SFTP login user (`session opened for local user USER`).
    public var user: String
    /// The client's address as sshd logged it (`from [ADDRESS]`).
    public var clientAddress: String
    /// Bytes the session wrote to the file (`close … written W`); nil for other operations.
    public var bytesWritten: Int64?
    /// The session ended with the file still open (`forced close`): the upload was cut off.
    public var interrupted: Bool

    public init(user: String, clientAddress: String, bytesWritten: Int64? = nil, interrupted: Bool = false) {
        self.user = user
        self.clientAddress = clientAddress
        self.bytesWritten = bytesWritten
        self.interrupted = interrupted
    }
}

/// Which session a log line belongs to: its source (one socket, file or journal) and the pid
/// of the SFTP server process. A socket source takes the pid from the kernel, so a process can
/// only ever speak for its own session.
public struct SessionKey: Sendable, Hashable {
    public var source: Int
    public var pid: Int32

    public init(source: Int, pid: Int32) {
        self.source = source
        self.pid = pid
    }
}

/// A file event as the ledger is asked about it: what inotify saw, at which real path.
public struct SessionQuery: Sendable, Hashable {
    /// What inotify reported.
    public enum Change: Sendable, Hashable {
        /// A file finished arriving (or a directory appeared); `byRename` when inotify saw it renamed here.
        case created(byRename: Bool)
        /// A file or directory went away; `byRename` when inotify saw it renamed away.
        case deleted(byRename: Bool)
        /// An upload under a temp name was abandoned.
        case failed
    }

    public var change: Change
    /// Real path, escaped text (``DrophookEvents/PathBytes``).
    public var path: String
    public var isDirectory: Bool

    public init(change: Change, path: String, isDirectory: Bool) {
        self.change = change
        self.path = path
        self.isDirectory = isDirectory
    }
}

/// A log operation that no inotify event confirmed before it expired: the two views of the
/// disk disagree (inotify's wins), counted by kind.
public enum UnconfirmedOperation: String, Sendable, Hashable, CaseIterable {
    case remove, rename, mkdir, rmdir
}
