import DrophookEvents

/// What the engine has decided to say about one path: a ``FileEvent`` without the parts that
/// are filled in when it is emitted (its id, actor and time, and a checksum read later).
struct EventDraft {
    var kind: FileEvent.Kind
    var path: String
    var isDirectory: Bool
    /// A file's size; nil for a directory, a symlink, a delete, or a size never read.
    var size: Int64?
    /// The owner the actor rule maps (``ActorResolver``).
    var uid: UInt32
    /// A scan found it, rather than a record.
    var foundByScan: Bool
    /// A rename's old path.
    var previousPath: String?
    /// One of the `deleted`/`created` pair a rename also sends.
    var partOfRename: Bool

    init(
        _ kind: FileEvent.Kind, path: String, isDirectory: Bool, size: Int64? = nil, uid: UInt32,
        foundByScan: Bool, previousPath: String? = nil, partOfRename: Bool = false
    ) {
        self.kind = kind
        self.path = path
        self.isDirectory = isDirectory
        self.size = size
        self.uid = uid
        self.foundByScan = foundByScan
        self.previousPath = previousPath
        self.partOfRename = partOfRename
    }
}
