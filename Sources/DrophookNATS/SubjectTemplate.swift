/// The subject a NATS destination publishes an event on, e.g. `sftp.{host}.{watch}.{topic}`.
///
/// `{host}` (the SFTP host's name, the machine's by default) and `{watch}` are filled in as one
/// subject token each: a `.`, a space, `*`, `>` or a control character in them becomes `_`, so
/// `sftp-1.example.com` cannot split into three tokens or become a wildcard. `{topic}` is
/// drophook's own topic (`file.created`), whose dot makes two tokens on purpose: consumers
/// subscribe to `sftp.*.*.file.>`.
public struct SubjectTemplate: Sendable, Hashable, CustomStringConvertible {
    /// A piece of the template.
    enum Part: Sendable, Hashable {
        case literal(String)
        case host, watch, topic
    }

    let parts: [Part]
    public let description: String

    /// What is wrong with a template, in one line.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String
    }

    /// Parses `text`; a placeholder other than `{host}`, `{watch}`, `{topic}`, an empty token
    /// (`a..b`, a leading or trailing dot) or a wildcard is refused.
    public init(_ text: String) throws(Problem) {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            if open > rest.startIndex { parts.append(.literal(String(rest[..<open]))) }
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw Problem(description: "'\(text)' has a '{' without its '}'")
            }
            switch rest[rest.index(after: open)..<close] {
            case "host": parts.append(.host)
            case "watch": parts.append(.watch)
            case "topic": parts.append(.topic)
            case let other: throw Problem(description: "'\(text)' names {\(other)}; use {host}, {watch} and {topic}")
            }
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        guard !parts.isEmpty else { throw Problem(description: "the subject is empty; write e.g. sftp.{host}.{watch}.{topic}") }
        // Placeholders stand for non-empty tokens, so checking the template with stand-ins checks every subject.
        let sample = parts.map { part -> String in
            if case .literal(let text) = part { return text }
            return "x"
        }.joined()
        guard !sample.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
            throw Problem(description: "'\(text)' has an empty token (two dots in a row, or a dot at an end)")
        }
        guard !sample.unicodeScalars.contains(where: Self.isForbidden) else {
            throw Problem(
                description: "'\(text)' holds a space, '*', '>' or a control character; publish subjects are plain tokens separated by dots"
            )
        }
        self.parts = parts
        self.description = text
    }

    /// The subject for one event.
    public func subject(host: String, watch: String, topic: String) -> String {
        parts.map { part in
            switch part {
            case .literal(let text): text
            case .host: Self.token(host)
            case .watch: Self.token(watch)
            case .topic: topic
            }
        }.joined()
    }

    /// The subjects every event of this template can land on, for a stream's `subjects`:
    /// each token holding a placeholder becomes `*` (`{topic}` spans two: `*.*`).
    public var wildcard: String {
        let spelled = parts.map { part -> String in
            switch part {
            case .literal(let text): text
            case .host, .watch: "\u{1}"
            case .topic: "\u{1}.\u{1}"
            }
        }.joined()
        return spelled.split(separator: ".", omittingEmptySubsequences: false)
            .map { $0.contains("\u{1}") ? "*" : String($0) }
            .joined(separator: ".")
    }

    /// `value` as exactly one subject token.
    static func token(_ value: String) -> String {
        guard !value.isEmpty else { return "_" }
        return String(String.UnicodeScalarView(value.unicodeScalars.map { $0 == "." || isForbidden($0) ? "_" : $0 }))
    }

    private static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "*" || scalar == ">" || scalar.value < 0x20 || scalar.value == 0x7F
    }
}
