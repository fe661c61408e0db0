/// Text compared and hashed by its UTF-8 bytes, for names and paths used as keys.
///
/// Why: `String` equality is Unicode canonical equivalence, so `"café"` spelled with U+00E9 and
/// with `e` + U+0301 are one key. On Linux they are two files (macOS clients upload the second
/// spelling), and a key that merged them would lose one of the two.
public struct ExactText: Sendable, Hashable, CustomStringConvertible {
    public let text: String

    public init(_ text: String) { self.text = text }

    public var description: String { text }

    public static func == (lhs: ExactText, rhs: ExactText) -> Bool { lhs.text.utf8.elementsEqual(rhs.text.utf8) }

    public func hash(into hasher: inout Hasher) { Self.hash(text, into: &hasher) }

    /// Feeds `text`'s UTF-8 bytes (and their count, so that concatenations differ) to `hasher`.
    public static func hash(_ text: String, into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        hasher.combine(text.utf8.count)
    }
}
