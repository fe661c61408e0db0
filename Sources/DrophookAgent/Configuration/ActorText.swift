/// Checks an `actor:` rule as written in the config.
enum ActorText {
    /// nil when the rule is valid, otherwise what is wrong with it.
    static func problem(_ text: String) -> String? {
        if text == "owner" { return nil }
        if text.hasPrefix("path:"), let n = Int(text.dropFirst(5)), n >= 1 { return nil }
        if text.hasPrefix("fixed:"), text.count > 6 { return nil }
        return "'\(text)' is not an actor rule; use owner, path:N (N ≥ 1) or fixed:NAME"
    }
}
