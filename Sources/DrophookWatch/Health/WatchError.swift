/// A failure of the watcher, with a stable code and a one-line description saying what to do.
public struct WatchError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: String
    public var description: String
    public init(code: String, description: String) {
        self.code = code
        self.description = description
    }
}
