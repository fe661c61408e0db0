/// Headers drophook sets on every request itself. A webhook's `headers:` may not replace them:
/// a stray `Content-Length: 5` would cut the body short and leave the rest on the connection,
/// and a second signature header would make receivers check the wrong one.
public enum OwnedHeaders {
    /// Set on every request, with what sets them.
    static let always: [(name: String, owner: String)] = [
        ("Content-Type", "the format's body type"),
        ("Content-Length", "the body's size"),
        ("Transfer-Encoding", "the transport"),
        ("Connection", "the transport"),
        ("Host", "the URL"),
        ("X-Drophook-Event", "the event's type"),
        ("X-Drophook-Event-Id", "the event's id"),
    ]

    /// What sets the header `name` on a webhook signed with `scheme` (and sending
    /// `authorization:` when `hasAuthorization`); nil when `headers:` may set it.
    public static func owner(of name: String, scheme: SignatureScheme, hasAuthorization: Bool) -> String? {
        let header = HTTPHeader(name, "")
        if let owned = always.first(where: { header.isNamed($0.name) }) { return owned.owner }
        if scheme.headerNames.contains(where: { header.isNamed($0) }) { return "the \(scheme.rawValue) signature" }
        if hasAuthorization, header.isNamed("Authorization") { return "authorization:" }
        return nil
    }
}
