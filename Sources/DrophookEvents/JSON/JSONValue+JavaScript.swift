extension JSONValue {
    /// The value as JavaScript's `JSON.stringify` writes it after every object's keys were
    /// sorted with `Object.keys(o).sort()`: what receivers of the `timestamped` scheme recompute
    /// from the body they parsed.
    ///
    /// Differences from ``serialized()``: keys are sorted by UTF-16 code units (JavaScript's
    /// default sort, not Unicode scalars), and `\b`, `\f`, `\n`, `\r`, `\t` use their short
    /// escapes, as `JSON.stringify` does. Everything else, including non-ASCII text and `/`,
    /// is written as itself; other control characters as `\u00xx`.
    public func javaScriptSorted() -> [UInt8] {
        serialized(.javaScriptSorted)
    }

    /// An object's members as JavaScript holds a parsed object: a repeated key keeps its last
    /// value, and keys come in `Object.keys(o).sort()` order (UTF-16 code units).
    static func javaScriptOrder(_ members: [(String, JSONValue)]) -> [(String, JSONValue)] {
        var byKey: [ExactText: JSONValue] = [:]
        for (key, value) in members { byKey[ExactText(key)] = value }
        return byKey.map { ($0.key.text, $0.value) }.sorted { $0.0.utf16.lexicographicallyPrecedes($1.0.utf16) }
    }
}
