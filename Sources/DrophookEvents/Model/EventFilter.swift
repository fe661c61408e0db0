/// Which events a webhook wants beyond its topics and watches: paths (globs relative to the
/// watch root, `!` for exclusions), sizes and actors. An event the filter turns away gets no
/// delivery row at all.
public struct EventFilter: Sendable {
    /// Globs an event's path must match one of; empty admits every path.
    public var includedPaths: [PathGlob]
    /// Globs (written with a leading `!`) whose paths are turned away, whatever else matches.
    public var excludedPaths: [PathGlob]
    /// Bounds in bytes, applied to events that carry a size (finished and failed files);
    /// deletions and directories have none and pass.
    public var minimumSize: Int64?
    public var maximumSize: Int64?
    /// Actors (SFTP user or owner, per the watch's `actor:` rule) admitted; nil admits all.
    public var actors: Set<String>?

    /// A filter on sizes and actors only (every path passes); with no arguments, admits everything.
    public init(minimumSize: Int64? = nil, maximumSize: Int64? = nil, actors: Set<String>? = nil) {
        self.includedPaths = []
        self.excludedPaths = []
        self.minimumSize = minimumSize
        self.maximumSize = maximumSize
        self.actors = actors
    }

    /// - Parameter paths: globs (``PathGlob``); one starting with `!` excludes what it matches.
    public init(
        paths: [String], minimumSize: Int64? = nil, maximumSize: Int64? = nil, actors: Set<String>? = nil
    ) throws(PathGlob.SyntaxError) {
        var included: [PathGlob] = []
        var excluded: [PathGlob] = []
        for text in paths {
            if text.hasPrefix("!") {
                excluded.append(try PathGlob(String(text.dropFirst())))
            } else {
                included.append(try PathGlob(text))
            }
        }
        self.includedPaths = included
        self.excludedPaths = excluded
        self.minimumSize = minimumSize
        self.maximumSize = maximumSize
        self.actors = actors
    }

    /// Whether `event` passes every part of the filter.
    public func admits(_ event: FileEvent) -> Bool {
        if !includedPaths.isEmpty, !includedPaths.contains(where: { $0.matches(event.path) }) { return false }
        if excludedPaths.contains(where: { $0.matches(event.path) }) { return false }
        if let size = event.size, !event.isDirectory, event.kind != .deleted {
            if let minimumSize, size < minimumSize { return false }
            if let maximumSize, size > maximumSize { return false }
        }
        if let actors, !actors.contains(event.actor) { return false }
        return true
    }
}
