/// How the actor of an event (the user who caused it) is found.
public enum ActorRule: Sendable, Hashable, CustomStringConvertible {
    /// The file owner's user name (numeric uid when the user is unknown).
    case owner
    /// The Nth path segment below the watch root, 1-based (`/srv/sftp/%u` chroots → `path:1`).
    /// Paths with fewer segments fall back to the owner.
    case pathSegment(Int)
    /// Always this name.
    case fixed(String)

    /// Parses `owner`, `path:N` (N ≥ 1) or `fixed:NAME`.
    public init(parsing text: String) throws(ActorRuleError) {
        if text == "owner" {
            self = .owner
        } else if text.hasPrefix("path:") {
            guard let index = Int(text.dropFirst(5)), index >= 1 else {
                throw ActorRuleError(text: text, reason: "path:N needs a segment number of 1 or more, e.g. path:1")
            }
            self = .pathSegment(index)
        } else if text.hasPrefix("fixed:") {
            let name = String(text.dropFirst(6))
            guard !name.isEmpty else {
                throw ActorRuleError(text: text, reason: "fixed:NAME needs a name, e.g. fixed:partner-a")
            }
            self = .fixed(name)
        } else {
            throw ActorRuleError(text: text, reason: "use owner, path:N or fixed:NAME")
        }
    }

    public var description: String {
        switch self {
        case .owner: "owner"
        case .pathSegment(let index): "path:\(index)"
        case .fixed(let name): "fixed:\(name)"
        }
    }
}

/// An `actor:` value that is not one of the accepted forms.
public struct ActorRuleError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: String { "invalid_actor_rule" }
    public var text: String
    public var reason: String
    public var description: String { "actor rule '\(text)' is not valid: \(reason)" }
}
